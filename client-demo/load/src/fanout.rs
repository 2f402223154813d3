//! The chat fan-out benchmark: a few senders chat at a fixed rate while every connected
//! client receives every line; it reports deliveries per second, lines lost, and the
//! latency from a line's send to each delivery.
//!
//! Senders and receivers live in this one process, so a line carries its send time as
//! microseconds of this process's monotonic clock and each delivery's latency is exact.
//! Receivers are count-only clients: they ack snapshots without decoding them, so the
//! game's snapshots still flow while the chat is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tickwire_client::{Client, ClientEvent, ConnectOptions, Mode};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::bots::tally::micros_histogram;

/// How long receivers keep reading after the last line, so lines in flight arrive.
const DRAIN: Duration = Duration::from_secs(2);

/// How long all clients may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// The prefix that marks a benchmark line.
const TAG: &str = "fanout";

/// What to run.
#[derive(Clone, Debug)]
pub struct FanoutConfig {
    /// The server's WebSocket URL.
    pub url: String,
    /// Connected clients, senders included; each receives every line.
    pub clients: usize,
    /// How many of them send.
    pub senders: usize,
    /// Lines per second, all senders together.
    pub lines_per_s: f64,
    /// How long the senders send.
    pub duration: Duration,
}

/// What a run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FanoutReport {
    /// Clients connected when the senders started.
    pub clients: usize,
    /// Lines the senders sent.
    pub lines_sent: u64,
    /// Deliveries owed: every line to every client connected at the start.
    pub expected: u64,
    /// Deliveries that arrived.
    pub delivered: u64,
    /// Deliveries that never arrived (`expected - delivered`).
    pub lost: u64,
    /// Deliveries per second over the sending time.
    pub deliveries_per_s: f64,
    /// Send-to-delivery latency, p50, ms.
    pub latency_p50_ms: f64,
    /// Send-to-delivery latency, p99, ms.
    pub latency_p99_ms: f64,
    /// Send-to-delivery latency, p99.9, ms.
    pub latency_p999_ms: f64,
    /// The slowest delivery, ms.
    pub latency_max_ms: f64,
}

/// Shared between the run and its clients.
struct Shared {
    /// The clock lines are stamped with.
    t0: Instant,
    /// Clients connected so far.
    connected: AtomicUsize,
    /// Next line number.
    next_line: AtomicU64,
    /// True while the senders send.
    sending: watch::Receiver<bool>,
}

/// Runs the benchmark against a running server.
///
/// # Errors
/// When not every client could connect in time.
pub async fn run(config: &FanoutConfig) -> Result<FanoutReport, String> {
    let (sending_tx, sending) = watch::channel(false);
    let shared = Arc::new(Shared {
        t0: Instant::now(),
        connected: AtomicUsize::new(0),
        next_line: AtomicU64::new(0),
        sending,
    });
    let stop = CancellationToken::new();
    let per_sender = Duration::from_secs_f64(config.senders as f64 / config.lines_per_s);
    let tasks: Vec<_> = (0..config.clients)
        .map(|i| {
            let interval = (i < config.senders).then_some(per_sender);
            let (url, shared, stop) = (config.url.clone(), shared.clone(), stop.clone());
            tokio::spawn(async move { client(i, &url, interval, &shared, &stop).await })
        })
        .collect();
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    while shared.connected.load(Ordering::Relaxed) < config.clients {
        if Instant::now() > deadline {
            stop.cancel();
            return Err(format!(
                "only {} of {} clients connected within {CONNECT_TIMEOUT:?}",
                shared.connected.load(Ordering::Relaxed),
                config.clients
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let clients = shared.connected.load(Ordering::Relaxed);
    let _ = sending_tx.send(true);
    tokio::time::sleep(config.duration).await;
    let _ = sending_tx.send(false);
    tokio::time::sleep(DRAIN).await;
    stop.cancel();

    let mut latency = micros_histogram();
    let mut delivered = 0;
    for task in tasks {
        if let Ok((n, h)) = task.await {
            delivered += n;
            let _ = latency.add(&h);
        }
    }
    let lines_sent = shared.next_line.load(Ordering::Relaxed);
    let expected = lines_sent * clients as u64;
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    Ok(FanoutReport {
        clients,
        lines_sent,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        deliveries_per_s: delivered as f64 / config.duration.as_secs_f64(),
        latency_p50_ms: ms(0.5),
        latency_p99_ms: ms(0.99),
        latency_p999_ms: ms(0.999),
        latency_max_ms: latency.max() as f64 / 1000.0,
    })
}

/// One client: connects, counts the benchmark lines it receives with their latency, and,
/// when it is a sender, sends a line every `interval` while the run is sending.
async fn client(
    i: usize,
    url: &str,
    interval: Option<Duration>,
    shared: &Shared,
    stop: &CancellationToken,
) -> (u64, Histogram<u64>) {
    let mut latency = micros_histogram();
    let mut delivered = 0;
    let options = ConnectOptions::new(format!("fan-{i}")).mode(Mode::CountOnly);
    let Ok(mut client) = Client::connect(url, options).await else {
        return (0, latency);
    };
    shared.connected.fetch_add(1, Ordering::Relaxed);
    let mut sending = shared.sending.clone();
    let mut ticker = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick(), if interval.is_some() && *sending.borrow_and_update() => {
                let n = shared.next_line.fetch_add(1, Ordering::Relaxed);
                let sent = shared.t0.elapsed().as_micros();
                if client.chat(format!("{TAG} {n} {sent}")).await.is_err() {
                    break;
                }
            }
            _ = sending.changed(), if interval.is_some() => {}
            event = client.next_event() => match event {
                Ok(ClientEvent::Chat(line)) => {
                    if let Some(sent) = sent_at(&line.text) {
                        let now = shared.t0.elapsed().as_micros();
                        let us = u64::try_from(now.saturating_sub(sent)).unwrap_or(u64::MAX);
                        let _ = latency.record(us.clamp(1, latency.high()));
                        delivered += 1;
                    }
                }
                Ok(ClientEvent::Closed(_)) | Err(_) => break,
                Ok(_) => {}
            },
        }
    }
    (delivered, latency)
}

/// The send time a benchmark line carries.
fn sent_at(text: &str) -> Option<u128> {
    let mut words = text.split(' ');
    (words.next()? == TAG).then_some(())?;
    words.next()?.parse::<u64>().ok()?;
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_benchmark_lines_carry_a_send_time() {
        assert_eq!(sent_at("fanout 7 123456"), Some(123_456));
        assert_eq!(sent_at("hello there"), None);
        assert_eq!(sent_at("fanout x 1"), None);
        assert_eq!(sent_at("fanout 1"), None);
    }
}
