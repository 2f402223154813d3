//! The outgoing queue: encoded messages waiting for the socket to accept them, and the
//! acks that ride on them.
//!
//! An ack says "the newest tick applied", so it is filled in only when a message leaves:
//! an input carries the newest applied tick, and a standalone `Ack` goes out only when
//! no message has carried that tick for `ACK_GRACE`, or `UNACKED_LIMIT` snapshots have
//! been applied since one did (a playing client sends inputs more often than either, so
//! it sends one message where it would send two). Everything else
//! keeps its order, up to a fixed bound.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tickwire_shared::codec::encode_client;
use tickwire_shared::{ClientMsg, InputSeq, Tick};

/// Most messages that may wait; past this the server has stopped reading for a long time.
pub(crate) const OUTBOX_LIMIT: usize = 256;

/// How long a newly applied tick may wait for an input to carry it before a standalone
/// `Ack` does. Well inside the server's send window (500 ms by default), so a client
/// that sends no inputs never stalls its snapshots.
pub(crate) const ACK_GRACE: Duration = Duration::from_millis(100);

/// Snapshots that may be applied before a standalone ack goes out at once, grace or
/// not: a burst (a client catching up after a stall) is acked as it is read, so the
/// server's send window reopens before it fills.
pub(crate) const UNACKED_LIMIT: u32 = 4;

/// A queued message.
#[derive(Debug, PartialEq, Eq)]
enum Queued {
    /// An input, encoded when it leaves, with the newest applied tick as its ack.
    Input {
        /// Its seq.
        seq: InputSeq,
        /// The game's encoded input.
        data: Vec<u8>,
        /// The tick the player was looking at when they made it.
        view: Option<Tick>,
    },
    /// A standalone ack of the newest applied tick, encoded when it leaves.
    Ack,
    /// Any other message, already encoded.
    Bytes(Vec<u8>),
}

/// Messages not yet handed to the WebSocket sink, oldest first, and what has been acked.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// The queue.
    queue: VecDeque<Queued>,
    /// The newest snapshot tick applied.
    applied: Option<Tick>,
    /// The newest tick a message that left carried, and when it left.
    carried: Option<(Tick, Instant)>,
    /// Snapshots applied since a message last carried an ack.
    uncarried: u32,
}

/// The queue is at `OUTBOX_LIMIT`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

impl Outbox {
    /// Queues a message (not an input or an ack; use `push_input` and `applied`).
    pub(crate) fn push(&mut self, msg: &ClientMsg) -> Result<(), Full> {
        self.push_queued(Queued::Bytes(encode_client(msg)))
    }

    /// Queues an input made while the player looked at tick `view`; it leaves carrying
    /// the newest applied tick.
    pub(crate) fn push_input(
        &mut self,
        seq: InputSeq,
        data: Vec<u8>,
        view: Option<Tick>,
    ) -> Result<(), Full> {
        self.push_queued(Queued::Input { seq, data, view })
    }

    fn push_queued(&mut self, q: Queued) -> Result<(), Full> {
        if self.queue.len() >= OUTBOX_LIMIT {
            return Err(Full);
        }
        self.queue.push_back(q);
        Ok(())
    }

    /// Notes that snapshot `tick` has been applied at `now`, and queues a standalone ack
    /// if one is due (see `ack_if_due`); returns whether it did.
    pub(crate) fn applied(&mut self, tick: Tick, now: Instant) -> bool {
        self.applied = Some(tick);
        self.uncarried = self.uncarried.saturating_add(1);
        self.ack_if_due(now)
    }

    /// When a standalone ack of the newest applied tick falls due, if no input carries
    /// it first: `ACK_GRACE` after the last message that carried an ack (at once on a
    /// connection's first snapshot, so `now`). `None` while nothing new waits to be
    /// acked, or a queued message will carry it.
    pub(crate) fn ack_deadline(&self, now: Instant) -> Option<Instant> {
        let applied = self.applied?;
        let will_carry = self
            .queue
            .iter()
            .any(|q| matches!(q, Queued::Input { .. } | Queued::Ack));
        match self.carried {
            _ if will_carry => None,
            None => Some(now),
            Some((carried, _)) if carried == applied => None,
            Some(_) if self.uncarried >= UNACKED_LIMIT => Some(now),
            Some((_, at)) => Some(at + ACK_GRACE),
        }
    }

