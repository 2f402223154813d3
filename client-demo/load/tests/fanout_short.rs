//! End to end against the real binaries (build them first with
//! `cargo build --workspace --bins`): a short chat fan-out run delivers every line to
//! every client, and says so in its report.

use std::process::Command;

#[test]
fn every_line_reaches_every_client_and_the_report_counts_them() {
    let log = std::env::temp_dir().join(format!("tickwire-fanout-{}.log", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args([
            "--clients",
            "60",
            "--senders",
            "3",
            "--lines-per-s",
            "15",
            "--duration",
            "3s",
            "--json",
            "--log",
        ])
        .arg(&log)
        .output()
        .unwrap_or_else(|e| panic!("cannot run fanout: {e}"));
    let _ = std::fs::remove_file(&log);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fanout failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let n = |k: &str| {
        report[k]
            .as_f64()
            .unwrap_or_else(|| panic!("no {k}: {report}"))
    };
    assert_eq!(n("clients"), 60.0, "{report}");
    // 15 lines a second for 3 s, give or take the first and last tick of each sender.
    assert!((40.0..=50.0).contains(&n("lines_sent")), "{report}");
    assert_eq!(n("expected"), n("lines_sent") * 60.0, "{report}");
    assert_eq!(n("delivered"), n("expected"), "{report}");
    assert_eq!(n("lost"), 0.0, "{report}");
    assert!(n("latency_p50_ms") > 0.0, "{report}");
    assert!(n("latency_p99_ms") >= n("latency_p50_ms"), "{report}");
}
