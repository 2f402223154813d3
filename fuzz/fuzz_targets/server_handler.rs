//! Fuzz target: the server's handling of one client's message stream, from a raw
//! WebSocket message to the world's input slot and the replicator's flow control —
//! everything a session does with what a client sends, minus the sockets.
//!
//! The input is a script: a config tweak, then steps of (time step, event). An event is a
//! WebSocket message (binary bytes, text, ping/pong, close, end of stream, a transport
//! error) or the server writing the next snapshot. Each message goes through
//! `wire::classify` → `guard::Guard::check` → `InputSlot::accept` / `Replicator::ack`.
//!
//! Properties: nothing panics; a message that classify passes fits the size cap; the guard
//! never accepts a Hello, undefined button bits, an over-long chat line, a stale or
//! leaping input seq; every input it accepts the slot accepts too; accepted inputs and
//! chat lines never exceed their token buckets' burst plus rate × elapsed time; the
//! replicator never has more than its window in flight, and each snapshot it writes is a
//! delta from the one before; an ending always carries a reason.

#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tickwire_server::Config;
use tickwire_server::frame::Frame;
use tickwire_server::guard::{Guard, MAX_SEQ_LEAP, Verdict};
use tickwire_server::lobby::InputSlot;
use tickwire_server::replication::{BodyCache, Replicator};
use tickwire_server::wire::{End, classify};
use tickwire_shared::codec::{decode_server, encode_client};
use tickwire_shared::{
    ByeCode, ClientMsg, Entity, EntityKind, EntityState, InputSeq, NetId, PlayerId, ServerMsg,
    Tick, WorldSnapshot, buttons,
};
use tokio_tungstenite::tungstenite;

/// The player the fuzzed session serves.
const PLAYER: PlayerId = PlayerId(1);

/// Limits drawn from the input (always valid ones), so rate edges are explored too.
fn config(u: &mut Unstructured<'_>) -> Result<Config> {
    let c = Config {
        max_message_bytes: u.int_in_range(64..=4096)?,
        input_rate_hz: u.int_in_range(1..=240)?,
        input_burst: u.int_in_range(1..=64)?,
        chat_per_minute: u.int_in_range(0..=600)?,
        chat_burst: u.int_in_range(1..=16)?,
        max_chat_chars: u.int_in_range(1..=300)?,
        tick_hz: u.int_in_range(1..=120)?,
        send_window_ms: u.int_in_range(0..=2000)?,
        ..Config::default()
    };
    assert!(
        c.validate().is_ok(),
        "the fuzzer made an invalid config: {c:?}"
    );
    Ok(c)
}

/// One thing that happens to the session.
enum Event {
    /// A WebSocket message (or the stream's end, or a transport error) from the client.
    Socket(Option<std::result::Result<Message, axum::Error>>),
    /// The tick thread published a frame and the writer may send it.
    Tick,
}

/// Encodes a client message for the socket.
fn binary(msg: &ClientMsg) -> Event {
    Event::Socket(Some(Ok(Message::Binary(encode_client(msg).into()))))
}

