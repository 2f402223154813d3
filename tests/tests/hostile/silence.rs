//! Clients that go quiet: connections that never send Hello (and TCP connections that
//! never finish their HTTP request), players that stop reading and sending, and a player
//! that stops reading but keeps acking blindly so the server keeps writing to it.

use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use tickwire_shared::codec::encode_client;
use tickwire_shared::{ByeCode, ClientMsg, InputSeq, Tick};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::rawws::{Ending, Seen, fresh_ip, read_seen, tcp_from, ws_from};
use crate::report::{Row, tally};

/// WebSockets that never send Hello (Bye Timeout, 1008, at the Hello deadline) and TCP
/// connections that never finish their HTTP request (closed by the same deadline).
pub async fn never_hello(ctx: &Ctx) -> Row {
    let mut row = Row::new("connections that never send Hello");
    let deadline = Duration::from_millis(ctx.config.hello_timeout_ms);
    let limit = deadline + Duration::from_secs(2);
    let silent = join_all((0..30).map(|_| async move {
        match ws_from(fresh_ip(), ctx.addr, None).await {
            Ok(mut ws) => read_seen(&mut ws, limit, false).await,
            Err(e) => Seen::failed(e),
        }
    }));
    // The same below the WebSocket: TCP connections that send half an HTTP request.
    let upgrade_limit =
        Duration::from_millis(ctx.config.upgrade_timeout_ms) + Duration::from_secs(2);
    let unfinished = join_all((0..30).map(|_| async move {
        let Ok(mut tcp) = tcp_from(fresh_ip(), ctx.addr).await else {
            return Err("TCP connect failed".to_owned());
        };
        let _ = tcp
            .write_all(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
            .await;
        let start = Instant::now();
        let mut buf = [0u8; 512];
        loop {
            match tokio::time::timeout_at(start + upgrade_limit, tcp.read(&mut buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0) | Err(_)) => return Ok(Some(start.elapsed())),
                Ok(Ok(_)) => {}
            }
        }
    }));
    let (silent, unfinished) = tokio::join!(silent, unfinished);
    for s in &silent {
        row.check(s.is_bye(ByeCode::Timeout, 1008), || {
            format!(
                "no Hello: expected Bye Timeout + close 1008, got {}",
                s.describe()
            )
        });
        row.check(s.after >= deadline.mul_f64(0.9) && s.after <= limit, || {
            format!(
                "no Hello: answered after {:?}, the deadline is {deadline:?}",
                s.after
            )
        });
    }
    let open = unfinished.iter().filter(|r| matches!(r, Ok(None))).count();
    row.check(open == 0, || {
        format!(
            "{open} of {} TCP connections with an unfinished HTTP request were still open \
             after {upgrade_limit:?} (no deadline before the upgrade)",
            unfinished.len()
        )
    });
    row.scale = "30 WebSockets + 30 half HTTP requests".into();
    let slowest = silent.iter().map(|s| s.after).max().unwrap_or_default();
    row.response = format!(
        "{} after ≤ {} ms; unfinished HTTP requests: {} of {} still open after {} ms",
        tally(silent.iter().map(Seen::describe).collect::<Vec<_>>().iter()),
        slowest.as_millis(),
        open,
        unfinished.len(),
        upgrade_limit.as_millis()
    );
    row
}

