//! Running the Playwright script (`tests/browser/demo.mjs`) as a child process and
//! talking to it in JSON lines: its questions are answered from the observer's mirror.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::harness::{BOTS, Harness, Observed};

/// The longest one browser run may take, start to finish.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Checks that Chromium, Node and the script's packages are there (installing the
/// packages with `npm ci` if only they are missing). Returns why not, if not.
pub fn browser_ready() -> Result<(), String> {
    let chromium =
        std::env::var("TICKWIRE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!(
            "{chromium} not found (apt-get install -y chromium)"
        ));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node is not installed".into());
    }
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("npm ci in tests/browser failed".into());
        }
    }
    Ok(())
}

/// Starts `node <script> <args…> <artifacts dir>` in tests/browser, stdout piped and
/// stderr shown.
fn spawn(script: &str, args: &[&str], stdin: Stdio) -> Script {
    let dir = browser_dir();
    let child = Command::new("node")
        .arg(script)
        .args(args)
        .arg(dir.join("artifacts"))
        .current_dir(&dir)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    Script(child)
}

/// Kills the script if the test ends early.
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `probe` finds what it looks for in the observer's state, up to `limit`.
async fn wait_observed<T>(
    observed: &std::sync::Mutex<Observed>,
    limit: Duration,
    probe: impl Fn(&Observed) -> Option<T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe(&observed.lock().expect("observer lock")) {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Answers one question of the script from the observer's mirror.
async fn answer(ask: &Value, h: &Harness, marks: &mut HashMap<u64, (f64, f64)>) -> Value {
    let position = |id: u64| {
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        move |o: &Observed| o.players.get(&id).copied()
    };
    if let Some(id) = ask["mark"].as_u64() {
        let p = wait_observed(&h.observed, Duration::from_secs(3), position(id)).await;
        if let Some(p) = p {
            marks.insert(id, p);
        }
        return json!({ "found": p.is_some() });
    }
    if let Some(id) = ask["moved"].as_u64() {
        let now = wait_observed(&h.observed, Duration::from_secs(3), position(id)).await;
        let (Some(before), Some(now)) = (marks.get(&id), now) else {
            return json!({ "found": false });
        };
        let sign = ask["sign"].as_f64().unwrap_or(1.0);
        return json!({ "found": true, "dx": (now.0 - before.0) * sign, "dy": now.1 - before.1 });
    }
    if let Some(text) = ask["chat"].as_str() {
        let from = ask["from"].as_str().unwrap_or_default().to_owned();
        let got = wait_observed(&h.observed, Duration::from_secs(5), |o| {
            o.chats
                .iter()
                .any(|(n, t)| *n == from && t == text)
                .then_some(())
        })
        .await;
        return json!({ "received": got.is_some() });
    }
    json!({ "error": "unknown question" })
}

/// Runs the script for `phase` against the harness's server; returns its result object.
pub async fn run_script(h: &Harness, phase: &str) -> Value {
    let url = format!("http://{}/", h.addr);
    let others = (BOTS + 2).to_string();
    let mut script = spawn("demo.mjs", &[&url, phase, &others], Stdio::piped());
    let stdout = script.0.stdout.take().expect("piped stdout");
    let mut stdin: ChildStdin = script.0.stdin.take().expect("piped stdin");
    // Lines are read on a plain thread (std pipes block) and handed over a channel.
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut marks = HashMap::new();
    let mut result = None;
    let run = async {
        while let Some(line) = rx.recv().await {
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                eprintln!("[browser] {line}");
                continue;
            };
            if let Some(ask) = msg.get("ask") {
                let reply = answer(ask, h, &mut marks).await;
                writeln!(stdin, "{reply}").expect("write to the script");
                stdin.flush().expect("flush to the script");
            } else if let Some(r) = msg.get("result") {
                result = Some(r.clone());
            }
        }
    };
    tokio::time::timeout(RUN_TIMEOUT, run)
        .await
        .expect("the browser run finishes within its time limit");
    let status = script.0.wait().expect("node exit status");
    assert!(
        status.success(),
        "the browser script failed ({status}); see its output above"
    );
    result.expect("the script reported a result")
}

/// Runs `node <script> <args…>` to its end (within `RUN_TIMEOUT`) and returns the object
/// of its `{"result": …}` line. `check_failed_ok`: exit 2 ("ran, a check failed") still
/// counts as having run, for scripts whose result says which check.
async fn run_for_result(script: &str, args: &[&str], check_failed_ok: bool) -> Value {
    let mut child = spawn(script, args, Stdio::null());
    let stdout = child.0.stdout.take().expect("piped stdout");
    let lines = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let lines = tokio::time::timeout(RUN_TIMEOUT, lines)
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within its time limit"))
        .expect("the script's output is read");
    let status = child.0.wait().expect("node exit status");
    assert!(
        status.success() || (check_failed_ok && status.code() == Some(2)),
        "{script} could not run ({status}); see its output above"
    );
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v.get("result").cloned())
        .unwrap_or_else(|| panic!("{script} reported a result"))
}

/// Runs `generic.mjs` against the page at `url`, waiting for `others` other players drawn
/// by the generic renderer; returns its result object (whatever its checks found).
pub async fn run_generic(url: &str, others: usize) -> Value {
    run_for_result("generic.mjs", &[url, &others.to_string()], true).await
}

/// Runs `replay.mjs` against a served replay's page at `url`, seeking to `tick`; returns
/// its result object.
pub async fn run_replay(url: &str, tick: u32) -> Value {
    run_for_result("replay.mjs", &[url, &tick.to_string()], false).await
}

/// Runs `lobby.mjs` against the page at `url` for room `room`; returns its result object.
pub async fn run_lobby(url: &str, room: u32) -> Value {
    run_for_result("lobby.mjs", &[url, &room.to_string()], false).await
}

/// Runs `relocate.mjs` against the page at `url` (which points its WebSocket at a server
/// the test drains); returns its result object.
pub async fn run_relocate(url: &str) -> Value {
    run_for_result("relocate.mjs", &[url], false).await
}