/// The next event. Well-formed messages near the session's state (the next input seq,
/// a tick recently written) are made often, so the guard, the slot and the replicator
/// are reached without the fuzzer first rediscovering the encoding; raw bytes stay the
/// most common event, for the decoder and classify.
fn event(u: &mut Unstructured<'_>, next_seq: u32, last_tick: u32) -> Result<Event> {
    let kind: u8 = u.arbitrary()?;
    Ok(match kind % 20 {
        8 => {
            let jump: i8 = u.arbitrary()?;
            let seq = if u.ratio(1u8, 8)? {
                u.arbitrary()?
            } else {
                next_seq.wrapping_add_signed(i32::from(jump))
            };
            binary(&ClientMsg::Input {
                seq: InputSeq(seq),
                buttons: u.arbitrary()?,
                aim: u.arbitrary()?,
            })
        }
        9 => {
            let back: u8 = u.arbitrary()?;
            binary(&ClientMsg::Ack {
                tick: Tick(last_tick.wrapping_sub(u32::from(back % 20))),
            })
        }
        10 => {
            let len = u.arbitrary_len::<u8>()?.min(400);
            let text = String::from_utf8_lossy(u.bytes(len)?).into_owned();
            binary(&ClientMsg::Chat { text })
        }
        11 => binary(&ClientMsg::Ping {
            client_time: u.arbitrary()?,
        }),
        12 => binary(&ClientMsg::Hello {
            protocol: u.arbitrary()?,
            name: String::take_from(u)?,
            resume: None,
            auth: None,
        }),
        0 => Event::Tick,
        1 => Event::Socket(Some(Ok(Message::Text(String::take_from(u)?.into())))),
        2 => Event::Socket(Some(Ok(Message::Ping(Vec::<u8>::take_from(u)?.into())))),
        3 => Event::Socket(Some(Ok(Message::Pong(Vec::<u8>::take_from(u)?.into())))),
        4 => Event::Socket(Some(Ok(Message::Close(None)))),
        5 => Event::Socket(None),
        6 => {
            let e = match u.int_in_range(0u8..=2)? {
                0 => tungstenite::Error::Capacity(
                    tungstenite::error::CapacityError::MessageTooLong {
                        size: u.arbitrary()?,
                        max_size: u.arbitrary()?,
                    },
                ),
                1 => tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::UnmaskedFrameFromClient,
                ),
                _ => tungstenite::Error::ConnectionClosed,
            };
            Event::Socket(Some(Err(axum::Error::new(e))))
        }
        7 => Event::Tick,
        // Mostly binary messages: the protocol's real input.
        _ => {
            let len = u.arbitrary_len::<u8>()?.min(5000);
            Event::Socket(Some(Ok(Message::Binary(u.bytes(len)?.to_vec().into()))))
        }
    })
}

