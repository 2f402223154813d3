//! Attacks with bytes that are not the protocol: random bytes, truncated messages,
//! length prefixes claiming gigabytes (in the codec and in the WebSocket frame header),
//! text frames, and messages over the size cap. Each is made before Hello and again
//! from a player in the middle of a game.

use std::time::Duration;

use futures_util::SinkExt;
use futures_util::future::join_all;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tickwire_shared::codec::encode_client;
use tickwire_shared::{ByeCode, ClientMsg, InputSeq};
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::rawws::{Seen, Ws, frame, fresh_ip, read_seen, send_bin, send_raw, ws_from};
use crate::report::{Row, tally};

/// What an attacking connection sends.
#[derive(Clone, Debug)]
pub enum Payload {
    /// One binary message.
    Binary(Vec<u8>),
    /// One text message.
    Text(String),
    /// Bytes written straight to TCP (hand-made frames).
    Raw(Vec<u8>),
}

/// When the attack comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Right after the upgrade, instead of Hello.
    BeforeHello,
    /// From a welcomed player.
    InGame,
}

/// Opens a connection (joining first for `InGame`), sends `payload`, and reads what the
/// server does about it for at most `limit`.
pub async fn strike(ctx: &Ctx, stage: Stage, payload: Payload, limit: Duration) -> Seen {
    let mut ws: Ws = match stage {
        Stage::BeforeHello => match ws_from(fresh_ip(), ctx.addr, None).await {
            Ok(ws) => ws,
            Err(e) => return Seen::failed(e),
        },
        Stage::InGame => match ctx.join("attacker").await {
            Ok(ws) => ws,
            Err(e) => return Seen::failed(e),
        },
    };
    // A send may fail once the server has hung up mid-message: what matters is what it
    // said, so go on and read.
    match payload {
        Payload::Binary(b) => {
            let _ = tokio::time::timeout(Duration::from_secs(2), send_bin(&mut ws, b)).await;
        }
        Payload::Text(t) => {
            let send = ws.send(Message::Text(t.into()));
            let _ = tokio::time::timeout(Duration::from_secs(2), send).await;
        }
        Payload::Raw(bytes) => {
            let _ = tokio::time::timeout(Duration::from_secs(2), send_raw(&mut ws, &bytes)).await;
        }
    }
    read_seen(&mut ws, limit, false).await
}

/// Runs every (stage, payload) at once; checks each ends with Bye `code` and close
/// `close`; fills the row's scale and response.
pub async fn expect_all(
    ctx: &Ctx,
    row: &mut Row,
    cases: Vec<(Stage, Payload)>,
    code: ByeCode,
    close: u16,
) {
    let n = cases.len();
    let seen: Vec<Seen> = join_all(cases.into_iter().map(|(stage, payload)| {
        let shown = match &payload {
            Payload::Binary(b) => format!("{stage:?} binary {} B", b.len()),
            Payload::Text(t) => format!("{stage:?} text {} B", t.len()),
            Payload::Raw(b) => format!("{stage:?} raw {} B", b.len()),
        };
        async move {
            let s = strike(ctx, stage, payload, Duration::from_secs(5)).await;
            (shown, s)
        }
    }))
    .await
    .into_iter()
    .map(|(shown, s)| {
        row.check(s.is_bye(code, close), || {
            format!(
                "{shown}: expected Bye {code:?} + close {close}, got {}",
                s.describe()
            )
        });
        s
    })
    .collect();
    row.scale = format!("{n} connections");
    let slowest = seen.iter().map(|s| s.after).max().unwrap_or_default();
    row.response = format!(
        "{} (slowest answer {} ms)",
        tally(seen.iter().map(Seen::describe).collect::<Vec<_>>().iter()),
        slowest.as_millis()
    );
}

/// Random bytes that can never decode: the first byte is not a message variant.
fn garbage(rng: &mut SmallRng) -> Vec<u8> {
    let len = rng.random_range(1..=600);
    let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
    bytes[0] = rng.random_range(5..=250);
    bytes
}

/// Random bytes (never a valid message) instead of Hello and from a player in game:
/// Bye Malformed, close 1002.
pub async fn random_bytes(ctx: &Ctx) -> Row {
    let mut row = Row::new("random bytes");
    let mut rng = SmallRng::seed_from_u64(0x7157);
    let mut cases = Vec::new();
    for i in 0..60 {
        let stage = if i % 3 == 0 {
            Stage::InGame
        } else {
            Stage::BeforeHello
        };
        cases.push((stage, Payload::Binary(garbage(&mut rng))));
    }
    expect_all(ctx, &mut row, cases, ByeCode::Malformed, 1002).await;
    row
}

