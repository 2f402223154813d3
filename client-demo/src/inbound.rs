//! Turning one received binary message into a `ClientEvent`: decode (or only peek),
//! apply to the mirror, verify, count, and say which tick to ack. No I/O here, so every
//! path is unit-tested with bytes made by the shared codec.

use std::time::Duration;

use std::sync::Arc;
use tickwire_shared::codec::{decode_server, peek_snapshot_header};

use tickwire_shared::{
    Mirror, Schema, SchemaDef, ServerClock, ServerMsg, SnapshotBody, SnapshotHeader, Tick,
};

use crate::clock::PingClock;
use crate::error::ClientError;
use crate::event::{BodyCounts, ClientEvent, SnapshotEvent};
use crate::options::Mode;
use crate::stats::ClientStats;
use tickwire_shared::Welcome;

/// The receiving half of a session's state.
#[derive(Debug)]
pub(crate) struct Inbound {
    /// Mirror or count only.
    mode: Mode,
    /// The mirrored view (stays empty in `Mode::CountOnly`).
    mirror: Mirror,
    /// Stamps pings and measures pongs.
    clock: PingClock,
    /// The newest snapshot tick received, to refuse one that goes backwards.
    last_tick: Option<Tick>,
    /// The newest measured round-trip time.
    last_rtt: Option<Duration>,
    /// The server's clock and tick as the pongs of this connection say.
    server_clock: ServerClock,
    /// Snapshots received and accepted.
    snapshots: u64,
    /// Snapshots refused by the mirror (bad baseline, unknown id, checksum mismatch).
    desyncs: u64,
}

/// The outcome of one message: the event for the caller and, for a snapshot, the tick
/// to ack.
#[derive(Debug)]
pub(crate) struct Received {
    /// What happened.
    pub(crate) event: ClientEvent,
    /// The tick to ack, if the message was a snapshot.
    pub(crate) ack: Option<Tick>,
}

impl Inbound {
    /// Fresh state for a connection in `mode`.
    pub(crate) fn new(mode: Mode) -> Inbound {
        Inbound {
            mode,
            mirror: Mirror::new(no_schema()),
            clock: PingClock::start(),
            last_tick: None,
            last_rtt: None,
            server_clock: ServerClock::new(1),
            snapshots: 0,
            desyncs: 0,
        }
    }

    /// Drops the mirrored world and tick history: the next connection is a different
    /// player (or server), whose first snapshot is a full state.
    pub(crate) fn forget_world(&mut self) {
        self.mirror = Mirror::new(self.mirror.schema().clone());
        self.last_tick = None;
    }

    /// The mode.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The mirrored view.
    pub(crate) fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// The newest snapshot tick received.
    pub(crate) fn last_tick(&self) -> Option<Tick> {
        self.last_tick
    }

    /// The newest measured round-trip time.
    pub(crate) fn last_rtt(&self) -> Option<Duration> {
        self.last_rtt
    }

    /// The ping clock.
    pub(crate) fn clock(&self) -> &PingClock {
        &self.clock
    }

    /// The estimated server clock.
    pub(crate) fn server_clock(&self) -> &ServerClock {
        &self.server_clock
    }

    /// The server's tick now, as estimated.
    pub(crate) fn server_tick_now(&self) -> Option<f64> {
        self.server_clock.tick_at(self.clock.now_ms())
    }

    /// Writes this side's counters (snapshots, desyncs) into `stats`.
    pub(crate) fn fill_stats(&self, stats: &mut ClientStats) {
        stats.snapshots = self.snapshots;
        stats.desyncs = self.desyncs;
    }

    /// Reads the server's answer to `Hello`.
    pub(crate) fn on_handshake(&mut self, bytes: &[u8]) -> Result<Welcome, ClientError> {
        match decode_server(bytes)? {
            ServerMsg::Welcome(welcome) => {
                // Every connection measures its server afresh (a reconnect may land on
                // another process).
                self.server_clock = ServerClock::new(welcome.tick_hz);
                // A different game (or a first Welcome) starts the mirror afresh.
                if *self.mirror.schema() != welcome.schema {
                    self.mirror = Mirror::new(welcome.schema.clone());
                    self.last_tick = None;
                }
                Ok(welcome)
            }
            ServerMsg::Bye { code, reason } => Err(ClientError::Refused { code, reason }),
            other => Err(ClientError::Protocol(format!(
                "expected Welcome, got {}",
                variant_name(&other)
            ))),
        }
    }

