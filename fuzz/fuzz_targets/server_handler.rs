//! Fuzz target: the server's handling of one client's message stream, from a raw
//! WebSocket message to the game's input slots and the replicator's flow control —
//! everything a session does with what a client sends, minus the sockets — against the
//! real demo game running headless.
//!
//! The input is a script: limits and the demo's settings, then steps of (time step,
//! event). An event is a WebSocket message (binary bytes, text, ping/pong, close, end of
//! stream, a transport error; often a well-formed message near the session's state, with
//! inputs carrying encoded `Controls` or arbitrary bytes), a roster change (the player's
//! connection dropping, a resume, the player leaving), or a tick: the tick thread drains
//! the input slots into a `Sim<Demo>`, steps it, and the writer sends the next snapshot.
//! Each message goes through `wire::classify` → `guard::Guard::check` →
//! `Inputs<Demo>::accept` (through `InputSink`) / `Replicator::ack`.
//!
//! Properties: nothing panics; a message that classify passes fits the size cap; the
//! guard never accepts a Hello, an over-long chat line, a stale or leaping input seq;
//! accepted inputs and chat lines never exceed their token buckets' burst plus rate ×
//! elapsed time; of the inputs the guard passes, the slots take exactly the well-formed
//! ones (a payload that is not `Controls` comes back `Malformed`, and one for a player who
//! left `NoSlot`); what a tick drains is what was accepted since the last one (the newest
//! keys and aim, a FIRE press in any of them kept, undefined key bits cleared by
//! `Demo::validate`), and each snapshot acks the newest seq taken; the replicator never has
//! more than its window in flight, and each snapshot it writes is a delta from the one
//! before, which a client mirror applies to exactly the server's view; an ending always
//! carries a reason.

#![no_main]

use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tickwire_server::games::controls::{self, Controls};
use tickwire_server::games::demo::{Demo, DemoConfig};
use tickwire_server::guard::{Guard, MAX_SEQ_LEAP, Verdict};
use tickwire_server::inputs::{InputRefused, InputSink, Inputs};
use tickwire_server::replication::{BodyCache, Replicator, Written};
use tickwire_server::tick_output::{TickOutput, Views};
use tickwire_server::wire::{End, classify};
use tickwire_server::{Config, Game, PlayerInfo, Sim};
use tickwire_shared::codec::{decode_client_value, decode_server, encode_client, encode_value};
use tickwire_shared::{ByeCode, ClientMsg, Entity, InputSeq, Mirror, PlayerId, ServerMsg, Tick};
use tokio_tungstenite::tungstenite;

/// The player the fuzzed session serves (the first one a fresh `Sim` admits).
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
        view_radius: if u.arbitrary()? {
            0
        } else {
            u.int_in_range(1..=2500)?
        },
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
    /// The tick thread ran a tick and the writer may send its frame.
    Tick,
    /// The connection dropped: the player's controls are let go (`InputSink::release`).
    Release,
    /// The player resumed: a fresh slot (`InputSink::open`), the seq numbering starts
    /// again; a player who had left joins the game again.
    Resume,
    /// The player left for good (`InputSink::close`, and the game removes the avatar).
    Leave,
}

/// Encodes a client message for the socket.
fn binary(msg: &ClientMsg) -> Event {
    Event::Socket(Some(Ok(Message::Binary(encode_client(msg).into()))))
}

/// An input's payload: mostly the encoding of some `Controls` (any key bits, any aim),
/// sometimes a near miss (truncated, or a byte too many) or arbitrary bytes.
fn payload(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut data = encode_value(&Controls::new(u.arbitrary()?, u.arbitrary()?));
    match u.int_in_range(0u8..=15)? {
        0 => {
            data.pop();
        }
        1 => data.push(u.arbitrary()?),
        2 => data = Vec::<u8>::take_from(u)?,
        _ => {}
    }
    Ok(data)
}

