//! One scrape of the server's `/metrics`, reduced to the figures the soak tool tracks.
//!
//! The metric names are the server's documented ones; a missing metric reads as `None`
//! so an older or partial server still gives a report (with gaps) instead of an error.

use super::prometheus::{Exposition, Histogram};

/// Metric names the soak tool reads, as the server exposes them.
pub mod names {
    /// Histogram of time spent inside each tick.
    pub const TICK_DURATION: &str = "tickwire_tick_duration_seconds";
    /// Histogram of how late each tick started after its deadline.
    pub const TICK_LATENESS: &str = "tickwire_tick_lateness_seconds";
    /// Ticks that started more than one period late.
    pub const TICK_OVERRUNS: &str = "tickwire_tick_overruns_total";
    /// Ticks run.
    pub const TICKS: &str = "tickwire_ticks_total";
    /// Connected sessions.
    pub const SESSIONS: &str = "tickwire_sessions";
    /// Entities in the world.
    pub const ENTITIES: &str = "tickwire_entities";
    /// WebSocket payload bytes sent to clients.
    pub const BYTES_SENT: &str = "tickwire_bytes_sent_total";
    /// WebSocket payload bytes received from clients.
    pub const BYTES_RECEIVED: &str = "tickwire_bytes_received_total";
    /// Messages sent to clients.
    pub const MESSAGES_SENT: &str = "tickwire_messages_sent_total";
    /// Histogram of snapshot message sizes.
    pub const SNAPSHOT_BYTES: &str = "tickwire_snapshot_bytes";
    /// Server resident set size.
    pub const RSS: &str = "tickwire_process_resident_memory_bytes";
    /// Server CPU time (user + system).
    pub const CPU: &str = "tickwire_process_cpu_seconds_total";
    /// Median tick duration over the server's last summary window.
    pub const TICK_P50: &str = "tickwire_tick_duration_p50_seconds";
    /// 99th percentile tick duration over the last window.
    pub const TICK_P99: &str = "tickwire_tick_duration_p99_seconds";
    /// Longest tick over the last window.
    pub const TICK_MAX: &str = "tickwire_tick_duration_max_seconds";
    /// 99th percentile tick-start lateness over the last window.
    pub const LATENESS_P99: &str = "tickwire_tick_lateness_p99_seconds";
}

/// What one scrape says, cumulative counters as read (not yet differenced).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    /// Tick duration p50 over the server's last window, seconds.
    pub tick_p50: Option<f64>,
    /// Tick duration p99 over the last window, seconds.
    pub tick_p99: Option<f64>,
    /// Longest tick over the last window, seconds.
    pub tick_max: Option<f64>,
    /// Tick-start lateness p99 over the last window, seconds.
    pub lateness_p99: Option<f64>,
    /// Overruns since the server started.
    pub overruns: Option<f64>,
    /// Ticks since the server started.
    pub ticks: Option<f64>,
    /// Connected sessions now.
    pub sessions: Option<f64>,
    /// Entities in the world now.
    pub entities: Option<f64>,
    /// Bytes sent since the server started.
    pub bytes_sent: Option<f64>,
    /// Bytes received since the server started.
    pub bytes_received: Option<f64>,
    /// Messages sent since the server started.
    pub messages_sent: Option<f64>,
    /// Resident memory now, bytes.
    pub rss: Option<f64>,
    /// CPU seconds used since the server started.
    pub cpu_seconds: Option<f64>,
    /// The cumulative tick duration histogram (for whole-run quantiles).
    pub tick_duration: Option<Histogram>,
    /// The cumulative tick lateness histogram.
    pub tick_lateness: Option<Histogram>,
    /// The cumulative snapshot size histogram.
    pub snapshot_bytes: Option<Histogram>,
}

impl Reading {
    /// Reduces a parsed scrape to a reading.
    #[must_use]
    pub fn from_exposition(e: &Exposition) -> Reading {
        Reading {
            tick_p50: e.value(names::TICK_P50),
            tick_p99: e.value(names::TICK_P99),
            tick_max: e.value(names::TICK_MAX),
            lateness_p99: e.value(names::LATENESS_P99),
            overruns: e.counter(names::TICK_OVERRUNS),
            ticks: e.counter(names::TICKS),
            sessions: e.value(names::SESSIONS),
            entities: e.value(names::ENTITIES),
            bytes_sent: e.counter(names::BYTES_SENT),
            bytes_received: e.counter(names::BYTES_RECEIVED),
            messages_sent: e.counter(names::MESSAGES_SENT),
            rss: e.value(names::RSS),
            cpu_seconds: e.counter(names::CPU),
            tick_duration: e.histogram(names::TICK_DURATION),
            tick_lateness: e.histogram(names::TICK_LATENESS),
            snapshot_bytes: e.histogram(names::SNAPSHOT_BYTES),
        }
    }

    /// Parses exposition text straight into a reading.
    pub fn parse(text: &str) -> Result<Reading, super::prometheus::ParseError> {
        Ok(Reading::from_exposition(&Exposition::parse(text)?))
    }

    /// The documented metric names this scrape lacks (to warn about once).
    #[must_use]
    pub fn missing(&self) -> Vec<&'static str> {
        let checks: [(&str, bool); 13] = [
            (names::TICK_P50, self.tick_p50.is_some()),
            (names::TICK_P99, self.tick_p99.is_some()),
            (names::TICK_MAX, self.tick_max.is_some()),
            (names::LATENESS_P99, self.lateness_p99.is_some()),
            (names::TICK_OVERRUNS, self.overruns.is_some()),
            (names::TICKS, self.ticks.is_some()),
            (names::SESSIONS, self.sessions.is_some()),
            (names::BYTES_SENT, self.bytes_sent.is_some()),
            (names::RSS, self.rss.is_some()),
            (names::CPU, self.cpu_seconds.is_some()),
            (names::TICK_DURATION, self.tick_duration.is_some()),
            (names::TICK_LATENESS, self.tick_lateness.is_some()),
            (names::SNAPSHOT_BYTES, self.snapshot_bytes.is_some()),
        ];
        checks
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(n, _)| n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_names_and_reports_missing_ones() {
        let text = "\
tickwire_tick_duration_p99_seconds 0.0012
tickwire_tick_overruns_total 2
tickwire_sessions 50
tickwire_process_resident_memory_bytes 1.5e7
tickwire_process_cpu_seconds_total 3.25
tickwire_tick_duration_seconds_bucket{le=\"0.001\"} 5
tickwire_tick_duration_seconds_bucket{le=\"+Inf\"} 6
tickwire_tick_duration_seconds_sum 0.01
tickwire_tick_duration_seconds_count 6
";
        let r = Reading::parse(text).unwrap();
        assert_eq!(r.tick_p99, Some(0.0012));
        assert_eq!(r.overruns, Some(2.0));
        assert_eq!(r.sessions, Some(50.0));
        assert_eq!(r.rss, Some(1.5e7));
        assert_eq!(r.cpu_seconds, Some(3.25));
        assert_eq!(r.tick_duration.as_ref().map(|h| h.count), Some(6.0));
        let missing = r.missing();
        assert!(missing.contains(&names::TICK_P50));
        assert!(!missing.contains(&names::TICK_P99));
        assert!(!missing.contains(&names::TICK_DURATION));
    }
}
