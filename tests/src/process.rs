//! The real `tickwire` binary as a child process: found next to the test executable,
//! started with `--port 0`, its chosen address read from stdout, signalled by pid, and
//! killed on drop if a test fails before it exits.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tickwire_load::soak::server_process::{find_binary, find_ws_url, ws_url_addr};

/// How long the binary may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The `tickwire` binary of the same build profile as the running test.
///
/// # Panics
/// When it has not been built, with the command that builds it.
#[must_use]
pub fn tickwire_binary() -> PathBuf {
    workspace_binary("tickwire")
}

/// The workspace binary `name` (`tickwire`, `bots`, `soak`) of the same build profile as
/// the running test, found as the soak tool finds the server.
///
/// # Panics
/// When it has not been built, with the command that builds it.
#[must_use]
pub fn workspace_binary(name: &str) -> PathBuf {
    find_binary(name, None).unwrap_or_else(|e| panic!("{e}"))
}

/// The example binary `name` of the server crate (`cargo build --examples -p
/// tickwire-server`), of the same build profile as the running test.
///
/// # Panics
/// When it has not been built, with the command that builds it.
#[must_use]
pub fn example_binary(name: &str) -> PathBuf {
    let bin = workspace_binary("tickwire")
        .with_file_name("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the example {} does not exist: run `cargo build --release --examples -p \
         tickwire-server` before the end-to-end tests",
        bin.display()
    );
    bin
}

/// Runs `command` to its end with stdout and stderr captured, for at most `limit` (then
/// it is killed and the test fails). The output is read while it runs, so a chatty
/// child never blocks on a full pipe.
///
/// # Panics
/// When it cannot start, or does not finish in time.
#[must_use]
pub fn run_to_end(mut command: Command, limit: Duration) -> Output {
    let what = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = child.id().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("reading the output of {what}: {e}"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("{what} did not finish within {limit:?}");
        }
    }
}

/// The server address in a line of a server's banner (`websocket: ws://127.0.0.1:4242/ws`).
#[must_use]
pub fn find_socket_addr(line: &str) -> Option<SocketAddr> {
    ws_url_addr(&find_ws_url(line)?)
}

/// A running `tickwire` process.
pub struct ServerProcess {
    /// The child; killed on drop if still running.
    child: Child,
    /// The address it printed.
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `tickwire --bind 127.0.0.1 --port 0 <extra>` and waits for it to print
    /// its address.
    pub fn start(extra_args: &[&str]) -> ServerProcess {
        let mut command = Command::new(tickwire_binary());
        command
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(extra_args);
        ServerProcess::spawn(command)
    }

    /// Starts another game binary (`program`, e.g. an example) with `--bind 127.0.0.1
    /// --port 0 <extra>` and waits for it to print its address.
    pub fn start_program(program: &std::path::Path, extra_args: &[&str]) -> ServerProcess {
        let mut command = Command::new(program);
        command
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(extra_args);
        ServerProcess::spawn(command)
    }

    /// Like `start`, but through `sh -c "<setup>; exec tickwire …"`, so `setup` (say,
    /// `ulimit -Sn 1024`) shapes the process the binary then becomes.
    pub fn start_after(setup: &str, extra_args: &[&str]) -> ServerProcess {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{setup}; exec \"$0\" \"$@\""))
            .arg(tickwire_binary())
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(extra_args);
        ServerProcess::spawn(command)
    }

    /// Spawns `command` (a server binary with its arguments) and waits for the address
    /// it prints.
    pub fn spawn(mut command: Command) -> ServerProcess {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the tickwire binary: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("the child has no stdout pipe"));
        // Read stdout on a thread for the child's whole life, so it never blocks on a
        // full pipe; the first address seen is sent back.
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
        let mut process = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        process.addr = rx.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            panic!("tickwire printed no address on stdout within {START_TIMEOUT:?}")
        });
        process
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address the server listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Sends SIGTERM (by pid, through `kill`).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Kills it with SIGKILL (no goodbyes, no cleanup), and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit, at most `limit`; `None` if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => return None,
                Err(e) => panic!("cannot wait for tickwire: {e}"),
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
