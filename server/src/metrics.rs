//! Server metrics: on `/metrics` in Prometheus text format (prometheus-client, with
//! proper histograms), and on `/stats` as one JSON document (`ServerStats`) with the
//! whole run's exact tick timing from HDR histograms.
//!
//! One `Metrics` per server, no globals: tests can run several servers in one process.
//! Names are documented in the README; keep the two in step.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::fmt::Write as _;

use tickwire_shared::stats::{Distribution, RoomListing, ServerStats};

use crate::timing::{TickReport, distribution, histogram};

/// A reason label (why a session ended, why a connection was refused).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Short machine-readable reason, e.g. `malformed`, `server_full`.
    pub reason: String,
}

/// Every metric the server exports.
pub struct Metrics {
    /// Where the metrics are registered, for encoding.
    registry: Registry,
    /// Ticks that started more than one period late.
    tick_overruns: Counter,
    /// Ticks run.
    ticks: Counter,
    /// Live sessions (past Hello).
    pub sessions: Gauge,
    /// Entities in the world.
    pub entities: Gauge,
    /// Payload bytes sent to clients.
    pub bytes_sent: Counter,
    /// Payload bytes received from clients.
    pub bytes_received: Counter,
    /// Messages sent to clients.
    pub messages_sent: Counter,
    /// Messages received from clients.
    pub messages_received: Counter,
    /// Size of each snapshot message sent.
    snapshot_bytes: Histogram,
    /// Changed entities held back by clients' byte budgets, per message.
    budget_deferred: Counter,
    /// Sessions ended, by reason.
    pub sessions_closed: Family<ReasonLabel, Counter>,
    /// Connections refused before a session started, by reason.
    pub connections_refused: Family<ReasonLabel, Counter>,
    /// Client messages dropped without ending the session, by reason.
    pub messages_dropped: Family<ReasonLabel, Counter>,
    /// Process resident memory, refreshed at each scrape.
    rss: Gauge,
    /// Process CPU seconds (user + system), refreshed at each scrape.
    cpu: Gauge<f64, AtomicU64>,
    /// When the server started.
    started: Instant,
    /// Every tick thread's latest report.
    tick_reports: Arc<TickReports>,
    /// Rooms open now.
    rooms: Gauge,
    /// Rooms opened since the start.
    rooms_opened: Counter,
    /// Rooms whose game panicked.
    rooms_failed: Counter,
    /// Every snapshot size since the start, exactly.
    snapshot_sizes: Mutex<hdrhistogram::Histogram<u64>>,
}

/// A tick thread's report, as it publishes it (it only ever `try_lock`s it).
pub type TickSlot = Arc<Mutex<Arc<TickReport>>>;

/// The tick reports of every tick thread.
#[derive(Debug, Default)]
pub struct TickReports {
    /// One slot per tick thread.
    threads: Mutex<Vec<TickSlot>>,
}

impl TickReports {
    /// Every tick thread's ticks (every room's) as one report.
    fn merged(&self) -> TickReport {
        let reports: Vec<Arc<TickReport>> = lock(&self.threads)
            .iter()
            .map(|s| lock(s).clone())
            .collect();
        reports
            .iter()
            .fold(TickReport::default(), |all, r| all.merge(r))
    }
}

/// A Prometheus histogram of one of the tick report's distributions (in seconds),
/// encoded at scrape time from what the rooms last published, so the tick pool shares
/// no lock with a scrape.
#[derive(Debug)]
struct TickHistogram {
    reports: Arc<TickReports>,
    pick: fn(&TickReport) -> &Distribution,
}

/// The tick histograms' bucket bounds, seconds: 10 µs to ~0.66 s in quarter octaves.
fn tick_bucket_bounds() -> impl Iterator<Item = f64> {
    exponential_buckets(10e-6, 2f64.powf(0.25), 64)
}