/// A Hello and an Input cut short at every length: Bye Malformed, close 1002. Half a
/// frame and then silence: the Hello deadline or the idle timeout ends it.
pub async fn truncated(ctx: &Ctx) -> Row {
    let mut row = Row::new("truncated messages");
    let hello = crate::rawws::hello("cut", Some(ctx.token("cut")), None);
    let input = encode_client(&ClientMsg::Input {
        seq: InputSeq(70_000),
        data: tickwire_shared::codec::encode_value(
            &tickwire_server::games::controls::Controls::new(3, 40_000),
        ),
        ack: Some(tickwire_shared::Tick(70_000)),
        view: Some(tickwire_shared::Tick(69_990)),
    });
    let mut cases = Vec::new();
    for cut in [
        1,
        2,
        3,
        5,
        hello.len() / 2,
        hello.len() - 2,
        hello.len() - 1,
    ] {
        cases.push((Stage::BeforeHello, Payload::Binary(hello[..cut].to_vec())));
    }
    for cut in 1..input.len() {
        cases.push((Stage::InGame, Payload::Binary(input[..cut].to_vec())));
    }
    expect_all(ctx, &mut row, cases, ByeCode::Malformed, 1002).await;

    // A frame cut off mid-payload, then silence: the server must not wait for the rest
    // forever. Before Hello the Hello deadline ends it; in game, the idle timeout.
    let half = frame(0x2, true, 40, &[1, 2, 3, 4, 5]);
    let cut: Vec<Seen> = join_all([Stage::BeforeHello, Stage::InGame].map(|stage| {
        strike(
            ctx,
            stage,
            Payload::Raw(half.clone()),
            Duration::from_secs(6),
        )
    }))
    .await;
    for s in &cut {
        row.check(s.is_bye(ByeCode::Timeout, 1008), || {
            format!(
                "half a frame then silence: expected Bye Timeout + close 1008, got {}",
                s.describe()
            )
        });
    }
    row.response.push_str(&format!(
        "; half a frame then silence: {}",
        tally(cut.iter().map(Seen::describe).collect::<Vec<_>>().iter())
    ));
    row
}

/// Length prefixes claiming gigabytes, in the codec (Bye Malformed, 1002) and in the
/// WebSocket frame header (Bye TooLarge, 1009), answered without waiting or allocating.
pub async fn giant_lengths(ctx: &Ctx) -> Row {
    let mut row = Row::new("length prefixes claiming gigabytes");
    // In the codec: a Hello whose name claims 4 GiB (varint marker 252 + u32), a Chat
    // whose text claims 2^62 bytes (marker 253 + u64).
    let mut hello = vec![0u8, 1, 252];
    hello.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut chat = vec![4u8, 253];
    chat.extend_from_slice(&(1u64 << 62).to_le_bytes());
    expect_all(
        ctx,
        &mut row,
        vec![
            (Stage::BeforeHello, Payload::Binary(hello)),
            (Stage::InGame, Payload::Binary(chat)),
        ],
        ByeCode::Malformed,
        1002,
    )
    .await;
    let codec = std::mem::take(&mut row.response);

    // In the WebSocket frame header: 4 GiB, 2^63 − 1 and 64 KiB claimed, a few bytes sent.
    let mut frames = Vec::new();
    for claimed in [1u64 << 32, (1u64 << 63) - 1, 0xFFFF] {
        for stage in [Stage::BeforeHello, Stage::InGame] {
            frames.push((stage, Payload::Raw(frame(0x2, true, claimed, b"tickwire"))));
        }
    }
    expect_all(ctx, &mut row, frames, ByeCode::TooLarge, 1009).await;
    row.scale = "8 connections".into();
    row.response = format!("codec: {codec}; frame header: {}", row.response);
    row
}

/// Text frames, before Hello and in game: Bye Malformed, close 1002.
pub async fn text_frames(ctx: &Ctx) -> Row {
    let mut row = Row::new("text frames");
    let cases = vec![
        (Stage::BeforeHello, Payload::Text("{\"hello\":1}".into())),
        (Stage::BeforeHello, Payload::Text(String::new())),
        (Stage::InGame, Payload::Text("input up".into())),
        (Stage::InGame, Payload::Text("é".repeat(300))),
    ];
    expect_all(ctx, &mut row, cases, ByeCode::Malformed, 1002).await;
    row
}

/// Messages over the size cap, whole or in fragments: Bye TooLarge, close 1009.
pub async fn oversize(ctx: &Ctx) -> Row {
    let mut row = Row::new("frames over the size cap");
    let cap = ctx.config.max_message_bytes;
    let mut cases = Vec::new();
    for size in [cap + 1, 4 * 1024, 64 * 1024, 1024 * 1024] {
        for stage in [Stage::BeforeHello, Stage::InGame] {
            cases.push((stage, Payload::Binary(vec![3u8; size])));
        }
    }
    // A message under the cap per frame but over it in total: three continuation frames.
    let part = vec![0u8; cap / 2 + 1];
    let mut fragmented = frame(0x2, false, part.len() as u64, &part);
    fragmented.extend(frame(0x0, false, part.len() as u64, &part));
    fragmented.extend(frame(0x0, true, part.len() as u64, &part));
    cases.push((Stage::InGame, Payload::Raw(fragmented)));
    expect_all(ctx, &mut row, cases, ByeCode::TooLarge, 1009).await;
    row
}