/// Takes a length-bounded value of this type from the fuzz input.
trait TakeFrom: Sized {
    fn take_from(u: &mut Unstructured<'_>) -> Result<Self>;
}

impl TakeFrom for String {
    fn take_from(u: &mut Unstructured<'_>) -> Result<String> {
        let len = u.arbitrary_len::<u8>()?.min(200);
        Ok(String::from_utf8_lossy(u.bytes(len)?).into_owned())
    }
}

impl TakeFrom for Vec<u8> {
    fn take_from(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
        let len = u.arbitrary_len::<u8>()?.min(125);
        Ok(u.bytes(len)?.to_vec())
    }
}

/// The world at `tick`: a few orbs moving, the player's avatar, one blinking projectile.
fn frame(tick: u32) -> Frame {
    let orb = |id: u32, kind: EntityKind| Entity {
        id: NetId(id),
        state: EntityState {
            kind,
            owner: (kind != EntityKind::Orb).then_some(PLAYER),
            name: if kind == EntityKind::Player {
                "p".into()
            } else {
                "".into()
            },
            x: (tick as i32).wrapping_mul(id as i32 + 3),
            y: id as i32 * 100,
            angle: tick as u8,
            score: (tick / 7) as i32,
            hp: 1,
        },
    };
    let mut entities = vec![
        orb(1, EntityKind::Player),
        orb(2, EntityKind::Orb),
        orb(5, EntityKind::Orb),
    ];
    if tick.is_multiple_of(3) {
        entities.push(orb(9, EntityKind::Projectile));
    }
    Frame {
        snapshot: Arc::new(WorldSnapshot::new(Tick(tick), entities)),
        input_acks: vec![(PLAYER, InputSeq(tick))],
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let config = config(u)?;
    let start = Instant::now();
    let mut now = start;
    let mut guard = Guard::new(&config, now);
    let mut slot = InputSlot::default();
    let window = config.send_window_ticks() as usize;
    let mut repl = Replicator::new(PLAYER, NetId(1), config.send_window_ticks(), 0, (0, 0));
    let cache = BodyCache::default();
    let mut tick = 0u32;
    let mut written: Vec<Tick> = Vec::new();
    let mut acked_upto = 0usize;
    let (mut inputs, mut chats) = (0u64, 0u64);
    let mut last_input: Option<InputSeq> = None;

    for _ in 0..u.int_in_range(1..=400)? {
        if u.is_empty() {
            break;
        }
        // Time steps from 0 to ~65 s, mostly small.
        let step: u16 = u.arbitrary()?;
        now += Duration::from_micros(u64::from(step) * u64::from(step % 64 + 1) * 16);
        let next_seq = last_input.map_or(1, |s| s.0.wrapping_add(1));
        match event(u, next_seq, tick)? {
            Event::Tick => {
                tick += 1;
                if !repl.window_open() {
                    continue;
                }
                let Some((bytes, _)) = repl.next_message(&frame(tick), &cache) else {
                    continue;
                };
                let Ok(ServerMsg::Snapshot { header, .. }) = decode_server(&bytes) else {
                    panic!("the replicator wrote something that is not a snapshot");
                };
                assert_eq!(header.tick, Tick(tick));
                assert_eq!(
                    header.baseline,
                    written.last().copied(),
                    "not a delta from the last write"
                );
                written.push(header.tick);
                assert!(
                    written.len() - acked_upto <= window,
                    "more than the window in flight"
                );
            }
            Event::Socket(item) => {
                let msg = match classify(item, config.max_message_bytes) {
                    Ok(None) => continue,
                    Ok(Some((msg, len))) => {
                        assert!(
                            len <= config.max_message_bytes,
                            "classify passed {len} bytes"
                        );
                        msg
                    }
                    Err(End::Bye(code, reason)) => {
                        assert!(!reason.is_empty(), "Bye({code:?}) without a reason");
                        assert!(matches!(code, ByeCode::Malformed | ByeCode::TooLarge));
                        return Ok(());
                    }
                    Err(End::ClientGone | End::Io(_)) => return Ok(()),
                };
                match guard.check(now, msg) {
                    Verdict::Accept(ClientMsg::Input {
                        seq,
                        buttons: held,
                        aim,
                    }) => {
                        assert_eq!(held & !buttons::ALL, 0, "undefined button bits passed");
                        if let Some(last) = last_input {
                            let ahead = seq.since(last);
                            assert!(
                                (1..=MAX_SEQ_LEAP).contains(&ahead),
                                "seq {last:?} → {seq:?} passed"
                            );
                        }
                        last_input = Some(seq);
                        assert!(
                            slot.accept(seq, held, aim),
                            "the guard passed an input the slot refuses"
                        );
                        inputs += 1;
                        let elapsed = (now - start).as_secs_f64();
                        let allowed = f64::from(config.input_burst)
                            + f64::from(config.input_rate_hz) * elapsed
                            + 1.0;
                        assert!(
                            inputs as f64 <= allowed,
                            "{inputs} inputs passed in {elapsed} s"
                        );
                    }
                    Verdict::Accept(ClientMsg::Chat { text }) => {
                        assert!(
                            text.chars().count() <= config.max_chat_chars,
                            "an over-long chat line passed"
                        );
                        chats += 1;
                        let elapsed = (now - start).as_secs_f64();
                        let allowed = f64::from(config.chat_burst)
                            + f64::from(config.chat_per_minute) / 60.0 * elapsed
                            + 1.0;
                        assert!(
                            chats as f64 <= allowed,
                            "{chats} chat lines passed in {elapsed} s"
                        );
                    }
                    Verdict::Accept(ClientMsg::Ack { tick: t }) => {
                        repl.ack(t);
                        if let Some(i) = written[acked_upto..].iter().position(|w| *w == t) {
                            acked_upto += i + 1;
                        }
                        assert_eq!(
                            repl.window_open(),
                            written.len() - acked_upto < window,
                            "the window disagrees with the acks"
                        );
                    }
                    Verdict::Accept(ClientMsg::Ping { .. }) => {}
                    Verdict::Accept(ClientMsg::Hello { .. }) => {
                        panic!("the guard accepted a second Hello")
                    }
                    Verdict::Drop(label) => assert!(!label.is_empty()),
                    Verdict::End(code, reason) => {
                        assert!(!reason.is_empty(), "End({code:?}) without a reason");
                        assert!(
                            matches!(code, ByeCode::Malformed | ByeCode::RateLimited),
                            "{code:?}"
                        );
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
