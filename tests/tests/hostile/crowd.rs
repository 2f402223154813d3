//! Many connections: 2000 attempts at once against a lower session cap, too many from one
//! address, pages from foreign web origins, and connections reset mid-message at every
//! stage of their life.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures_util::future::join_all;
use tickwire_shared::ByeCode;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::Ctx;
use crate::rawws::{
    Seen, Ws, binary_frame, frame, fresh_ip, hello, read_seen, send_bin, send_raw, tcp_from,
    ws_from,
};
use crate::report::{Row, metric, tally};

/// Connects from `source` (with an Origin if given), says Hello and waits for the first
/// answer: Welcome (the socket is returned, to be held) or a refusal.
async fn attempt(
    ctx: &Ctx,
    source: IpAddr,
    origin: Option<&str>,
    name: String,
) -> (Seen, Option<Ws>) {
    let mut ws = match ws_from(source, ctx.addr, origin).await {
        Ok(ws) => ws,
        Err(e) => return (Seen::failed(e), None),
    };
    if !send_bin(&mut ws, hello(&name, Some(ctx.token(&name)), None)).await {
        // Refused before the Hello could be written: read the refusal.
        return (
            read_seen(&mut ws, Duration::from_secs(20), true).await,
            None,
        );
    }
    let seen = read_seen(&mut ws, Duration::from_secs(20), true).await;
    let keep = seen.welcome.is_some().then_some(ws);
    (seen, keep)
}

/// Closes held sockets politely.
async fn close_all(held: Vec<Ws>) {
    join_all(held.into_iter().map(|mut ws| async move {
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    }))
    .await;
}