    /// Queues a standalone ack if its deadline has come by `now`; returns whether it
    /// did. Acks never fail: with the queue full, the next input carries it.
    pub(crate) fn ack_if_due(&mut self, now: Instant) -> bool {
        let due = self.ack_deadline(now).is_some_and(|at| at <= now);
        if !due || self.queue.len() >= OUTBOX_LIMIT {
            return false;
        }
        self.queue.push_back(Queued::Ack);
        true
    }

    /// True when nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many messages wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Takes the oldest message, encoded, as it leaves at `now`.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<Vec<u8>> {
        loop {
            let msg = match self.queue.pop_front()? {
                Queued::Bytes(b) => return Some(b),
                Queued::Input { seq, data, view } => ClientMsg::Input {
                    seq,
                    data,
                    ack: self.applied,
                    view,
                },
                Queued::Ack => match self.applied {
                    // An input that left since has carried it already.
                    Some(tick) if self.carried.is_none_or(|(c, _)| c != tick) => {
                        ClientMsg::Ack { tick }
                    }
                    _ => continue,
                },
            };
            if let Some(tick) = self.applied {
                self.carried = Some((tick, now));
                self.uncarried = 0;
            }
            return Some(encode_client(&msg));
        }
    }

    /// Drops everything (the connection is gone); the next connection acks afresh.
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.carried = None;
        self.uncarried = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::codec::decode_client;

    fn drain(o: &mut Outbox, now: Instant) -> Vec<ClientMsg> {
        std::iter::from_fn(|| o.pop(now))
            .map(|b| decode_client(&b).unwrap())
            .collect()
    }

    fn input(seq: u32, ack: Option<u32>) -> ClientMsg {
        ClientMsg::Input {
            seq: InputSeq(seq),
            data: vec![seq as u8],
            ack: ack.map(Tick),
            view: None,
        }
    }

    #[test]
    fn inputs_carry_the_newest_applied_tick_and_make_standalone_acks_needless() {
        let t0 = Instant::now();
        let mut o = Outbox::default();
        // The first snapshot is acked at once: the server sends full states until then.
        assert!(o.applied(Tick(1), t0));
        assert_eq!(drain(&mut o, t0), vec![ClientMsg::Ack { tick: Tick(1) }]);
        // Inputs every 50 ms carry each newer tick; no Ack goes out.
        let ms = |n| t0 + Duration::from_millis(n);
        for (i, at) in [(2u32, 33), (3, 66), (4, 99), (5, 133)] {
            assert!(!o.applied(Tick(i), ms(at)), "tick {i}");
            if i % 2 == 1 {
                // The view rides along as it was when the input was made.
                o.push_input(InputSeq(i), vec![i as u8], Some(Tick(i - 1)))
                    .unwrap();
                let carried = ClientMsg::Input {
                    seq: InputSeq(i),
                    data: vec![i as u8],
                    ack: Some(Tick(i)),
                    view: Some(Tick(i - 1)),
                };
                assert_eq!(drain(&mut o, ms(at + 1)), vec![carried]);
            }
        }
        assert!(o.is_empty());
    }

    #[test]
    fn without_inputs_an_ack_goes_out_once_the_grace_has_passed() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut o = Outbox::default();
        assert!(o.applied(Tick(1), t0));
        drain(&mut o, t0);
        assert!(!o.applied(Tick(2), ms(33)));
        assert!(!o.applied(Tick(3), ms(66)));
        assert!(o.applied(Tick(4), ms(100)));
        assert_eq!(
            drain(&mut o, ms(100)),
            vec![ClientMsg::Ack { tick: Tick(4) }]
        );
        // A tick already carried is not acked again, however long it has been.
        assert!(!o.applied(Tick(4), ms(500)));
    }

    #[test]
    fn a_queued_ack_an_input_overtook_is_skipped_and_a_waiting_one_takes_the_newest_tick() {
        let t0 = Instant::now();
        let mut o = Outbox::default();
        assert!(o.applied(Tick(1), t0));
        o.push(&ClientMsg::Ping { client_time: 9 }).unwrap();
        // Applied while the ack still waits: it leaves with the newer tick.
        assert!(!o.applied(Tick(2), t0));
        o.push_input(InputSeq(1), vec![1], None).unwrap();
        assert_eq!(
            drain(&mut o, t0),
            vec![
                ClientMsg::Ack { tick: Tick(2) },
                ClientMsg::Ping { client_time: 9 },
                input(1, Some(2)),
            ]
        );
        // An input queued before the ack is due carries it; the ack queued behind it
        // has nothing left to say.
        let later = t0 + ACK_GRACE;
        o.push_input(InputSeq(2), vec![2], None).unwrap();
        o.queue.push_back(Queued::Ack);
        assert!(!o.applied(Tick(3), later));
        assert_eq!(drain(&mut o, later), vec![input(2, Some(3))]);
    }

    #[test]
    fn the_deadline_says_when_an_uncarried_tick_must_be_acked() {
        let t0 = Instant::now();
        let mut o = Outbox::default();
        assert_eq!(o.ack_deadline(t0), None, "nothing applied, nothing to ack");
        assert!(o.applied(Tick(1), t0));
        drain(&mut o, t0);
        assert_eq!(o.ack_deadline(t0), None, "everything applied is acked");
        // A burst of snapshots right after an ack: none is acked at once, but the
        // newest must be by the deadline, even if no snapshot or input comes again.
        assert!(!o.applied(Tick(2), t0));
        assert!(!o.applied(Tick(3), t0));
        assert_eq!(o.ack_deadline(t0), Some(t0 + ACK_GRACE));
        assert!(!o.ack_if_due(t0 + ACK_GRACE - Duration::from_millis(1)));
        assert!(o.ack_if_due(t0 + ACK_GRACE));
        assert_eq!(o.ack_deadline(t0), None, "the queued ack will carry it");
        assert_eq!(
            drain(&mut o, t0 + ACK_GRACE),
            vec![ClientMsg::Ack { tick: Tick(3) }]
        );
        // An input queued in time carries it instead.
        assert!(!o.applied(Tick(4), t0 + ACK_GRACE));
        o.push_input(InputSeq(1), vec![1], None).unwrap();
        assert_eq!(o.ack_deadline(t0), None);
    }

    #[test]
    fn a_burst_is_acked_every_few_snapshots_however_fast_it_is_read() {
        let t0 = Instant::now();
        let mut o = Outbox::default();
        assert!(o.applied(Tick(1), t0));
        drain(&mut o, t0);
        let mut acked = Vec::new();
        for tick in 2..=13 {
            if o.applied(Tick(tick), t0) {
                acked.extend(drain(&mut o, t0));
            }
        }
        let n = UNACKED_LIMIT;
        assert_eq!(
            acked,
            [1 + n, 1 + 2 * n, 1 + 3 * n].map(|t| ClientMsg::Ack { tick: Tick(t) })
        );
    }

    #[test]
    fn the_queue_is_bounded_and_a_new_connection_acks_afresh() {
        let t0 = Instant::now();
        let mut o = Outbox::default();
        for i in 0..OUTBOX_LIMIT {
            o.push(&ClientMsg::Ping {
                client_time: i as u64,
            })
            .unwrap();
        }
        assert_eq!(o.push(&ClientMsg::Ping { client_time: 0 }), Err(Full));
        assert_eq!(o.push_input(InputSeq(1), vec![], None), Err(Full));
        assert!(!o.applied(Tick(5), t0));
        assert_eq!(o.len(), OUTBOX_LIMIT);
        o.clear();
        assert!(o.is_empty());
        assert!(
            o.applied(Tick(5), t0),
            "a new connection's first snapshot is acked"
        );
    }
}
