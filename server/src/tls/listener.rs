//! A TLS listener for `axum::serve`: a background task accepts TCP connections and runs
//! each handshake in its own task, bounded in time and in number, and hands finished
//! streams to axum over a bounded channel. A slow or silent client therefore holds up
//! nobody but itself.
//!
//! Handshakes run outside `Listener::accept` on purpose: axum awaits `accept` before it
//! takes the next connection, so a handshake done there would let one client that never
//! finishes its ClientHello stall every other connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::{debug, error};

use crate::metrics::Metrics;

/// A finished connection: the TLS stream and the client's address.
type Accepted = (TlsStream<TcpStream>, SocketAddr);

/// How long, in time and in number, handshakes may take.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeLimits {
    /// A handshake not finished by then is dropped, so a client that connects and says
    /// nothing costs a socket for this long at most.
    pub timeout: Duration,
    /// Most handshakes in flight (and finished streams not yet taken by axum) at once.
    /// When they are all taken, new TCP connections wait in the kernel's accept backlog.
    pub max_in_flight: usize,
    /// Finished streams waiting for axum to take them.
    pub queue: usize,
}

impl Default for HandshakeLimits {
    fn default() -> HandshakeLimits {
        HandshakeLimits {
            timeout: Duration::from_secs(10),
            max_in_flight: 1024,
            queue: 64,
        }
    }
}

