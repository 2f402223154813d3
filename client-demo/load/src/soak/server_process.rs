//! The server under test as a child process: find the `tickwire` binary, start it on a
//! free port, learn its address from its output, keep its log, and stop it. The finding
//! and the banner reading are public: the end-to-end tests start binaries the same way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The server binary's file name.
pub const SERVER_BIN: &str = "tickwire";

/// Why the server could not be found or started.
#[derive(Debug, Error)]
pub enum ServerError {
    /// No server binary where we looked.
    #[error(
        "server binary not found (looked at {}); build it first with \
         `cargo build --release --workspace --bins` (before tests: `cargo build --workspace --bins`), \
         pass --server-bin PATH, or target a running server with --url",
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound {
        /// The paths tried.
        looked: Vec<PathBuf>,
    },
    /// Spawning, or reading its output, failed.
    #[error("starting {bin}: {source}")]
    Spawn {
        /// The binary.
        bin: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server exited or went quiet before printing its address.
    #[error("the server did not print its ws:// address within {0:?} (see server.log)")]
    NoAddress(Duration),
}

/// Finds a workspace binary (`tickwire`, `bots`, `soak`): `explicit` if given, else
/// `name` next to the running executable or one directory up (where it sits relative to
/// cargo's test binaries in `target/*/deps/`).
pub fn find_binary(name: &str, explicit: Option<&Path>) -> Result<PathBuf, ServerError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(ServerError::NotFound {
                looked: vec![path.to_owned()],
            })
        };
    }
    let mut looked = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..2 {
            let Some(d) = dir else { break };
            let candidate = d.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
            if candidate.is_file() {
                return Ok(candidate);
            }
            looked.push(candidate);
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    Err(ServerError::NotFound { looked })
}

/// Extracts the first `ws://host:port/path` or `wss://host:port/path` in a line of
/// output (ignoring any terminal colour codes around it).
#[must_use]
pub fn find_ws_url(line: &str) -> Option<String> {
    let start = match (line.find("ws://"), line.find("wss://")) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    let url: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || ":/.-_[]%".contains(*c))
        .collect();
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    (rest.contains(':')).then_some(url)
}

/// The socket address of a `ws://` or `wss://` URL with a literal IP (as the server's
/// banner prints it).
#[must_use]
pub fn ws_url_addr(ws_url: &str) -> Option<SocketAddr> {
    let rest = ws_url.split_once("://")?.1;
    rest.split('/').next()?.parse().ok()
}

/// The HTTP base (`http://host:port`, or `https://` for `wss://`) of a WebSocket URL.
#[must_use]
pub fn http_base(ws_url: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = ws_url.strip_prefix("ws://") {
        ("http", rest)
    } else {
        ("https", ws_url.strip_prefix("wss://")?)
    };
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// A running server child process.
#[derive(Debug)]
pub struct ServerProcess {
    /// The child (killed on drop, should anything unwind past `stop`).
    child: Child,
    /// The WebSocket URL it printed.
    pub ws_url: String,
}

impl ServerProcess {
    /// Starts `bin` with `args` and `env` (added to this process's environment), copies
    /// its stdout and stderr to `log`, and waits (at most `timeout`) for the line that
    /// names its `ws://` (or `wss://`) address.
    pub async fn start(
        bin: &Path,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
        timeout: Duration,
    ) -> Result<ServerProcess, ServerError> {
        let spawn_err = |source| ServerError::Spawn {
            bin: bin.to_owned(),
            source,
        };
        let mut child = Command::new(bin)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(spawn_err)?;
        let log_file = tokio::fs::File::create(log).await.map_err(spawn_err)?;
        let (lines_tx, mut lines_rx) = mpsc::channel::<String>(256);
        let (found_tx, mut found_rx) = mpsc::channel::<String>(1);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward(out, lines_tx.clone(), found_tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward(err, lines_tx, found_tx));
        }
        // One writer owns the log file; both streams feed it through the channel.
        tokio::spawn(async move {
            let mut file = log_file;
            while let Some(line) = lines_rx.recv().await {
                if file.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
            let _ = file.flush().await;
        });
        let ws_url = tokio::time::timeout(timeout, found_rx.recv())
            .await
            .ok()
            .flatten()
            .ok_or(ServerError::NoAddress(timeout))?;
        Ok(ServerProcess { child, ws_url })
    }

    /// The process id (`None` once it has been reaped).
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// True if the process has exited.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the server to stop (SIGTERM, so it shuts down cleanly), waits up to `grace`,
    /// then kills it.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
            if tokio::time::timeout(grace, self.child.wait()).await.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

/// Copies lines of `stream` to the log channel, and reports the first `ws://` URL.
async fn forward(
    stream: impl AsyncRead + Unpin,
    log: mpsc::Sender<String>,
    found: mpsc::Sender<String>,
) {
    let mut lines = BufReader::new(stream).lines();
    let mut reported = false;
    while let Ok(Some(line)) = lines.next_line().await {
        if !reported && let Some(url) = find_ws_url(&line) {
            let _ = found.try_send(url);
            reported = true;
        }
        // A full log channel drops lines rather than stalling the server's output pipe.
        let _ = log.try_send(line + "\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address_in_plain_and_coloured_lines() {
        assert_eq!(
            find_ws_url("listening on ws://127.0.0.1:40123/ws (scenario arena)").as_deref(),
            Some("ws://127.0.0.1:40123/ws")
        );
        assert_eq!(
            find_ws_url("\u{1b}[32m INFO\u{1b}[0m url=ws://127.0.0.1:5/ws\u{1b}[0m").as_deref(),
            Some("ws://127.0.0.1:5/ws")
        );
        assert_eq!(find_ws_url("no address here"), None);
        assert_eq!(find_ws_url("ws://"), None);
        assert_eq!(
            find_ws_url("  websocket: wss://127.0.0.1:7/ws").as_deref(),
            Some("wss://127.0.0.1:7/ws")
        );
        assert_eq!(
            http_base("ws://127.0.0.1:5/ws").as_deref(),
            Some("http://127.0.0.1:5")
        );
        assert_eq!(
            http_base("wss://[::1]:5/ws").as_deref(),
            Some("https://[::1]:5")
        );
        assert_eq!(http_base("http://127.0.0.1:5/ws"), None);
        assert_eq!(
            ws_url_addr("wss://[::1]:5/ws"),
            Some(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 5)))
        );
        assert_eq!(ws_url_addr("ws://localhost:5/ws"), None);
    }

    #[test]
    fn a_missing_binary_names_where_it_looked() {
        let err = find_binary(SERVER_BIN, Some(Path::new("/nonexistent/tickwire"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/tickwire"), "{text}");
        assert!(text.contains("cargo build"), "{text}");
    }
}
