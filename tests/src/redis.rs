//! A real `redis-server` (Debian's package) for the tests that need one: started on a
//! free loopback port with nothing persisted, answered `PING` before it is handed out,
//! and killed on drop. A machine without it fails the test, saying how to install it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
}

impl RedisServer {
    /// Starts `redis-server` on a free port of 127.0.0.1, without persistence.
    ///
    /// # Panics
    /// When `redis-server` is not installed (the message says how to install it), or
    /// it does not answer within 10 s.
    #[must_use]
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("cannot find a free port for redis-server: {e}"))
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): this test needs a real Redis; install \
                     Debian's package (`apt-get install redis-server`), as tests/run-all.sh does"
                )
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = RedisServer { child, addr };
        let deadline = Instant::now() + START_TIMEOUT;
        while !server.pings() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redis-server exited at start ({status})");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Whether it answers `PING` now.
    fn pings(&self) -> bool {
        let Ok(mut tcp) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let mut answer = [0u8; 7];
        tcp.write_all(b"PING\r\n").is_ok()
            && tcp.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }

    /// Runs one inline command (`SET key value`) and returns its first reply line.
    ///
    /// # Panics
    /// When the server cannot be reached or does not answer.
    #[must_use]
    pub fn command(&self, line: &str) -> String {
        let mut tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("connecting to redis-server: {e}"));
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
        tcp.write_all(format!("{line}\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("sending {line:?} to redis-server: {e}"));
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            tcp.read_exact(&mut byte)
                .unwrap_or_else(|e| panic!("reading redis-server's answer to {line:?}: {e}"));
            reply.push(byte[0]);
        }
        String::from_utf8_lossy(&reply).trim_end().to_owned()
    }

    /// Its URL, `redis://127.0.0.1:PORT/0`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