impl EncodeMetric for TickHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let report = self.reports.merged();
        let d = (self.pick)(&report);
        let mut values = d.counts.iter().peekable();
        let mut buckets: Vec<(f64, u64)> = tick_bucket_bounds()
            .map(|bound| {
                let mut n = 0;
                while let Some(&(_, c)) = values.next_if(|&&(v, _)| v as f64 / 1e6 <= bound) {
                    n += c;
                }
                (bound, n)
            })
            .collect();
        buckets.push((f64::INFINITY, values.map(|&(_, c)| c).sum()));
        let sum = d.mean * d.count as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, d.count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// Locks `m`, carrying on past a panic elsewhere (the figures stay usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    #[must_use]
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tickwire");
        let tick_reports = Arc::new(TickReports::default());
        let m = Metrics {
            tick_overruns: Counter::default(),
            ticks: Counter::default(),
            sessions: Gauge::default(),
            entities: Gauge::default(),
            bytes_sent: Counter::default(),
            bytes_received: Counter::default(),
            messages_sent: Counter::default(),
            messages_received: Counter::default(),
            snapshot_bytes: Histogram::new(exponential_buckets(8.0, 2.0, 20)),
            budget_deferred: Counter::default(),
            sessions_closed: Family::default(),
            connections_refused: Family::default(),
            messages_dropped: Family::default(),
            rss: Gauge::default(),
            cpu: Gauge::default(),
            started: Instant::now(),
            tick_reports: tick_reports.clone(),
            rooms: Gauge::default(),
            rooms_opened: Counter::default(),
            rooms_failed: Counter::default(),
            snapshot_sizes: Mutex::new(histogram()),
            registry: Registry::default(),
        };
        registry.register(
            "tick_duration_seconds",
            "Time spent running each tick (as of the last whole second)",
            TickHistogram {
                reports: tick_reports.clone(),
                pick: |r| &r.duration_us,
            },
        );
        registry.register(
            "tick_lateness_seconds",
            "How late each tick started against its ideal deadline (as of the last whole second)",
            TickHistogram {
                reports: tick_reports,
                pick: |r| &r.lateness_us,
            },
        );
        registry.register(
            "tick_overruns",
            "Ticks that started more than one period late",
            m.tick_overruns.clone(),
        );
        registry.register("ticks", "Ticks run", m.ticks.clone());
        registry.register("rooms", "Rooms open", m.rooms.clone());
        registry.register("rooms_opened", "Rooms opened", m.rooms_opened.clone());
        registry.register(
            "rooms_failed",
            "Rooms ended because their game panicked",
            m.rooms_failed.clone(),
        );
        registry.register("sessions", "Live sessions", m.sessions.clone());
        registry.register("entities", "Entities in the world", m.entities.clone());
        registry.register(
            "bytes_sent",
            "Payload bytes sent to clients",
            m.bytes_sent.clone(),
        );
        registry.register(
            "bytes_received",
            "Payload bytes received from clients",
            m.bytes_received.clone(),
        );
        registry.register(
            "messages_sent",
            "Messages sent to clients",
            m.messages_sent.clone(),
        );
        registry.register(
            "messages_received",
            "Messages received from clients",
            m.messages_received.clone(),
        );
        registry.register(
            "snapshot_bytes",
            "Size of each snapshot message sent",
            m.snapshot_bytes.clone(),
        );
        registry.register(
            "budget_deferred_entities",
            "Changed entities a client's byte budget held back for a later snapshot (summed over messages)",
            m.budget_deferred.clone(),
        );
        registry.register(
            "sessions_closed",
            "Sessions ended, by reason",
            m.sessions_closed.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections refused before a session started, by reason",
            m.connections_refused.clone(),
        );
        registry.register(
            "messages_dropped",
            "Client messages dropped without ending the session, by reason",
            m.messages_dropped.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            m.rss.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "CPU time (user + system) of the server process",
            m.cpu.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts one tick (lock-free: called by the tick thread every tick).
    pub fn count_tick(&self, overrun: bool) {
        self.ticks.inc();
        if overrun {
            self.tick_overruns.inc();
        }
    }

    /// A new tick thread's report slot.
    pub fn tick_thread_slot(&self) -> TickSlot {
        let slot = TickSlot::default();
        lock(&self.tick_reports.threads).push(slot.clone());
        slot
    }

    /// Counts a room opened.
    pub fn room_opened(&self) {
        self.rooms_opened.inc();
        self.rooms.inc();
    }

    /// A room ended: its entities leave the count.
    pub fn room_closed(&self, entities: i64) {
        self.rooms.dec();
        self.entities.dec_by(entities);
    }

    /// Counts ticks a room skipped when it fell too far behind (overruns that never ran).
    pub fn count_skipped(&self, ticks: u64) {
        self.tick_overruns.inc_by(ticks);
    }

    /// Counts a room whose game panicked.
    pub fn room_failed(&self) {
        self.rooms_failed.inc();
    }

    /// Counts a snapshot message of `bytes` sent to one client, which held back
    /// `deferred` changed entities for a later one.
    pub fn snapshot_sent(&self, bytes: usize, deferred: usize) {
        self.budget_deferred.inc_by(deferred as u64);
        self.snapshot_bytes.observe(bytes as f64);
        lock(&self.snapshot_sizes).saturating_record(bytes.max(1) as u64);
    }

    /// The `/stats` document: everything since the start.
    #[must_use]
    pub fn stats(&self) -> ServerStats {
        let report = self.tick_reports.merged();
        let count = |c: &Counter| c.get();
        ServerStats {
            uptime_s: self.started.elapsed().as_secs_f64(),
            ticks: count(&self.ticks),
            overruns: count(&self.tick_overruns),
            tick_duration_us: report.duration_us.clone(),
            tick_lateness_us: report.lateness_us.clone(),
            last_second: report.last_second,
            sessions: u64::try_from(self.sessions.get()).unwrap_or(0),
            entities: u64::try_from(self.entities.get()).unwrap_or(0),
            bytes_sent: count(&self.bytes_sent),
            bytes_received: count(&self.bytes_received),
            messages_sent: count(&self.messages_sent),
            messages_received: count(&self.messages_received),
            snapshot_bytes: distribution(&lock(&self.snapshot_sizes)),
            process: tickwire_shared::process::usage(),
        }
    }

    /// Counts a session end.
    pub fn session_closed(&self, reason: &str) {
        self.sessions_closed
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts a refused connection.
    pub fn connection_refused(&self, reason: &str) {
        self.connections_refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts a dropped client message.
    pub fn message_dropped(&self, reason: &str) {
        self.messages_dropped
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Renders every metric as Prometheus text, refreshing the process gauges first, with
    /// per-room series for `rooms` (the caller picks a bounded few) and a room count per
    /// type in `kinds`.
    #[must_use]
    pub fn render_with_rooms(&self, rooms: &[RoomListing], kinds: &[(String, usize)]) -> String {
        let mut out = self.render_registry();
        let body_end = out.strip_suffix("# EOF\n").map_or(out.len(), str::len);
        out.truncate(body_end);
        let label = |v: &str| {
            v.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        if !kinds.is_empty() {
            out.push_str("# HELP tickwire_rooms_by_type Rooms open, by type.\n# TYPE tickwire_rooms_by_type gauge\n");
            for (kind, n) in kinds {
                let _ = writeln!(
                    out,
                    "tickwire_rooms_by_type{{type=\"{}\"}} {n}",
                    label(kind)
                );
            }
        }
        type Pick = fn(&RoomListing) -> f64;
        let families: [(&str, &str, &str, Pick); 4] = [
            (
                "room_players",
                "gauge",
                "Seats taken in the room (parked players included)",
                |r| r.players as f64,
            ),
            (
                "room_spectators",
                "gauge",
                "Spectators watching the room",
                |r| r.spectators as f64,
            ),
            (
                "room_tick_p99_seconds",
                "gauge",
                "The room's tick duration p99 over the last second",
                |r| r.tick_p99_ms / 1000.0,
            ),
            (
                "room_overruns",
                "counter",
                "Ticks of the room that started more than a period late",
                |r| r.overruns as f64,
            ),
        ];
        if !rooms.is_empty() {
            for (name, kind, help, pick) in families {
                let _ = writeln!(
                    out,
                    "# HELP tickwire_{name} {help} (the busiest rooms only; see metrics_rooms).\n# TYPE tickwire_{name} {kind}"
                );
                let suffix = if kind == "counter" { "_total" } else { "" };
                for r in rooms {
                    let _ = writeln!(
                        out,
                        "tickwire_{name}{suffix}{{room=\"{}\",type=\"{}\"}} {}",
                        r.id,
                        label(&r.kind),
                        pick(r)
                    );
                }
            }
        }
        out.push_str("# EOF\n");
        out
    }

    fn render_registry(&self) -> String {
        if let Some(stats) = tickwire_shared::process::usage() {
            self.rss.set(stats.rss_bytes as i64);
            self.cpu.set(stats.cpu_seconds);
        }
        let mut out = String::with_capacity(8 * 1024);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_names_every_documented_series() {
        let m = Metrics::new();
        m.count_tick(false);
        let report = TickReport {
            duration_us: Distribution::from_counts(vec![(300, 1)]),
            lateness_us: Distribution::from_counts(vec![(50, 1)]),
            ..TickReport::default()
        };
        // Two tick threads' reports merge.
        let slot = m.tick_thread_slot();
        *lock(&slot) = Arc::new(report.clone());
        let other = m.tick_thread_slot();
        *lock(&other) = Arc::new(report);
        m.room_opened();
        m.room_opened();
        m.room_closed(0);
        m.session_closed("malformed");
        m.snapshot_sent(300, 0);
        let text = m.render_with_rooms(&[], &[]);
        for name in [
            "tickwire_tick_duration_seconds_bucket",
            "tickwire_tick_lateness_seconds_count",
            "tickwire_tick_overruns_total",
            "tickwire_ticks_total 1",
            "tickwire_sessions ",
            "tickwire_bytes_sent_total",
            "tickwire_snapshot_bytes_bucket",
            "tickwire_sessions_closed_total{reason=\"malformed\"} 1",
            "tickwire_process_resident_memory_bytes",
            "tickwire_process_cpu_seconds",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
        // 300 µs lands in the first bucket at or above 0.0003 s, and in every one after.
        let buckets: Vec<(f64, u64)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("tickwire_tick_duration_seconds_bucket{le=\""))
            .filter_map(|l| l.split_once("\"} "))
            .map(|(le, n)| (le.parse().unwrap_or(f64::INFINITY), n.parse().unwrap()))
            .collect();
        assert_eq!(buckets.len(), 65);
        assert!(
            buckets
                .iter()
                .all(|&(le, n)| n == 2 * u64::from(le >= 0.0003))
        );
        assert!(text.contains("tickwire_tick_duration_seconds_count 2"));
        let stats = m.stats();
        assert_eq!((stats.ticks, stats.overruns), (1, 0));
        assert_eq!(stats.tick_duration_us.p99, 300);
        assert_eq!(stats.tick_duration_us.count, 2);
        assert!(text.contains("tickwire_rooms 1"), "{text}");
        let room = RoomListing {
            id: 7,
            kind: "de\"mo".into(),
            players: 3,
            tick_p99_ms: 0.5,
            overruns: 2,
            ..RoomListing::default()
        };
        let with = m.render_with_rooms(&[room], &[("demo".into(), 1)]);
        for line in [
            "tickwire_rooms_by_type{type=\"demo\"} 1\n",
            "tickwire_room_players{room=\"7\",type=\"de\\\"mo\"} 3\n",
            "tickwire_room_tick_p99_seconds{room=\"7\",type=\"de\\\"mo\"} 0.0005\n",
            "# TYPE tickwire_room_overruns counter\n",
            "tickwire_room_overruns_total{room=\"7\",type=\"de\\\"mo\"} 2\n",
        ] {
            assert!(with.contains(line), "missing {line:?} in\n{with}");
        }
        assert!(with.ends_with("# EOF\n") && with.matches("# EOF").count() == 1);
        assert!(text.contains("tickwire_rooms_opened_total 2"), "{text}");
        assert_eq!(stats.snapshot_bytes.count, 1);
        assert!(stats.process.is_some() || !cfg!(target_os = "linux"));
    }
}
