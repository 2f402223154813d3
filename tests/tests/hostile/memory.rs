//! The server's own memory under the 2000-connection storm, measured on the real
//! `tickwire` binary: in the test process the attackers' sockets would be counted too.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tickwire_tests::process::find_socket_addr;
use tickwire_tests::tickwire_binary;

use crate::report::{Row, metric};
use crate::{Ctx, crowd};

/// Growth of the server process's resident memory allowed over the storm (64 KiB per
/// attempt): 150 sessions and 1850 refused connections must not cost more. Measured in
/// release builds: about +70 MiB right after the storm, half of it returned 0.5 s later.
const RSS_GROWTH_BOUND: f64 = 128.0 * 1024.0 * 1024.0;

/// A quiet `tickwire` child process (errors only on stderr), killed on drop.
struct Quiet {
    /// The child.
    child: Child,
}

impl Drop for Quiet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tickwire` on 127.0.0.1:0 with `args` and waits for its address.
fn start(args: &[String]) -> (Quiet, SocketAddr) {
    let mut child = Command::new(tickwire_binary())
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tickwire: {e}"));
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("tickwire has no stdout pipe"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(addr) = find_socket_addr(&line) {
                sent = tx.send(addr).is_ok();
            }
        }
    });
    let process = Quiet { child };
    let addr = rx
        .recv_timeout(Duration::from_secs(15))
        .unwrap_or_else(|_| panic!("tickwire printed no address within 15 s"));
    (process, addr)
}

/// The 2000-connection storm against the real binary, with its resident memory read
/// from its metrics before and after.
pub async fn herd_memory(ctx: &Ctx) -> Row {
    let c = &ctx.config;
    let args: Vec<String> = [
        ("--max-sessions", c.max_sessions.to_string()),
        ("--hello-timeout-ms", c.hello_timeout_ms.to_string()),
        ("--idle-timeout-ms", c.idle_timeout_ms.to_string()),
        ("--auth-secret", ctx.secret.clone()),
        ("--seed", c.seed.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect();
    let (process, addr) = tokio::task::block_in_place(|| start(&args));
    let remote = Ctx {
        addr,
        server: None,
        ..ctx.clone()
    };
    let rss = |text: &str| metric(text, "tickwire_process_resident_memory_bytes", "");
    let before = rss(&remote.metrics());
    let mut row = crowd::thundering_herd(&remote).await;
    let peak = rss(&remote.metrics());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss(&remote.metrics());
    drop(process);
    row.attack = "2000 connection attempts at once, server memory";
    let growth = peak.max(after) - before;
    row.check(growth <= RSS_GROWTH_BOUND, || {
        format!("the tickwire process grew by {:.0} MiB", growth / 1048576.0)
    });
    row.response = format!(
        "tickwire process RSS {:.1} → {:.1} MiB right after the storm, {:.1} MiB 0.5 s later \
         (bound +{:.0} MiB); {}",
        before / 1048576.0,
        peak / 1048576.0,
        after / 1048576.0,
        RSS_GROWTH_BOUND / 1048576.0,
        row.response
    );
    row
}
