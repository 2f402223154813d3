//! The floor's load: clients that send `in_bytes`-byte messages at `in_hz` and count what
//! they receive. They send the way a Tickwire client does, because when a message goes
//! out decides how often the server wakes: while `in_hz` covers it, each client answers
//! every message it receives at once (as a client acks each snapshot) and sends the rest
//! of its rate on a timer (as inputs go out); below that, all of it on the timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::connect_async_with_config;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_util::sync::CancellationToken;

use super::server::Traffic;

/// What the floor's clients have received and sent so far, all clients together.
#[derive(Debug, Default)]
pub struct Counts {
    /// Clients connected now.
    pub connected: AtomicU64,
    /// Messages received.
    pub received: AtomicU64,
    /// Payload bytes received.
    pub received_bytes: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// Connections that failed or ended early.
    pub failed: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    #[must_use]
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Runs `clients` floor clients against `url` until `stop`, their connects spread over
/// `ramp`, counting into `counts`.
pub async fn run(
    url: String,
    clients: usize,
    ramp: Duration,
    traffic: Traffic,
    counts: Arc<Counts>,
    stop: CancellationToken,
) {
    let payload = Bytes::from(vec![0x5a; traffic.in_bytes]);
    let reply = traffic.in_hz >= traffic.out_hz;
    let timed_hz = if reply {
        traffic.in_hz - traffic.out_hz
    } else {
        traffic.in_hz
    };
    // A rate too small to matter still needs a period; that timer then never fires
    // within a run.
    let period = Duration::from_secs_f64(1.0 / timed_hz.max(1e-3));
    let t0 = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..clients {
        let start = t0 + ramp.mul_f64(i as f64 / clients.max(1) as f64);
        let (url, payload, counts, stop) =
            (url.clone(), payload.clone(), counts.clone(), stop.clone());
        tasks.spawn(async move {
            tokio::time::sleep_until(start).await;
            if !client(&url, period, reply, payload, &counts, &stop).await {
                Counts::add(&counts.failed, 1);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// One client, until `stop`; false if it could not connect or was cut off.
async fn client(
    url: &str,
    period: Duration,
    reply: bool,
    payload: Bytes,
    counts: &Counts,
    stop: &CancellationToken,
) -> bool {
    let Ok((mut ws, _)) = connect_async_with_config(url, None, true).await else {
        return false;
    };
    Counts::add(&counts.connected, 1);
    let mut every = tokio::time::interval_at(Instant::now() + period, period);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ended_well = loop {
        tokio::select! {
            _ = every.tick() => {
                if ws.send(Message::Binary(payload.clone())).await.is_err() {
                    break false;
                }
                Counts::add(&counts.sent, 1);
            }
            inbound = ws.next() => match inbound {
                Some(Ok(Message::Binary(b))) => {
                    Counts::add(&counts.received, 1);
                    Counts::add(&counts.received_bytes, b.len() as u64);
                    if reply {
                        if ws.send(Message::Binary(payload.clone())).await.is_err() {
                            break false;
                        }
                        Counts::add(&counts.sent, 1);
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break false,
                Some(Ok(_)) => {}
            },
            () = stop.cancelled() => break true,
        }
    };
    counts.connected.fetch_sub(1, Ordering::Relaxed);
    let _ = ws.close(None).await;
    ended_well
}