    /// Handles one binary message received after `Welcome`.
    pub(crate) fn on_message(&mut self, bytes: &[u8]) -> Result<Received, ClientError> {
        if self.mode == Mode::CountOnly
            && let Some(header) = peek_snapshot_header(bytes)
        {
            return self.on_snapshot(header, None, bytes.len());
        }
        let event = match decode_server(bytes)? {
            ServerMsg::Snapshot { header, body } => {
                return self.on_snapshot(header, Some(&body), bytes.len());
            }
            ServerMsg::Chat(line) => ClientEvent::Chat(line),
            ServerMsg::Pong {
                client_time,
                server_tick,
                server_time_ms,
            } => {
                let rtt = self.clock.rtt(client_time);
                if rtt.is_some() {
                    self.last_rtt = rtt;
                    self.server_clock.on_pong(
                        client_time as f64 / 1000.0,
                        self.clock.now_ms(),
                        server_tick,
                        server_time_ms,
                    );
                }
                ClientEvent::Pong {
                    rtt,
                    server_tick,
                    server_time_ms,
                }
            }
            ServerMsg::Event { data } => ClientEvent::Game { data },
            ServerMsg::Joined(who) => ClientEvent::Joined(who),
            ServerMsg::Left(who) => ClientEvent::Left(who),
            ServerMsg::Bye { code, reason } => ClientEvent::Bye { code, reason },
            ServerMsg::Welcome(_) => {
                return Err(ClientError::Protocol(
                    "a second Welcome on the same connection".into(),
                ));
            }
        };
        Ok(Received { event, ack: None })
    }

    /// Applies (when `body` is given) and accounts for one snapshot.
    fn on_snapshot(
        &mut self,
        header: SnapshotHeader,
        body: Option<&SnapshotBody>,
        wire_bytes: usize,
    ) -> Result<Received, ClientError> {
        if let Some(last) = self.last_tick
            && !header.tick.is_after(last)
        {
            return Err(ClientError::Protocol(format!(
                "snapshot for tick {} after tick {last}",
                header.tick
            )));
        }
        let counts = match body {
            Some(body) => {
                if let Err(e) = self.mirror.apply(header.tick, header.baseline, body) {
                    self.desyncs += 1;
                    return Err(ClientError::Desync(e));
                }
                Some(BodyCounts {
                    spawns: body.spawns.len(),
                    updates: body.updates.len(),
                    despawns: body.despawns.len(),
                })
            }
            None => None,
        };
        self.last_tick = Some(header.tick);
        self.snapshots += 1;
        Ok(Received {
            event: ClientEvent::Snapshot(SnapshotEvent {
                tick: header.tick,
                baseline: header.baseline,
                input_ack: header.input_ack,
                wire_bytes,
                body: counts,
            }),
            ack: Some(header.tick),
        })
    }
}

/// A message's variant name, for error text (never its contents).
fn variant_name(msg: &ServerMsg) -> &'static str {
    match msg {
        ServerMsg::Welcome(_) => "Welcome",
        ServerMsg::Snapshot { .. } => "Snapshot",
        ServerMsg::Pong { .. } => "Pong",
        ServerMsg::Chat(_) => "Chat",
        ServerMsg::Event { .. } => "Event",
        ServerMsg::Bye { .. } => "Bye",
        ServerMsg::Joined(_) => "Joined",
        ServerMsg::Left(_) => "Left",
    }
}

