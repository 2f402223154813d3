//! A Server-Sent Events reader for the tests: one `GET` over HTTP/1.0 (so the body is
//! the raw stream, read until the server closes it), parsed into events.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One event of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// Its `id:` field, if it had one.
    pub id: Option<u64>,
    /// Its `event:` field (`message` when it had none).
    pub event: String,
    /// Its `data:` lines, joined by newlines.
    pub data: String,
}

/// An open event stream.
pub struct SseReader {
    /// The status line and headers.
    head: String,
    /// The body.
    body: BufReader<TcpStream>,
}

impl SseReader {
    /// Opens `path` on `addr`, sending `Last-Event-ID: last` if given, and reads the
    /// status line and headers.
    ///
    /// # Panics
    /// When the server cannot be reached or sends no head within 5 s.
    pub async fn open(addr: SocketAddr, path: &str, last: Option<u64>) -> SseReader {
        let mut tcp = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connecting for {path}: {e}"));
        let last = last.map_or(String::new(), |l| format!("Last-Event-ID: {l}\r\n"));
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{last}\r\n"
        );
        tcp.write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("sending GET {path}: {e}"));
        let mut body = BufReader::new(tcp);
        let mut head = String::new();
        let read_head = async {
            loop {
                let mut line = String::new();
                let n = body.read_line(&mut line).await.unwrap_or(0);
                if n == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read_head)
            .await
            .unwrap_or_else(|_| panic!("GET {path} sent no head in time"));
        SseReader { head, body }
    }

    /// The status line and headers.
    #[must_use]
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The next event (comments skipped), or `None` when the stream ended.
    ///
    /// # Panics
    /// When `limit` passes first.
    pub async fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        let read = async {
            let (mut id, mut event, mut data) = (None, None, Vec::new());
            let mut any = false;
            loop {
                let mut line = String::new();
                if self.body.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return None;
                }
                let line = line.trim_end_matches(['\r', '\n']);
                if line.is_empty() {
                    if any {
                        return Some(SseEvent {
                            id,
                            event: event.unwrap_or_else(|| "message".to_owned()),
                            data: data.join("\n"),
                        });
                    }
                    continue;
                }
                if line.starts_with(':') {
                    continue;
                }
                any = true;
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => id = value.parse().ok(),
                    "event" => event = Some(value.to_owned()),
                    "data" => data.push(value.to_owned()),
                    _ => {}
                }
            }
        };
        tokio::time::timeout(limit, read)
            .await
            .unwrap_or_else(|_| panic!("no event within {limit:?}"))
    }
}
