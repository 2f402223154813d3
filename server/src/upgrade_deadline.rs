//! A deadline on every connection until it becomes a WebSocket session. axum runs hyper
//! without a timer, so nothing else bounds a client that sends half an HTTP request, or
//! nothing, and holds its socket forever. Each accepted stream is wrapped so that, unless
//! `/ws` promotes it, reads and writes fail once the deadline passes and hyper closes it.
//! Plain HTTP (the page, `/healthz`, `/metrics`) is short, so it is bounded the same way.
//! The number of connections not yet promoted is capped too; past it, new ones are closed
//! on accept.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use dashmap::DashMap;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Connections not yet promoted, by peer address (unique per live TCP connection).
#[derive(Debug, Default)]
pub struct Pending {
    /// Each pending connection's promotion flag.
    flags: DashMap<SocketAddr, Arc<AtomicBool>>,
}

impl Pending {
    /// Lifts the deadline of the connection from `peer` (it is becoming a session).
    pub fn promote(&self, peer: SocketAddr) {
        if let Some((_, flag)) = self.flags.remove(&peer) {
            flag.store(true, Ordering::Release);
        }
    }

    /// How many connections are waiting to be promoted.
    #[must_use]
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether none are.
    #[cfg(test)]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }
}

/// A listener whose streams carry the deadline.
pub struct Deadlined<L> {
    /// The listener underneath.
    inner: L,
    /// Shared with the `/ws` handler, which promotes.
    pending: Arc<Pending>,
    /// How long a connection may stay unpromoted.
    deadline: Duration,
    /// Most connections pending at once.
    max_pending: usize,
}

impl<L> Deadlined<L> {
    /// Wraps `inner`.
    pub fn new(
        inner: L,
        pending: Arc<Pending>,
        deadline: Duration,
        max_pending: usize,
    ) -> Deadlined<L> {
        Deadlined {
            inner,
            pending,
            deadline,
            max_pending: max_pending.max(1),
        }
    }
}

impl<L> Listener for Deadlined<L>
where
    L: Listener<Addr = SocketAddr>,
{
    type Io = DeadlineIo<L::Io>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = self.inner.accept().await;
            if self.pending.len() >= self.max_pending {
                tracing::debug!(peer = %addr, "too many connections awaiting an upgrade; closing");
                drop(io);
                continue;
            }
            let flag = Arc::new(AtomicBool::new(false));
            self.pending.flags.insert(addr, flag.clone());
            let io = DeadlineIo {
                inner: io,
                promoted: flag,
                expiry: Some(Box::pin(tokio::time::sleep(self.deadline))),
                pending: self.pending.clone(),
                peer: addr,
            };
            return (io, addr);
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A stream that fails after its deadline unless promoted.
pub struct DeadlineIo<T> {
    /// The stream.
    inner: T,
    /// Set by `Pending::promote`.
    promoted: Arc<AtomicBool>,
    /// Fires at the deadline; dropped once the connection is promoted. (Kept, it would
    /// hold the waker of the HTTP task that last polled it, and so that task's memory, a
    /// few KiB, for as long as the session lasts.)
    expiry: Option<Pin<Box<Sleep>>>,
    /// To forget this connection when it closes.
    pending: Arc<Pending>,
    /// Its key there.
    peer: SocketAddr,
}

impl<T> DeadlineIo<T> {
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(expiry) = self.expiry.as_mut() else {
            return false;
        };
        if self.promoted.load(Ordering::Acquire) {
            self.expiry = None;
            return false;
        }
        expiry.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "no WebSocket session started before the deadline",
    )
}

impl<T> Drop for DeadlineIo<T> {
    fn drop(&mut self) {
        if !self.promoted.load(Ordering::Acquire) {
            self.pending
                .flags
                .remove_if(&self.peer, |_, f| Arc::ptr_eq(f, &self.promoted));
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair(
        deadline: Duration,
    ) -> (
        DeadlineIo<tokio::net::TcpStream>,
        tokio::net::TcpStream,
        Arc<Pending>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pending = Arc::new(Pending::default());
        let mut l = Deadlined::new(listener, pending.clone(), deadline, 8);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (io, _) = l.accept().await;
        (io, client, pending)
    }

    #[tokio::test]
    async fn a_silent_connection_fails_at_the_deadline_and_is_forgotten() {
        let (mut io, _client, pending) = pair(Duration::from_millis(100)).await;
        assert_eq!(pending.len(), 1);
        let mut buf = [0u8; 8];
        let err = tokio::time::timeout(Duration::from_secs(2), io.read(&mut buf))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(io);
        assert!(pending.is_empty());
    }

    #[tokio::test]
    async fn a_promoted_connection_lives_past_the_deadline() {
        let (mut io, mut client, pending) = pair(Duration::from_millis(100)).await;
        let peer = client.local_addr().unwrap();
        pending.promote(peer);
        assert!(pending.is_empty());
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        io.write_all(b"ok").await.unwrap();
    }
}
