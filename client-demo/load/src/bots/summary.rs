//! The end-of-run summary of a bot fleet: connections, snapshot rates and gaps, RTT,
//! bandwidth and desyncs, as a serde struct and as text for people.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::tally::Tally;

/// Quantiles of a distribution, milliseconds. `None` when nothing was recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// How many values were recorded.
    pub count: u64,
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

impl Quantiles {
    /// Reads a microsecond histogram as millisecond quantiles.
    #[must_use]
    pub fn from_micros(h: &Histogram<u64>) -> Quantiles {
        let ms = |v: u64| v as f64 / 1000.0;
        if h.is_empty() {
            return Quantiles::default();
        }
        Quantiles {
            count: h.len(),
            p50: Some(ms(h.value_at_quantile(0.5))),
            p99: Some(ms(h.value_at_quantile(0.99))),
            p999: Some(ms(h.value_at_quantile(0.999))),
            max: Some(ms(h.max())),
        }
    }
}

/// The spread of per-bot snapshot rates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateSpread {
    /// Mean of the per-bot rates, per second.
    pub mean: Option<f64>,
    /// The slowest bot's rate.
    pub min: Option<f64>,
    /// The fastest bot's rate.
    pub max: Option<f64>,
    /// Bots whose rate was below 95% of the tick rate.
    pub below_95pct: u64,
    /// Bots with a measured rate (at least two snapshots in one session).
    pub measured: u64,
}

/// What a bot fleet did, end to end.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BotsSummary {
    /// Bots in the fleet.
    pub bots: usize,
    /// Their behavior.
    pub behavior: String,
    /// Bots that decoded and verified every snapshot.
    pub decoding: usize,
    /// Wall time from the first connect to the end, seconds.
    pub elapsed_s: f64,
    /// The server's tick rate (from `Welcome`).
    pub tick_hz: Option<u16>,
    /// Bots that connected at least once.
    pub bots_connected: u64,
    /// Sessions that reached `Welcome` (more than `bots` with `churn`).
    pub connects: u64,
    /// Connection attempts that failed.
    pub failed: u64,
    /// Sessions ended by the server or by an error rather than by the bot.
    pub disconnected: u64,
    /// Bots that lost a session at least once (dropped, refused mid-play or relocated).
    #[serde(default)]
    pub bots_dropped: u64,
    /// Sessions a draining server ended with `Relocate`, each followed by matchmaking
    /// again.
    #[serde(default)]
    pub relocated: u64,
    /// Snapshots received in all.
    pub snapshots: u64,
    /// Per-bot steady snapshot rates (measured from a second after the ramp).
    pub snapshots_per_s: RateSpread,
    /// Snapshot inter-arrival gaps within sessions, after the ramp, ms.
    pub gap_ms: Quantiles,
    /// Ping round-trip times after the ramp, ms.
    pub rtt_ms: Quantiles,
    /// Mean payload bytes received per second per connected bot.
    pub bytes_per_s_per_bot: Option<f64>,
    /// Mean payload bytes sent per second per connected bot.
    pub bytes_sent_per_s_per_bot: Option<f64>,
    /// Desyncs seen by the decoding bots.
    pub desyncs: u64,
    /// Failure and drop reasons, with counts.
    pub errors: Vec<(String, u64)>,
    /// CPU used by the load generator's process over the run, percent of one core
    /// (Linux only): shows whether the bots, rather than the server, were the limit.
    #[serde(default)]
    pub load_generator_cpu_pct: Option<f64>,
    /// The machine's 1-minute load average when the fleet started and ended (Linux only):
    /// how much else was competing for the cores.
    #[serde(default)]
    pub load_average: (Option<f64>, Option<f64>),
}

impl BotsSummary {
    /// Folds every bot's tally into the summary.
    #[must_use]
    pub fn from_tallies(behavior: &str, tallies: &[Tally], elapsed_s: f64) -> BotsSummary {
        let mut total = Tally::default();
        for t in tallies {
            total.merge(t);
        }
        let rates: Vec<f64> = tallies.iter().filter_map(Tally::snapshot_rate).collect();
        let tick_hz = total.tick_hz;
        let floor = tick_hz.map(|hz| f64::from(hz) * 0.95);
        let connected_s = total.connected_for.as_secs_f64();
        let per_bot_s = |bytes: u64| (connected_s > 0.0).then(|| bytes as f64 / connected_s);
        BotsSummary {
            bots: tallies.len(),
            behavior: behavior.to_owned(),
            decoding: tallies.iter().filter(|t| t.decoding).count(),
            elapsed_s,
            tick_hz,
            bots_connected: tallies.iter().filter(|t| t.connects > 0).count() as u64,
            connects: total.connects,
            failed: total.failed,
            disconnected: total.dropped,
            bots_dropped: tallies.iter().filter(|t| t.dropped > 0).count() as u64,
            relocated: total.relocated,
            snapshots: total.snapshots,
            snapshots_per_s: RateSpread {
                mean: (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64),
                min: rates.iter().copied().reduce(f64::min),
                max: rates.iter().copied().reduce(f64::max),
                below_95pct: floor.map_or(0, |f| rates.iter().filter(|r| **r < f).count() as u64),
                measured: rates.len() as u64,
            },
            gap_ms: Quantiles::from_micros(&total.gaps),
            rtt_ms: Quantiles::from_micros(&total.rtts),
            bytes_per_s_per_bot: per_bot_s(total.bytes_received),
            bytes_sent_per_s_per_bot: per_bot_s(total.bytes_sent),
            desyncs: total.desyncs,
            errors: total.errors.into_iter().collect(),
            load_generator_cpu_pct: None,
            load_average: (None, None),
        }
    }