/// The next event. Well-formed messages near the session's state (the next input seq,
/// a tick recently written) are made often, so the guard, the slots and the replicator
/// are reached without the fuzzer first rediscovering the encoding; raw bytes stay the
/// most common event, for the decoder and classify.
fn event(u: &mut Unstructured<'_>, next_seq: u32, last_tick: u32) -> Result<Event> {
    let kind: u8 = u.arbitrary()?;
    Ok(match kind % 24 {
        8 | 13 => {
            let jump: i8 = u.arbitrary()?;
            let seq = if u.ratio(1u8, 8)? {
                u.arbitrary()?
            } else {
                next_seq.wrapping_add_signed(i32::from(jump))
            };
            let ack = if u.ratio(1u8, 4)? {
                None
            } else {
                let back: u8 = u.arbitrary()?;
                Some(Tick(last_tick.wrapping_sub(u32::from(back % 20))))
            };
            binary(&ClientMsg::Input {
                seq: InputSeq(seq),
                data: payload(u)?,
                ack,
                view: ack,
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
        0 | 7 | 14 => Event::Tick,
        15 => Event::Release,
        16 => Event::Resume,
        17 => Event::Leave,
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

/// What the player's slot should hand the next tick: the newest keys and aim accepted
/// since the last drain (or the default, "nothing held", after a fresh slot or a drop),
/// and whether any of them pressed FIRE.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    /// The newest input, as validated.
    last: Controls,
    /// Whether any input since the last drain pressed FIRE.
    fired: bool,
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let config = config(u)?;
    let demo = DemoConfig {
        npcs: u.int_in_range(0..=6)?,
        seed: u.arbitrary()?,
        ..DemoConfig::default()
    };
    let mut sim = Sim::<Demo>::new(&demo, config.tick_hz).expect("the demo's schema is valid");
    let own = sim.join_new("p");
    assert_eq!(sim.player_count(), 1);
    let schema = sim.schema().clone();

    let start = Instant::now();
    let mut now = start;
    let mut guard = Guard::new(&config, now);
    let inputs = Inputs::<Demo>::default();
    inputs.open(PLAYER);
    let mut slot_open = true;
    let mut pending = Some(Pending::default());
    let mut acked_seq = InputSeq(0);

    let window = config.send_window_ticks() as usize;
    let mut repl = Replicator::new(
        PLAYER,
        own,
        config.send_window_ticks(),
        Views::new(&schema, sim.views(), config.view_radius),
    );
    let cache = BodyCache::new(schema.clone());
    let mut client = Mirror::new(schema.clone());
    let mut written: Vec<Tick> = Vec::new();
    let mut acked_upto = 0usize;
    let (mut accepted, mut chats) = (0u64, 0u64);
    let mut last_input: Option<InputSeq> = None;

    for _ in 0..u.int_in_range(1..=400)? {
        if u.is_empty() {
            break;
        }
        // Time steps from 0 to ~65 s, mostly small.
        let step: u16 = u.arbitrary()?;
        now += Duration::from_micros(u64::from(step) * u64::from(step % 64 + 1) * 16);
        let next_seq = last_input.map_or(1, |s| s.0.wrapping_add(1));
        match event(u, next_seq, sim.tick().0)? {
            Event::Tick => {
                let mut drained: Vec<(PlayerId, Controls)> = Vec::new();
                let acks = inputs.drain(|p, input, view, _| {
                    drained.push((p, input));
                    sim.input_seen(p, input, view);
                });
                match pending.take() {
                    Some(want) => {
                        let [(p, got)] = drained[..] else {
                            panic!("drained {drained:?}, expected one input");
                        };
                        assert_eq!(p, PLAYER);
                        assert_eq!((got.buttons, got.aim), (want.last.buttons, want.last.aim));
                        assert_eq!(got.fired(), want.fired, "a FIRE press was lost or made up");
                        assert_eq!(
                            got.buttons & !controls::ALL,
                            0,
                            "undefined key bits reached the game"
                        );
                    }
                    None => assert!(
                        drained.is_empty(),
                        "drained {drained:?} with nothing pending"
                    ),
                }
                let want_acks = if slot_open {
                    vec![(PLAYER, acked_seq)]
                } else {
                    vec![]
                };
                assert_eq!(acks, want_acks, "the slots ack other seqs than they took");
                let frame = TickOutput {
                    snapshot: sim.step(),
                    input_acks: acks,
                    grid: None,
                };
                if !repl.window_open() {
                    continue;
                }
                let Some(Written { msg: bytes, .. }) = repl.next_message(&frame, &cache) else {
                    continue;
                };
                let Ok(ServerMsg::Snapshot { header, body }) = decode_server(&bytes) else {
                    panic!("the replicator wrote something that is not a snapshot");
                };
                assert_eq!(header.tick, frame.tick());
                assert_eq!(header.input_ack, frame.input_ack(PLAYER));
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
                client
                    .apply(header.tick, header.baseline, &body)
                    .unwrap_or_else(|e| panic!("the client could not apply a snapshot: {e}"));
                let held = repl.baseline().expect("a snapshot was just written");
                let (snapshot, view) = (held.snapshot(), held.view());
                let seen: Vec<Entity> = snapshot
                    .entities
                    .iter()
                    .filter(|e| view.contains(&schema, e))
                    .cloned()
                    .collect();
                assert_eq!(
                    client.entities(),
                    seen.as_slice(),
                    "the client's view is not the server's"
                );
            }
            Event::Release => {
                inputs.release(PLAYER);
                if slot_open {
                    pending = Some(Pending::default());
                }
            }
            Event::Resume => {
                inputs.open(PLAYER);
                // A resumed client is a new session, with a guard of its own.
                guard = Guard::new(&config, now);
                last_input = None;
                if !slot_open {
                    let info = PlayerInfo {
                        id: PLAYER,
                        name: "p".into(),
                        entity: own,
                    };
                    assert!(sim.join(&info), "a player who left could not join again");
                }
                slot_open = true;
                pending = Some(Pending::default());
                acked_seq = InputSeq(0);
            }
            Event::Leave => {
                inputs.close(PLAYER);
                if slot_open {
                    assert!(
                        sim.leave(PLAYER).is_some(),
                        "a present player could not leave"
                    );
                }
                slot_open = false;
                pending = None;
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
                        seq, data, view, ..
                    }) => {
                        if let Some(last) = last_input {
                            let ahead = seq.since(last);
                            assert!(
                                (1..=MAX_SEQ_LEAP).contains(&ahead),
                                "seq {last:?} → {seq:?} passed"
                            );
                        }
                        last_input = Some(seq);
                        accepted += 1;
                        let elapsed = (now - start).as_secs_f64();
                        let allowed = f64::from(config.input_burst)
                            + f64::from(config.input_rate_hz) * elapsed
                            + 1.0;
                        assert!(
                            accepted as f64 <= allowed,
                            "{accepted} inputs passed in {elapsed} s"
                        );
                        let typed = decode_client_value::<Controls>(&data);
                        match (typed, inputs.accept(PLAYER, seq, &data, view)) {
                            (Err(_), Err(InputRefused::Malformed(why))) => {
                                assert!(!why.is_empty(), "Malformed without a reason");
                                // The session ends with Bye(Malformed).
                                return Ok(());
                            }
                            (Ok(_), Err(InputRefused::NoSlot)) if !slot_open => {}
                            (Ok(c), Ok(())) if slot_open => {
                                let v = Demo::validate(c).expect("the demo refuses no input");
                                assert_eq!(
                                    v.buttons,
                                    c.buttons & controls::ALL,
                                    "validate kept undefined bits"
                                );
                                assert_eq!(v.aim, c.aim, "validate changed the aim");
                                let fired = pending.is_some_and(|p| p.fired);
                                pending = Some(Pending {
                                    last: v,
                                    fired: fired || v.buttons & controls::FIRE != 0,
                                });
                                acked_seq = seq;
                            }
                            (typed, got) => panic!(
                                "input {data:?} (as Controls: {typed:?}, slot open: {slot_open}) gave {got:?}"
                            ),
                        }
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