/// The schema of a mirror before any Welcome: no components.
fn no_schema() -> Arc<Schema> {
    Arc::new(Schema::new(SchemaDef::default()).expect("an empty schema is valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::codec::{encode_body, encode_server, encode_snapshot};
    use tickwire_shared::{
        ApplyError, ByeCode, ComponentDef, Encoding, Entity, FieldDef, InputSeq, NetId, PlayerId,
        View, WorldSnapshot, diff,
    };

    /// One component of one small integer.
    fn schema() -> Arc<Schema> {
        let x = ComponentDef::new("X", vec![FieldDef::new("x", Encoding::int(-100, 100))]);
        Arc::new(Schema::new(SchemaDef::new("t", vec![x])).unwrap())
    }

    fn welcome() -> ServerMsg {
        ServerMsg::Welcome(Welcome {
            room: 1,
            player: PlayerId(7),
            entity: NetId(70),
            spectator: false,
            tick_hz: 30,
            tick: Tick(5),
            resume_token: "tok".into(),
            schema: schema(),
        })
    }

    /// An inbound side that has been welcomed into the test game.
    fn welcomed(mode: Mode) -> Inbound {
        let mut inb = Inbound::new(mode);
        inb.on_handshake(&encode_server(&welcome())).unwrap();
        inb
    }

    fn orb(id: u32, x: i32) -> Entity {
        Entity {
            id: NetId(id),
            components: 1,
            nums: tickwire_shared::Nums::from_slice(&[x]),
            strs: tickwire_shared::Strs::new(),
        }
    }

    fn snapshot_bytes(from: Option<&WorldSnapshot>, to: &WorldSnapshot) -> Vec<u8> {
        let header = SnapshotHeader {
            tick: to.tick,
            baseline: from.map(|f| f.tick),
            input_ack: InputSeq(3),
        };
        let body = diff(&schema(), from.map(|f| (f, View::All)), to, View::All);
        encode_snapshot(&header, &encode_body(&body))
    }

    fn worlds() -> (WorldSnapshot, WorldSnapshot) {
        let a = WorldSnapshot::new(Tick(10), vec![orb(1, 0), orb(2, 5)]);
        let b = WorldSnapshot::new(Tick(12), vec![orb(2, 9), orb(3, 1)]);
        (a, b)
    }

    #[test]
    fn mirror_mode_applies_verifies_counts_and_acks() {
        let (a, b) = worlds();
        let mut inb = welcomed(Mode::Mirror);
        let full = snapshot_bytes(None, &a);
        let r = inb.on_message(&full).unwrap();
        assert_eq!(r.ack, Some(Tick(10)));
        assert_eq!(inb.mirror().entities(), a.entities.as_slice());

        let delta = snapshot_bytes(Some(&a), &b);
        let r = inb.on_message(&delta).unwrap();
        let ClientEvent::Snapshot(s) = r.event else {
            panic!("not a snapshot: {:?}", r.event)
        };
        assert_eq!(s.span(), Some(2));
        assert_eq!(s.input_ack, InputSeq(3));
        assert_eq!(s.wire_bytes, delta.len());
        assert_eq!(
            s.body,
            Some(BodyCounts {
                spawns: 1,
                updates: 1,
                despawns: 1
            })
        );
        assert_eq!(inb.mirror().entities(), b.entities.as_slice());
        assert_eq!(inb.snapshots, 2);
    }

    #[test]
    fn a_bad_checksum_is_a_counted_desync_and_leaves_the_mirror_alone() {
        let (a, b) = worlds();
        let mut inb = welcomed(Mode::Mirror);
        inb.on_message(&snapshot_bytes(None, &a)).unwrap();
        let mut body = diff(&schema(), Some((&a, View::All)), &b, View::All);
        body.checksum ^= 0x55;
        let bad = encode_server(&ServerMsg::Snapshot {
            header: SnapshotHeader {
                tick: b.tick,
                baseline: Some(a.tick),
                input_ack: InputSeq(0),
            },
            body,
        });
        let err = inb.on_message(&bad).unwrap_err();
        assert!(matches!(
            err,
            ClientError::Desync(ApplyError::ChecksumMismatch { .. })
        ));
        assert_eq!(inb.desyncs, 1);
        assert_eq!(inb.mirror().tick(), Some(a.tick));
    }

    #[test]
    fn count_only_mode_acks_without_decoding_the_body() {
        let (a, b) = worlds();
        let mut inb = welcomed(Mode::CountOnly);
        // A delta whose baseline we never had: fine when only counting.
        let r = inb.on_message(&snapshot_bytes(Some(&a), &b)).unwrap();
        assert_eq!(r.ack, Some(b.tick));
        let ClientEvent::Snapshot(s) = r.event else {
            panic!("not a snapshot")
        };
        assert_eq!(s.body, None);
        assert!(inb.mirror().entities().is_empty());
        assert_eq!(inb.snapshots, 1);
    }

    #[test]
    fn a_snapshot_going_back_in_time_is_refused() {
        let (a, _) = worlds();
        let mut inb = welcomed(Mode::CountOnly);
        let bytes = snapshot_bytes(None, &a);
        inb.on_message(&bytes).unwrap();
        assert!(matches!(
            inb.on_message(&bytes),
            Err(ClientError::Protocol(_))
        ));
    }

    #[test]
    fn other_messages_become_events_without_acks() {
        let mut inb = welcomed(Mode::Mirror);
        let sent = inb.clock().stamp();
        let pong = encode_server(&ServerMsg::Pong {
            client_time: sent,
            server_tick: Tick(4),
            server_time_ms: 1,
        });
        let r = inb.on_message(&pong).unwrap();
        assert!(r.ack.is_none());
        assert!(matches!(r.event, ClientEvent::Pong { rtt: Some(_), .. }));
        assert!(inb.last_rtt().is_some());

        let bye = encode_server(&ServerMsg::Bye {
            code: ByeCode::ServerShutdown,
            reason: "server shutting down".into(),
        });
        assert_eq!(
            inb.on_message(&bye).unwrap().event,
            ClientEvent::Bye {
                code: ByeCode::ServerShutdown,
                reason: "server shutting down".into()
            }
        );
        assert!(matches!(
            inb.on_message(&[0xFF, 0xFF]),
            Err(ClientError::Decode(_))
        ));
    }

    #[test]
    fn the_handshake_takes_welcome_and_turns_bye_into_refused() {
        let mut inb = Inbound::new(Mode::Mirror);
        let w = inb.on_handshake(&encode_server(&welcome())).unwrap();
        assert_eq!(
            (w.player, w.entity, w.tick_hz),
            (PlayerId(7), NetId(70), 30)
        );
        assert_eq!(w.schema, schema());
        assert_eq!(inb.mirror().schema(), &schema());
        let bye = encode_server(&ServerMsg::Bye {
            code: ByeCode::ProtocolMismatch,
            reason: "protocol 9 is not 1".into(),
        });
        assert!(matches!(
            inb.on_handshake(&bye),
            Err(ClientError::Refused {
                code: ByeCode::ProtocolMismatch,
                ..
            })
        ));
        let (a, _) = worlds();
        assert!(matches!(
            inb.on_handshake(&snapshot_bytes(None, &a)),
            Err(ClientError::Protocol(_))
        ));
    }
}
