//! A minimal HTTP/1.1 client for the tests: one request on its own connection
//! (connection: close), the whole response back as text.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a response may take.
const ANSWER: Duration = Duration::from_secs(5);

/// Sends `method path` to `addr` with `body` (as JSON; empty for none) and returns the
/// whole response, status line and headers included.
///
/// # Panics
/// When the server cannot be reached, or does not answer within 5 s.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting for {method} {path}: {e}"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("sending {method} {path}: {e}"));
    let mut out = Vec::new();
    tokio::time::timeout(ANSWER, tcp.read_to_end(&mut out))
        .await
        .unwrap_or_else(|_| panic!("{method} {path} did not answer in time"))
        .unwrap_or_else(|e| panic!("reading the answer to {method} {path}: {e}"));
    String::from_utf8_lossy(&out).into_owned()
}
