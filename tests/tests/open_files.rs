//! The open-file limit: many systems start processes with a soft limit of 1024
//! descriptors, far below what a full server or a large bot fleet needs. The server and
//! `bots` raise their soft limit to the hard one themselves. Both are started here with
//! a low soft limit: the server's limit is read back from /proc, and a fleet larger than
//! its starting limit must still connect every bot.

#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::Duration;

use tickwire_tests::{ServerProcess, run_to_end, workspace_binary};

/// The soft and hard open-file limits of process `pid`.
fn open_file_limits(pid: u32) -> (String, String) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/limits: {e}"));
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_else(|| panic!("no open-file line in /proc/{pid}/limits:\n{text}"));
    let mut numbers = line["Max open files".len()..].split_whitespace();
    let soft = numbers.next().unwrap_or_default().to_owned();
    let hard = numbers.next().unwrap_or_default().to_owned();
    (soft, hard)
}

/// The hard open-file limit of this process, as the shell reports it.
fn hard_limit() -> u64 {
    let out = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .unwrap_or_else(|e| panic!("running ulimit: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if text == "unlimited" {
        u64::MAX
    } else {
        text.parse()
            .unwrap_or_else(|e| panic!("ulimit -Hn said {text:?}: {e}"))
    }
}

#[test]
fn the_server_and_bots_raise_a_low_open_file_limit() {
    const LOW: u64 = 200;
    const BOTS: u64 = 300;
    assert!(
        hard_limit() > BOTS + 64,
        "the hard open-file limit is too low for this test"
    );

    let server = ServerProcess::start_after(&format!("ulimit -Sn {LOW}"), &[]);
    let (soft, hard) = open_file_limits(server.pid());
    assert_eq!(
        soft, hard,
        "the server left its soft open-file limit ({soft}) below the hard one ({hard})"
    );

    // More bots than the soft limit `bots` starts with: they all connect only if it
    // raises the limit.
    let mut bots = Command::new("sh");
    bots.arg("-c")
        .arg(format!("ulimit -Sn {LOW}; exec \"$0\" \"$@\""))
        .arg(workspace_binary("bots"))
        .args(["--url", &server.url(), "--count", &BOTS.to_string()])
        .args(["--duration", "4s", "--ramp", "1s", "--decode", "2"])
        .args(["--behavior", "idle", "--json", "--progress-every", "0"]);
    let out = run_to_end(bots, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "bots printed no JSON summary ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        summary["bots_connected"], BOTS,
        "every bot connects despite starting with a soft limit of {LOW}: {summary:#}"
    );
    assert_eq!(summary["failed"], 0, "{summary:#}");
}