    /// The summary as aligned `label  value` lines for a terminal.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.rows() {
            let _ = writeln!(out, "  {k:<28} {v}");
        }
        out
    }

    /// The summary as `(label, value)` rows, shared by the text and HTML renderings.
    #[must_use]
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let f = |v: Option<f64>, d: usize| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.d$}"));
        let q = |q: &Quantiles| {
            format!(
                "p50 {}  p99 {}  max {} ms  (n={})",
                f(q.p50, 2),
                f(q.p99, 2),
                f(q.max, 2),
                q.count
            )
        };
        let r = &self.snapshots_per_s;
        let mut rows = vec![
            (
                "bots",
                format!(
                    "{} ({}, {} decoding)",
                    self.bots, self.behavior, self.decoding
                ),
            ),
            (
                "connected / failed / dropped",
                format!(
                    "{} / {} / {}  ({} sessions; {} bots dropped, {} relocated)",
                    self.bots_connected,
                    self.failed,
                    self.disconnected,
                    self.connects,
                    self.bots_dropped,
                    self.relocated
                ),
            ),
            (
                "server tick rate",
                self.tick_hz.map_or("-".into(), |hz| format!("{hz} Hz")),
            ),
            (
                "snapshots/s per bot",
                format!(
                    "mean {}  min {}  max {}  ({} of {} below 95% of tick rate)",
                    f(r.mean, 2),
                    f(r.min, 2),
                    f(r.max, 2),
                    r.below_95pct,
                    r.measured
                ),
            ),
            ("snapshot gap", q(&self.gap_ms)),
            ("RTT", q(&self.rtt_ms)),
            (
                "bytes/s per bot (in / out)",
                format!(
                    "{} / {}",
                    f(self.bytes_per_s_per_bot, 0),
                    f(self.bytes_sent_per_s_per_bot, 0)
                ),
            ),
            ("desyncs", self.desyncs.to_string()),
            (
                "load generator CPU",
                format!(
                    "{}  (machine load average {} -> {})",
                    self.load_generator_cpu_pct
                        .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}% of one core")),
                    f(self.load_average.0, 2),
                    f(self.load_average.1, 2)
                ),
            ),
        ];
        if !self.errors.is_empty() {
            let top: Vec<String> = self
                .errors
                .iter()
                .take(4)
                .map(|(k, n)| format!("{n}× {k}"))
                .collect();
            rows.push(("errors", top.join("; ")));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn folds_tallies_into_rates_quantiles_and_counts() {
        let t0 = Instant::now();
        let bot = |period_us: u64, decoding: bool| {
            let mut t = Tally::default();
            t.decoding = decoding;
            t.session_started(30);
            for i in 0..=30 {
                t.snapshot(t0 + Duration::from_micros(period_us * i));
            }
            t.rtt(Duration::from_micros(800));
            t.connected_for = Duration::from_secs(1);
            t.bytes_received = 3000;
            t
        };
        // One bot on time, one at half rate.
        let s = BotsSummary::from_tallies("arena", &[bot(33_333, true), bot(66_666, false)], 2.0);
        assert_eq!(s.bots, 2);
        assert_eq!(s.decoding, 1);
        assert_eq!(s.bots_connected, 2);
        assert_eq!(s.snapshots, 62);
        assert_eq!(s.snapshots_per_s.measured, 2);
        assert_eq!(s.snapshots_per_s.below_95pct, 1);
        assert!((s.snapshots_per_s.min.unwrap() - 15.0).abs() < 0.01);
        assert_eq!(s.bytes_per_s_per_bot, Some(3000.0));
        assert_eq!(s.rtt_ms.count, 2);
        assert!((s.rtt_ms.p50.unwrap() - 0.8).abs() < 0.01);
        assert!(s.gap_ms.max.unwrap() > 66.0);
        assert!(s.to_text().contains("1 of 2 below 95%"));
    }
}
