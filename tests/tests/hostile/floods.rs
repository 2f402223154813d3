//! Floods from welcomed players: inputs and chat as fast as the socket takes them (the
//! server drops the excess and then disconnects), inputs at twice the allowed rate (dropped,
//! never disconnected) and over-long chat lines (dropped, never broadcast).

use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use tickwire_server::games::controls::Controls;
use tickwire_shared::codec::encode_client;
use tickwire_shared::codec::encode_value;
use tickwire_shared::{ByeCode, ClientMsg, InputSeq};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::rawws::{Seen, Ws, read_seen};
use crate::report::{Row, metric, tally};

fn input(seq: u32) -> Message {
    Message::Binary(
        encode_client(&ClientMsg::Input {
            seq: InputSeq(seq),
            data: encode_value(&Controls::new(8, 0)),
            ack: None,
            view: None,
        })
        .into(),
    )
}

/// Sends `message(i)` for i = 1, 2, … every `every` (or as fast as possible for zero),
/// for at most `limit`, while reading what the server says; returns what was read and
/// how many messages went out.
async fn pump(
    ws: Ws,
    every: Duration,
    limit: Duration,
    message: impl Fn(u32) -> Message,
) -> (Seen, u32) {
    let (mut sink, mut stream) = ws.split();
    let mut sent = 0u32;
    let writer = async {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if sink.send(message(sent + 1)).await.is_err() {
                break;
            }
            sent += 1;
            if every.is_zero() {
                // Let the reader run now and then.
                if sent.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            } else {
                tokio::time::sleep(every).await;
            }
        }
        // Keep the socket open until the reader is done.
        std::future::pending::<()>().await;
    };
    let seen = tokio::select! {
        seen = read_seen(&mut stream, limit + Duration::from_millis(300), false) => seen,
        () = writer => unreachable!("the writer never finishes"),
    };
    (seen, sent)
}

/// `count` players named `prefix0`, `prefix1`, … each send `message(i)` as fast as the
/// socket takes it, for up to 5 s; each must be told Bye RateLimited with close 1008.
/// `what` names the messages in a failure.
async fn floods_are_cut_off(
    ctx: &Ctx,
    row: &mut Row,
    count: u32,
    prefix: &str,
    what: &str,
    message: impl Fn(u32) -> Message + Copy,
) -> Floods {
    let floods: Vec<(Seen, u32)> = join_all((0..count).map(|i| async move {
        match ctx.join(&format!("{prefix}{i}")).await {
            Ok(ws) => pump(ws, Duration::ZERO, Duration::from_secs(5), message).await,
            Err(e) => (Seen::failed(e), 0),
        }
    }))
    .await;
    for (s, sent) in &floods {
        row.check(s.is_bye(ByeCode::RateLimited, 1008), || {
            format!(
                "a flood of {sent} {what}: expected Bye RateLimited + close 1008, got {}",
                s.describe()
            )
        });
    }
    Floods {
        most_sent: floods.iter().map(|(_, n)| *n).max().unwrap_or_default(),
        slowest: floods
            .iter()
            .map(|(s, _)| s.after)
            .max()
            .unwrap_or_default(),
        outcomes: tally(
            floods
                .iter()
                .map(|(s, _)| s.describe())
                .collect::<Vec<_>>()
                .iter(),
        ),
    }
}

/// What a set of flooders came to.
struct Floods {
    /// The most messages one flooder got out.
    most_sent: u32,
    /// The longest any flooder took to be cut off.
    slowest: Duration,
    /// Each distinct outcome, with how many flooders had it.
    outcomes: String,
}

/// Inputs as fast as the socket takes them (Bye RateLimited, 1008) and at twice the
/// allowed rate (excess dropped and counted, never disconnected).
pub async fn input_flood(ctx: &Ctx) -> Row {
    let mut row = Row::new("input flood");
    let before = ctx.metrics();
    // Five players sending inputs as fast as they can.
    let floods = floods_are_cut_off(ctx, &mut row, 5, "flooder", "inputs", input).await;
    // One player at twice the allowed rate for 1.5 s: the excess is dropped, and that is
    // all — it stays connected.
    let every = Duration::from_secs_f64(0.5 / f64::from(ctx.config.input_rate_hz));
    let (eager, eager_sent) = match ctx.join("eager").await {
        Ok(ws) => pump(ws, every, Duration::from_millis(1500), input).await,
        Err(e) => (Seen::failed(e), 0),
    };
    row.check(eager.bye.is_none() && eager.snapshots > 0, || {
        format!(
            "twice the input rate for 1.5 s should only be throttled, got {}",
            eager.describe()
        )
    });
    let dropped = metric(
        &ctx.metrics(),
        "tickwire_messages_dropped_total",
        "reason=\"input_rate\"",
    ) - metric(
        &before,
        "tickwire_messages_dropped_total",
        "reason=\"input_rate\"",
    );
    row.check(dropped > 0.0, || {
        "no input was counted as dropped for its rate".into()
    });
    let most = floods.most_sent;
    row.scale = format!("5 floods (up to {most} inputs each) + 1 at 2× rate ({eager_sent} inputs)");
    row.response = format!(
        "floods: {} within {} ms; 2× rate: {} inputs dropped, stayed connected ({} snapshots)",
        floods.outcomes,
        floods.slowest.as_millis(),
        dropped,
        eager.snapshots
    );
    row
}

/// Names of the chat flooders, so the normal player's chat log can be checked.
pub const CHAT_FLOODER: &str = "chatflood";

/// Chat lines as fast as the socket takes them (Bye RateLimited, 1008) and over-long
/// lines (dropped, never broadcast, sender stays).
pub async fn chat_flood(ctx: &Ctx) -> Row {
    let mut row = Row::new("chat flood");
    let line = |i: u32| {
        Message::Binary(
            encode_client(&ClientMsg::Chat {
                text: format!("spam {i}"),
            })
            .into(),
        )
    };
    let floods = floods_are_cut_off(ctx, &mut row, 3, CHAT_FLOODER, "chat lines", line).await;
    // Lines over the length cap (but under the message cap) are dropped, not broadcast.
    let long = "x".repeat(ctx.config.max_chat_chars * 4);
    let too_long =
        |_| Message::Binary(encode_client(&ClientMsg::Chat { text: long.clone() }).into());
    let (chatty, _) = match ctx.join(&format!("{CHAT_FLOODER}long")).await {
        Ok(ws) => {
            pump(
                ws,
                Duration::from_millis(500),
                Duration::from_millis(1200),
                too_long,
            )
            .await
        }
        Err(e) => (Seen::failed(e), 0),
    };
    row.check(chatty.bye.is_none(), || {
        format!(
            "a few over-long chat lines should only be dropped, got {}",
            chatty.describe()
        )
    });
    row.check(
        chatty
            .chats
            .iter()
            .all(|(_, t)| t.chars().count() <= ctx.config.max_chat_chars),
        || "an over-long chat line was broadcast".into(),
    );
    let most = floods.most_sent;
    row.scale = format!("3 floods (up to {most} lines each) + 3 over-long lines");
    row.response = format!(
        "floods: {}; over-long lines dropped, sender stays ({})",
        floods.outcomes,
        chatty.describe()
    );
    row
}
