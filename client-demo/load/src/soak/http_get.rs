//! A minimal HTTP/1.1 GET for scraping `/metrics` and polling `/healthz`, over plain
//! HTTP or HTTPS (rustls, trusting a `TlsTrust`): one request per connection, bounded in
//! size and time.
//!
//! A full HTTP client would be a heavy dependency for two URLs; this handles what a
//! scrape needs (`Content-Length`, chunked, or read-to-close bodies).

use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use tickwire_client::{TlsTrust, TlsTrustError};

/// The largest response accepted (a metrics page is a few kilobytes).
const MAX_RESPONSE: usize = 8 * 1024 * 1024;

/// Why a GET failed.
#[derive(Debug, Error)]
pub enum HttpError {
    /// The URL is not `http://host:port/path` or `https://host:port/path`.
    #[error("unsupported URL {0:?} (expected http://host:port/path or https://host:port/path)")]
    BadUrl(String),
    /// The trust for an `https://` URL could not be set up.
    #[error("tls: {0}")]
    Tls(#[from] TlsTrustError),
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No complete response within the time limit.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The response was not a well-formed HTTP/1.x response.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// The server answered with a status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The response was larger than `MAX_RESPONSE`.
    #[error("response larger than {MAX_RESPONSE} bytes")]
    TooLarge,
}

/// A URL split into what a GET needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// `https://` rather than `http://`.
    pub secure: bool,
    /// `host:port`, to connect to and to send as `Host`.
    pub authority: &'a str,
    /// The host alone (brackets removed from an IPv6 literal), for TLS's server name.
    pub host: &'a str,
    /// The path, `/` if the URL has none.
    pub path: &'a str,
}

/// Splits `http(s)://host:port/path`. The port is required.
pub fn split_url(url: &str) -> Result<Target<'_>, HttpError> {
    let bad = || HttpError::BadUrl(url.to_owned());
    let (secure, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = authority.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(Target {
        secure,
        authority,
        host,
        path,
    })
}

/// GETs `url` and returns the body of a 200 response as text. `https://` URLs trust
/// `tls`, or the system's CA certificates without it.
pub async fn get(
    url: &str,
    timeout: Duration,
    tls: Option<&TlsTrust>,
) -> Result<String, HttpError> {
    let target = split_url(url)?;
    let fut = async {
        let tcp = TcpStream::connect(target.authority).await?;
        if !target.secure {
            return exchange(tcp, &target).await;
        }
        let trust = match tls {
            Some(trust) => trust.clone(),
            None => TlsTrust::system()?,
        };
        let name = ServerName::try_from(target.host.to_owned())
            .map_err(|_| HttpError::BadUrl(url.to_owned()))?;
        let stream = TlsConnector::from(trust.config())
            .connect(name, tcp)
            .await?;
        exchange(stream, &target).await
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| HttpError::Timeout(timeout))?
}

/// Sends the request on `stream` and reads the response.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    target: &Target<'_>,
) -> Result<String, HttpError> {
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        target.path, target.authority
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify after a complete response is
            // common and harmless.
            Err(e)
                if e.kind() == std::io::ErrorKind::UnexpectedEof && header_end(&raw).is_some() =>
            {
                0
            }
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() > MAX_RESPONSE {
            return Err(HttpError::TooLarge);
        }
        if response_complete(&raw) {
            break;
        }
    }
    parse_response(&raw)
}

fn header_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })
}

fn is_chunked(head: &str) -> bool {
    head.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
        })
    })
}

/// True once `raw` holds a whole response whose length is known from its headers, so the
/// reader need not wait for the server to close.
fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = header_end(raw) else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    if let Some(len) = content_length(&head) {
        return raw.len() - end >= len;
    }
    is_chunked(&head) && raw[end..].ends_with(b"0\r\n\r\n")
}

/// Parses a complete HTTP/1.x response and returns its body if the status is 200.
pub fn parse_response(raw: &[u8]) -> Result<String, HttpError> {
    let end = header_end(raw).ok_or(HttpError::Malformed("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(HttpError::Malformed("not an HTTP/1.x status line"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Malformed("bad status code"))?;
    if status != 200 {
        return Err(HttpError::Status(status));
    }
    let body = &raw[end..];
    let body = if is_chunked(&head) {
        dechunk(body)?
    } else if let Some(len) = content_length(&head) {
        body.get(..len)
            .ok_or(HttpError::Malformed("body shorter than Content-Length"))?
            .to_vec()
    } else {
        body.to_vec()
    };
    String::from_utf8(body).map_err(|_| HttpError::Malformed("body is not UTF-8"))
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(HttpError::Malformed("truncated chunk size"))?;
        let size_text = std::str::from_utf8(&body[..line_end])
            .map_err(|_| HttpError::Malformed("bad chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed("bad chunk size"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let data = body
            .get(..size)
            .ok_or(HttpError::Malformed("truncated chunk"))?;
        out.extend_from_slice(data);
        body = body
            .get(size + 2..)
            .ok_or(HttpError::Malformed("truncated chunk"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let t = split_url("http://127.0.0.1:9/metrics").unwrap();
        assert_eq!(
            (t.secure, t.authority, t.host, t.path),
            (false, "127.0.0.1:9", "127.0.0.1", "/metrics")
        );
        let t = split_url("https://[::1]:7777").unwrap();
        assert_eq!(
            (t.secure, t.authority, t.host, t.path),
            (true, "[::1]:7777", "::1", "/")
        );
        assert_eq!(split_url("http://h:1").unwrap().path, "/");
        assert!(split_url("ftp://h:1/x").is_err());
        assert!(split_url("http://nohostport/x").is_err());
        assert!(split_url("http://h:notaport/x").is_err());
        assert!(split_url("http://:80/x").is_err());
    }

    #[test]
    fn parses_length_chunked_and_error_responses() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert!(response_complete(plain));
        assert_eq!(parse_response(plain).unwrap(), "hello");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n";
        assert!(response_complete(chunked));
        assert_eq!(parse_response(chunked).unwrap(), "hello");
        let missing = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(missing),
            Err(HttpError::Status(404))
        ));
        assert!(!response_complete(
            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nhi"
        ));
        assert!(parse_response(b"garbage").is_err());
    }

    #[tokio::test]
    async fn gets_from_a_loopback_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            // Keep the connection open: the client must stop at Content-Length.
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let body = get(
            &format!("http://{addr}/metrics"),
            Duration::from_secs(1),
            None,
        )
        .await
        .unwrap();
        assert_eq!(body, "ok");
        server.abort();
    }
}
