//! The server's own memory under the 2000-connection storm, measured on the real
//! `tickwire` binary: in the test process the attackers' sockets would be counted too.

use std::process::Command;
use std::time::Duration;

use tickwire_tests::{ServerProcess, tickwire_binary};

use crate::report::{Row, metric};
use crate::{Ctx, crowd};

/// Growth of the server process's resident memory allowed over two storms (24 KiB per
/// attempt). Every attempt is upgraded to a WebSocket (a refusal is told why in a Bye).
/// Measured in release builds with the server's 4 KiB WebSocket read buffer: +10 to +20
/// MiB. With tungstenite's default 128 KiB it was +105 to +205 MiB (a plateau of about
/// 240 MiB over six storms): this bound keeps the buffer small.
const RSS_GROWTH_BOUND: f64 = 96.0 * 1024.0 * 1024.0;

/// The 2000-connection storm against the real binary, twice, with its resident memory
/// read from its metrics before, between and after.
pub async fn herd_memory(ctx: &Ctx) -> Row {
    let c = &ctx.config;
    let args: Vec<String> = [
        ("--max-sessions", c.max_sessions.to_string()),
        ("--hello-timeout-ms", c.hello_timeout_ms.to_string()),
        // Under a storm an upgrade can wait over a second for the CPU; keep the binary's
        // pre-upgrade deadline at its generous default.
        ("--upgrade-timeout-ms", "10000".to_owned()),
        ("--idle-timeout-ms", c.idle_timeout_ms.to_string()),
        ("--auth-secret", ctx.secret.clone()),
        ("--seed", tickwire_tests::demo_config().seed.to_string()),
        ("--resume-grace-secs", c.resume_grace_secs.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect();
    let mut command = Command::new(tickwire_binary());
    command
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .args(&args)
        .env("RUST_LOG", "error");
    let process = tokio::task::block_in_place(|| ServerProcess::spawn(command));
    let addr = process.addr();
    let remote = Ctx {
        addr,
        server: None,
        ..ctx.clone()
    };
    let rss = |text: &str| metric(text, "tickwire_process_resident_memory_bytes", "");
    let mib = |bytes: f64| bytes / 1048576.0;
    let before = rss(&remote.metrics());
    let mut row = crowd::thundering_herd(&remote).await;
    let first = rss(&remote.metrics());
    // The same storm again: memory must level off (the allocator reuses what the first
    // storm freed), not grow by a storm's worth each time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = crowd::thundering_herd(&remote).await;
    let second = rss(&remote.metrics());
    drop(process);
    row.failures.extend(again.failures);
    let growth = first.max(second) - before;
    row.check(growth <= RSS_GROWTH_BOUND, || {
        format!(
            "the tickwire process grew by {:.0} MiB over two storms",
            mib(growth)
        )
    });
    row.scale = format!("2 × {}", row.scale);
    row.response = format!(
        "tickwire process RSS {:.1} MiB → {:.1} after one storm → {:.1} after a second \
         (bound +{:.0}); {}",
        mib(before),
        mib(first),
        mib(second),
        mib(RSS_GROWTH_BOUND),
        row.response
    );
    row
}
