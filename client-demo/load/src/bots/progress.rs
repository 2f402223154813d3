//! Progress lines while a fleet runs: connections, snapshot rate and bandwidth per bot
//! over the last period, desyncs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::live::{Live, LiveSnapshot};

/// One progress line from two readings of the live counters `dt` apart.
#[must_use]
pub fn line(
    elapsed: Duration,
    bots: usize,
    prev: LiveSnapshot,
    now: LiveSnapshot,
    dt: Duration,
) -> String {
    let secs = dt.as_secs_f64();
    let per_bot = |delta: u64| {
        if now.connected == 0 || secs <= 0.0 {
            0.0
        } else {
            delta as f64 / secs / now.connected as f64
        }
    };
    let snaps = per_bot(now.snapshots.saturating_sub(prev.snapshots));
    let kib = per_bot(now.bytes_received.saturating_sub(prev.bytes_received)) / 1024.0;
    format!(
        "[{:>5.0}s] connected {}/{}  failed {}  dropped {}  | {snaps:.1} snapshots/s/bot  {kib:.1} KiB/s/bot | desyncs {}",
        elapsed.as_secs_f64(),
        now.connected,
        bots,
        now.failed,
        now.dropped,
        now.desyncs
    )
}

/// Writes a progress line to stderr every `period` until `stop` is cancelled.
pub async fn print_every(live: Arc<Live>, bots: usize, period: Duration, stop: CancellationToken) {
    let start = Instant::now();
    let mut prev = live.read();
    let mut prev_at = Instant::now();
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = live.read();
        let at = Instant::now();
        eprintln!("{}", line(start.elapsed(), bots, prev, now, at - prev_at));
        prev = now;
        prev_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_per_bot_rates_over_the_period() {
        let prev = LiveSnapshot::default();
        let now = LiveSnapshot {
            connected: 10,
            snapshots: 600,
            bytes_received: 10 * 2 * 2048,
            ..LiveSnapshot::default()
        };
        let l = line(
            Duration::from_secs(7),
            12,
            prev,
            now,
            Duration::from_secs(2),
        );
        assert!(l.contains("connected 10/12"), "{l}");
        assert!(l.contains("30.0 snapshots/s/bot"), "{l}");
        assert!(l.contains("2.0 KiB/s/bot"), "{l}");
    }
}