/// Accepts TLS connections (see the module docs). Dropping it stops its background task
/// and every handshake still in flight.
pub struct TlsListener {
    /// Finished handshakes from the background task.
    ready: mpsc::Receiver<Accepted>,
    /// The address the TCP socket is bound to.
    local_addr: SocketAddr,
    /// Cancels the background task when the listener goes away (axum drops it when it
    /// stops serving).
    _stop: DropGuard,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config` and the default limits. The background
    /// task stops when `shutdown` fires or the listener is dropped; failed handshakes
    /// are counted in `metrics` as refused connections.
    ///
    /// Must be called inside a tokio runtime.
    pub fn new(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        metrics: Arc<Metrics>,
        shutdown: &CancellationToken,
    ) -> std::io::Result<TlsListener> {
        TlsListener::with_limits(tcp, config, metrics, shutdown, HandshakeLimits::default())
    }

    /// `new` with explicit handshake limits.
    pub fn with_limits(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        metrics: Arc<Metrics>,
        shutdown: &CancellationToken,
        limits: HandshakeLimits,
    ) -> std::io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(limits.queue.max(1));
        let stop = shutdown.child_token();
        let acceptor = Acceptor {
            tcp,
            slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            handshaker: Handshaker {
                tls: TlsAcceptor::from(config),
                ready: tx,
                timeout: limits.timeout,
                metrics,
                stop: stop.clone(),
            },
        };
        tokio::spawn(acceptor.run());
        Ok(TlsListener {
            ready,
            local_addr,
            _stop: stop.drop_guard(),
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The background task has stopped (shutdown): nothing will ever come again,
            // and axum is about to stop asking.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// The background task's state.
struct Acceptor {
    /// The bound socket.
    tcp: TcpListener,
    /// One permit per connection between TCP accept and axum taking it.
    slots: Arc<Semaphore>,
    /// What each connection's task needs.
    handshaker: Handshaker,
}

impl Acceptor {
    /// Accepts until stopped, spawning one handshake task per connection.
    async fn run(self) {
        let stop = self.handshaker.stop.clone();
        loop {
            let slot = tokio::select! {
                _ = stop.cancelled() => return,
                slot = self.slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                accepted = self.tcp.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(e, &stop).await;
                    continue;
                }
            };
            // Inputs and acks are tiny and latency-critical; TLS records do not change that.
            let _ = stream.set_nodelay(true);
            tokio::spawn(self.handshaker.clone().run(stream, peer, slot));
        }
    }
}

/// Deals with a failed TCP accept as axum does for plain TCP: a connection that died in
/// the backlog is nothing; anything else (out of file descriptors) is logged and retried
/// a second later instead of spinning.
async fn accept_failed(e: std::io::Error, stop: &CancellationToken) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    error!(cause = %e, "accepting a TCP connection failed; retrying in 1 s");
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}

/// What one connection's handshake task needs (cheap to clone).
#[derive(Clone)]
struct Handshaker {
    /// Runs the server side of the handshake.
    tls: TlsAcceptor,
    /// Where finished streams go.
    ready: mpsc::Sender<Accepted>,
    /// The handshake deadline.
    timeout: Duration,
    /// Counts failed handshakes.
    metrics: Arc<Metrics>,
    /// Ends the accept loop and every handshake.
    stop: CancellationToken,
}

impl Handshaker {
    /// Runs one handshake and hands the stream over; `_slot` is held until axum has it.
    async fn run(self, stream: TcpStream, peer: SocketAddr, _slot: OwnedSemaphorePermit) {
        let outcome = tokio::select! {
            _ = self.stop.cancelled() => return,
            outcome = tokio::time::timeout(self.timeout, self.tls.accept(stream)) => outcome,
        };
        let stream = match outcome {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                debug!(peer = %peer, cause = %e, "TLS handshake failed");
                self.metrics.connection_refused("tls_handshake");
                return;
            }
            Err(_) => {
                debug!(peer = %peer, timeout = ?self.timeout, "TLS handshake timed out");
                self.metrics.connection_refused("tls_timeout");
                return;
            }
        };
        tokio::select! {
            _ = self.stop.cancelled() => {}
            // An error means axum has stopped listening; the stream is simply dropped.
            _ = self.ready.send((stream, peer)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};

    use super::*;

    /// How long any single expected step may take.
    const STEP: Duration = Duration::from_secs(5);

    async fn within<T>(limit: Duration, what: &str, f: impl Future<Output = T>) -> T {
        tokio::time::timeout(limit, f)
            .await
            .unwrap_or_else(|_| panic!("{what} took longer than {limit:?}"))
    }

    /// A server and a client configuration for a fresh self-signed `127.0.0.1`.
    fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let provider = || Arc::new(ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(made.cert.der().clone()).unwrap();
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_handshake_is_dropped_at_the_deadline_while_others_are_served() {
        let (server, client) = configs();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = Arc::new(Metrics::new());
        let shutdown = CancellationToken::new();
        let limits = HandshakeLimits {
            timeout: Duration::from_millis(1500),
            ..HandshakeLimits::default()
        };
        let mut listener =
            TlsListener::with_limits(tcp, server, metrics.clone(), &shutdown, limits).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();

        // A real client connecting after the silent one is handed over well before the
        // silent one's deadline: handshakes do not queue behind each other.
        let connector = TlsConnector::from(client);
        let client = tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await?;
            let name = ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
            let mut tls = connector.connect(name, tcp).await?;
            tls.write_all(b"ping").await?;
            tls.flush().await?;
            Ok::<_, std::io::Error>(tls)
        });
        let (mut accepted, peer) = within(
            Duration::from_millis(1000),
            "the real client",
            listener.accept(),
        )
        .await;
        let _client = within(STEP, "the client handshake", client)
            .await
            .unwrap()
            .unwrap();
        let mut got = [0u8; 4];
        within(STEP, "the client's bytes", accepted.read_exact(&mut got))
            .await
            .unwrap();
        assert_eq!(&got, b"ping");
        assert!(peer.ip().is_loopback(), "unexpected peer {peer}");

        // The silent one is closed by the server at the deadline, and counted.
        let mut buf = [0u8; 1];
        let closed = within(
            STEP,
            "the silent connection to close",
            silent.read(&mut buf),
        )
        .await;
        assert!(
            matches!(closed, Ok(0) | Err(_)),
            "the silent connection got data: {closed:?}"
        );
        within(STEP, "the timeout to be counted", async {
            while !metrics
                .render_with_rooms(&[], &[])
                .contains("reason=\"tls_timeout\"")
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        shutdown.cancel();
    }
}