/// 2000 connection attempts at once against the session cap: every one is answered
/// (Welcome, or Bye ServerFull with close 1013) and the cap is never passed.
pub async fn thundering_herd(ctx: &Ctx) -> Row {
    let mut row = Row::new("2000 connection attempts at once");
    let live = metric(&ctx.metrics(), "tickwire_sessions", "") as usize;
    let free = ctx.config.max_sessions.saturating_sub(live);
    let started = Instant::now();
    // Watch the live session count while the herd arrives: it must never pass the cap.
    let peak = std::sync::atomic::AtomicUsize::new(0);
    let herd = join_all((0..2000).map(|i| attempt(ctx, fresh_ip(), None, format!("herd{i}"))));
    let watch = async {
        loop {
            let live = metric(&ctx.metrics(), "tickwire_sessions", "") as usize;
            peak.fetch_max(live, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let results: Vec<(Seen, Option<Ws>)> = tokio::select! {
        r = herd => r,
        () = watch => unreachable!("the watcher never finishes"),
    };
    let peak = peak.into_inner();
    let took = started.elapsed();
    let (seen, held): (Vec<Seen>, Vec<Option<Ws>>) = results.into_iter().unzip();
    let held: Vec<Ws> = held.into_iter().flatten().collect();
    let welcomed = held.len();
    let full = seen
        .iter()
        .filter(|s| s.is_bye(ByeCode::ServerFull, 1013))
        .count();
    // An attempt whose Hello came later than the Hello deadline (the attackers run at the
    // lowest priority) is rightly timed out: that is a clear answer too.
    let late = seen
        .iter()
        .filter(|s| s.is_bye(ByeCode::Timeout, 1008))
        .count();
    let other: Vec<&Seen> = seen
        .iter()
        .filter(|s| {
            s.welcome.is_none()
                && !s.is_bye(ByeCode::ServerFull, 1013)
                && !s.is_bye(ByeCode::Timeout, 1008)
        })
        .collect();
    row.check(other.is_empty(), || {
        format!(
            "{} attempts got no Welcome, Bye ServerFull + close 1013 or Bye Timeout: {}",
            other.len(),
            tally(
                other
                    .iter()
                    .map(|s| s.describe())
                    .collect::<Vec<_>>()
                    .iter()
            )
        )
    });
    row.check(peak <= ctx.config.max_sessions, || {
        format!(
            "{peak} sessions were live at once; the cap is {}",
            ctx.config.max_sessions
        )
    });
    // No room may go unused: every free slot ends up with a player (or with an attempt
    // that held it but said Hello too late). Held sockets that stay silent past the idle
    // timeout free their slots for later arrivals, so more may be welcomed in all.
    row.check(welcomed + late >= free, || {
        format!("only {welcomed} were welcomed (and {late} timed out) with {free} sessions free")
    });
    let slowest = seen.iter().map(|s| s.after).max().unwrap_or_default();
    close_all(held).await;
    row.scale = format!("2000 attempts, {free} sessions free");
    row.response = format!(
        "Welcome ×{welcomed}, Bye ServerFull + close 1013 ×{full}, Bye Timeout (Hello too late) \
         ×{late}{}; at most {peak} sessions live (cap {}); all answered in {} ms (slowest {} ms)",
        if other.is_empty() {
            String::new()
        } else {
            format!(", other ×{}", other.len())
        },
        ctx.config.max_sessions,
        took.as_millis(),
        slowest.as_millis()
    );
    row
}

/// More connections from one address than its cap: the excess gets Bye RateLimited
/// (1008), and the slots come back when the connections close.
pub async fn per_ip(ctx: &Ctx) -> Row {
    let mut row = Row::new("too many connections from one address");
    let cap = ctx.config.max_connections_per_ip;
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let results: Vec<(Seen, Option<Ws>)> =
        join_all((0..cap + 24).map(|i| attempt(ctx, ip, None, format!("crowd{i}")))).await;
    let (seen, held): (Vec<Seen>, Vec<Option<Ws>>) = results.into_iter().unzip();
    let held: Vec<Ws> = held.into_iter().flatten().collect();
    let refused = seen
        .iter()
        .filter(|s| s.is_bye(ByeCode::RateLimited, 1008))
        .count();
    // A connection whose Hello came after the deadline held its slot until then too.
    let late = seen
        .iter()
        .filter(|s| s.is_bye(ByeCode::Timeout, 1008))
        .count();
    row.check(held.len() + late == cap && refused == 24, || {
        format!(
            "{} welcomed and {refused} refused of {} from one address (cap {cap}): {}",
            held.len(),
            cap + 24,
            tally(seen.iter().map(Seen::describe).collect::<Vec<_>>().iter())
        )
    });
    close_all(held).await;
    // The slots come back once those connections are gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (again, keep) = attempt(ctx, ip, None, "crowd-again".into()).await;
    row.check(again.welcome.is_some(), || {
        format!(
            "after closing, the address is still refused: {}",
            again.describe()
        )
    });
    close_all(keep.into_iter().collect()).await;
    row.scale = format!("{} from 127.0.0.2 (cap {cap})", cap + 24);
    row.response = tally(seen.iter().map(Seen::describe).collect::<Vec<_>>().iter());
    row
}

/// Pages from foreign web origins: Bye OriginRefused (1008); the server's own page is
/// welcome.
pub async fn foreign_origin(ctx: &Ctx) -> Row {
    let mut row = Row::new("foreign web origin");
    let own = format!("http://{}", ctx.addr);
    let origins = [
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
        own.as_str(),
    ];
    let results = join_all(
        origins
            .iter()
            .map(|o| attempt(ctx, fresh_ip(), Some(o), "web".into())),
    )
    .await;
    let mut shown = Vec::new();
    for (origin, (seen, held)) in origins.iter().zip(results) {
        if *origin == own {
            row.check(seen.welcome.is_some(), || {
                format!("the server's own page was refused: {}", seen.describe())
            });
        } else {
            row.check(seen.is_bye(ByeCode::OriginRefused, 1008), || {
                format!(
                    "Origin {origin}: expected Bye OriginRefused + close 1008, got {}",
                    seen.describe()
                )
            });
        }
        shown.push(format!("{origin} → {}", seen.describe()));
        close_all(held.into_iter().collect()).await;
    }
    row.scale = "4 origins".into();
    row.response = shown.join("; ");
    row
}

/// Resets a socket: SO_LINGER 0, then drop, so the kernel sends RST instead of FIN.
fn reset(tcp: tokio::net::TcpStream) {
    let _ = tcp.set_zero_linger();
    drop(tcp);
}

/// Connections reset (RST) mid-message at every stage: their sessions end at once and
/// their avatars leave the world when the resume grace period is over.
pub async fn resets(ctx: &Ctx) -> Row {
    let mut row = Row::new("abrupt TCP resets mid-message");
    let before = ctx.metrics();
    let players_before = ctx.players_in_world();
    let half_frame = frame(0x2, true, 60, &[0u8; 20]);
    let cases = (0..40).map(|i| {
        let half_frame = half_frame.clone();
        async move {
            match i % 4 {
                // Mid-way through the HTTP upgrade request.
                0 => {
                    if let Ok(mut tcp) = tcp_from(fresh_ip(), ctx.addr).await {
                        let _ = tcp
                            .write_all(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-WebSocket-")
                            .await;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        reset(tcp);
                    }
                }
                // Upgraded, half a frame of Hello.
                1 => {
                    if let Ok(mut ws) = ws_from(fresh_ip(), ctx.addr, None).await {
                        let _ = send_raw(&mut ws, &half_frame).await;
                        reset(ws.into_inner());
                    }
                }
                // Welcomed, half a frame of input.
                2 => {
                    if let Ok(mut ws) = ctx.join(&format!("reset{i}")).await {
                        let _ = send_raw(&mut ws, &binary_frame(&[3, 1])).await;
                        let _ = send_raw(&mut ws, &half_frame).await;
                        reset(ws.into_inner());
                    }
                }
                // Welcomed, snapshots unread in the socket.
                _ => {
                    if let Ok(ws) = ctx.join(&format!("reset{i}")).await {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        reset(ws.into_inner());
                    }
                }
            }
        }
    });
    join_all(cases).await;
    // Every session ends at once (its avatar is parked for a resume), and once the grace
    // period is over the avatars are gone from the world.
    let live_before = metric(&before, "tickwire_sessions", "");
    let settled = ctx
        .wait_until(Duration::from_secs(3), |c| {
            metric(&c.metrics(), "tickwire_sessions", "") <= live_before
        })
        .await;
    row.check(settled.is_some(), || {
        "sessions of reset connections were still live after 3 s".into()
    });
    let grace = Duration::from_secs(ctx.config.resume_grace_secs);
    let cleared = ctx
        .wait_until(grace + Duration::from_secs(2), |c| {
            c.players_in_world() <= players_before
        })
        .await;
    row.check(cleared.is_some(), || {
        format!(
            "avatars of reset players were still in the world 2 s after the {grace:?} grace period"
        )
    });
    let after = ctx.metrics();
    let delta = |reason: &str| {
        let l = format!("reason=\"{reason}\"");
        metric(&after, "tickwire_sessions_closed_total", &l)
            - metric(&before, "tickwire_sessions_closed_total", &l)
    };
    row.scale = "40 resets (10 each: mid-HTTP, mid-Hello, mid-input, unread snapshots)".into();
    row.response = format!(
        "sessions ended (io_error +{}, client_closed +{}, timeout +{}) within {} ms; avatars removed {} ms after",
        delta("io_error"),
        delta("client_closed"),
        delta("timeout"),
        settled.map_or("-".into(), |d| d.as_millis().to_string()),
        cleared.map_or("-".into(), |d| d.as_millis().to_string()),
    );
    row
}