/// Players that stop reading and sending: at most a send window of snapshots is
/// written to them, then the idle timeout ends them (Bye Timeout, 1008).
pub async fn stop_reading(ctx: &Ctx) -> Row {
    let mut row = Row::new("connections that stop reading");
    let idle = Duration::from_millis(ctx.config.idle_timeout_ms);
    let window = ctx.config.send_window_ticks() as usize;
    // Players that stop reading and sending right after Welcome; read again only after
    // the idle timeout has passed.
    let quiet: Vec<Seen> = join_all((0..3).map(|i| async move {
        let mut ws = match ctx.join(&format!("quiet{i}")).await {
            Ok(ws) => ws,
            Err(e) => return Seen::failed(e),
        };
        tokio::time::sleep(idle + Duration::from_millis(1500)).await;
        read_seen(&mut ws, Duration::from_secs(3), false).await
    }))
    .await;
    for s in &quiet {
        row.check(s.is_bye(ByeCode::Timeout, 1008), || {
            format!(
                "a silent non-reader: expected Bye Timeout + close 1008, got {}",
                s.describe()
            )
        });
        row.check(s.snapshots <= window + 1, || {
            format!(
                "a non-acking client was sent {} snapshots; the send window is {window}",
                s.snapshots
            )
        });
    }
    let most = quiet.iter().map(|s| s.snapshots).max().unwrap_or_default();
    row.scale = "3 players".into();
    row.response = format!(
        "{}; at most {most} snapshots written unacked (window {window})",
        tally(quiet.iter().map(Seen::describe).collect::<Vec<_>>().iter())
    );
    row
}

/// The blind acker's name in the table.
pub const BLIND: &str = "stops reading, keeps acking";

/// A player that never reads but keeps the server writing: inputs and acks of the ticks
/// it guesses the server is at, 20 times a second, with a tiny receive buffer. Runs for
/// `duration` in the background of the other attacks, then reads what is left.
pub async fn blind_acker(ctx: Ctx, duration: Duration) -> Row {
    let mut row = Row::new(BLIND);
    row.scale = "1 player".into();
    let ws = match crate::rawws::join(ctx.addr, "blind", ctx.token("blind"), 4096).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            row.check(false, || format!("could not join: {e}"));
            return row;
        }
    };
    let hz = ctx.config.tick_hz;
    let started = Instant::now();
    let first = ctx.server_tick();
    let (mut sink, mut stream) = ws.split();
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    let mut sent_until_failure = None;
    let mut seq = 0u32;
    while started.elapsed() < duration {
        ticker.tick().await;
        seq += 1;
        let guess = first.0 + (started.elapsed().as_secs_f64() * f64::from(hz)) as u32;
        // An input carrying its ack, as a playing client sends them.
        let msgs = [ClientMsg::Input {
            seq: InputSeq(seq),
            data: tickwire_shared::codec::encode_value(
                &tickwire_server::games::controls::Controls::new(1, 0),
            ),
            ack: Some(Tick(guess.saturating_sub(1))),
            view: None,
        }];
        let mut failed = false;
        for m in msgs {
            let send = sink.send(Message::Binary(encode_client(&m).into()));
            if !matches!(
                tokio::time::timeout(Duration::from_millis(500), send).await,
                Ok(Ok(()))
            ) {
                failed = true;
            }
        }
        if failed {
            sent_until_failure = Some(started.elapsed());
            break;
        }
    }
    // Now read whatever the socket holds; a server that still serves this player keeps
    // it coming, one that ended the session runs dry.
    let seen = read_seen(&mut stream, Duration::from_secs(3), false).await;
    let ended = !matches!(seen.ending, Ending::StillOpen);
    // It acks what it never read, so the server cannot tell it from a good client until
    // the socket's kernel buffers fill; what it must not do is write more than one
    // snapshot per tick, or buffer in user space.
    let elapsed = started.elapsed().as_secs_f64();
    let most = elapsed * f64::from(hz) + f64::from(ctx.config.send_window_ticks()) + 5.0;
    row.check(seen.snapshots as f64 <= most, || {
        format!(
            "{} snapshots were written in {elapsed:.1} s at {hz} Hz: more than one per tick",
            seen.snapshots
        )
    });
    row.response = format!(
        "{} after {elapsed:.0} s unread: {} snapshots ({} KiB) sat in socket buffers, one per tick{}",
        if ended {
            "session ended by the server (no Bye possible: the socket was full)"
        } else {
            "still served (indistinguishable from a good client until the kernel's send \
             buffer fills, then the 5 s write timeout ends it)"
        },
        seen.snapshots,
        seen.bytes / 1024,
        sent_until_failure.map_or(String::new(), |t| format!(
            "; its sends failed after {} ms",
            t.as_millis()
        ))
    );
    row
}
