//! The server's `/stats` document: whole-run tick timing, traffic and process figures in
//! one JSON object, defined here so the server that writes it and the tools that read it
//! (the soak tool, dashboards) share one definition.
//!
//! Each distribution carries its recorded values with their counts (HDR precision: values
//! within 0.1% share a bucket), so a reader can subtract an earlier reading from a later
//! one and take exact quantiles of the interval between them, instead of interpolating
//! inside coarse histogram buckets.

use serde::{Deserialize, Serialize};

/// Everything `/stats` reports. Counters are totals since the server started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Seconds since the server started.
    pub uptime_s: f64,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks that started more than one tick period late.
    pub overruns: u64,
    /// Time spent running each tick, in microseconds.
    pub tick_duration_us: Distribution,
    /// How late each tick started against its ideal deadline, in microseconds.
    pub tick_lateness_us: Distribution,
    /// The last whole second of ticks.
    pub last_second: TickWindow,
    /// Live sessions (past Hello).
    pub sessions: u64,
    /// Entities in the world.
    pub entities: u64,
    /// Payload bytes sent to clients.
    pub bytes_sent: u64,
    /// Payload bytes received from clients.
    pub bytes_received: u64,
    /// Messages sent to clients.
    pub messages_sent: u64,
    /// Messages received from clients.
    pub messages_received: u64,
    /// Size of each snapshot message sent, in bytes.
    pub snapshot_bytes: Distribution,
    /// The server process's memory and CPU, where the system tells them.
    pub process: Option<ProcessUsage>,
}

/// Resident memory and CPU time of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessUsage {
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Threads the process runs.
    #[serde(default)]
    pub threads: u64,
}

/// Percentiles of one window of ticks, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TickWindow {
    /// Ticks in the window.
    pub ticks: u64,
    /// Duration median.
    pub duration_p50_us: u64,
    /// Duration 99th percentile.
    pub duration_p99_us: u64,
    /// Longest duration.
    pub duration_max_us: u64,
    /// Lateness median.
    pub lateness_p50_us: u64,
    /// Lateness 99th percentile.
    pub lateness_p99_us: u64,
    /// Latest start.
    pub lateness_max_us: u64,
    /// Ticks that started more than one period late.
    pub overruns: u64,
}

/// A distribution of recorded values: its summary and the values themselves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Values recorded.
    pub count: u64,
    /// Smallest value (0 when empty).
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p99_9: u64,
    /// Largest value.
    pub max: u64,
    /// Mean.
    pub mean: f64,
    /// Every distinct recorded value with how often it was recorded, ascending by value.
    pub counts: Vec<(u64, u64)>,
}

impl Distribution {
    /// The distribution of `counts` (`(value, count)` pairs, ascending by value; pairs
    /// with a zero count are dropped).
    #[must_use]
    pub fn from_counts(mut counts: Vec<(u64, u64)>) -> Distribution {
        counts.retain(|&(_, n)| n > 0);
        let count = counts.iter().map(|&(_, n)| n).sum();
        let total: f64 = counts.iter().map(|&(v, n)| v as f64 * n as f64).sum();
        let mut d = Distribution {
            count,
            min: counts.first().map_or(0, |&(v, _)| v),
            max: counts.last().map_or(0, |&(v, _)| v),
            mean: if count == 0 {
                0.0
            } else {
                total / count as f64
            },
            counts,
            ..Distribution::default()
        };
        d.p50 = d.quantile(0.5);
        d.p95 = d.quantile(0.95);
        d.p99 = d.quantile(0.99);
        d.p99_9 = d.quantile(0.999);
        d
    }

    /// The smallest recorded value at or below which at least `q` of the values lie
    /// (0 when empty).
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for &(value, n) in &self.counts {
            seen += n;
            if seen >= rank {
                return value;
            }
        }
        self.max
    }

    /// The values of `self` and `other` together (two rooms' ticks, say).
    #[must_use]
    pub fn merge(&self, other: &Distribution) -> Distribution {
        let mut counts = Vec::with_capacity(self.counts.len() + other.counts.len());
        let (mut a, mut b) = (
            self.counts.iter().peekable(),
            other.counts.iter().peekable(),
        );
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(va, na)), Some(&&(vb, nb))) if va == vb => {
                    a.next();
                    b.next();
                    (va, na + nb)
                }
                (Some(&&x), Some(&&y)) => {
                    if x.0 < y.0 {
                        a.next();
                        x
                    } else {
                        b.next();
                        y
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            counts.push(next);
        }
        Distribution::from_counts(counts)
    }

    /// What was recorded after `earlier`, a reading of the same distribution taken
    /// before this one.
    #[must_use]
    pub fn since(&self, earlier: &Distribution) -> Distribution {
        let mut before = earlier.counts.iter().peekable();
        let counts = self
            .counts
            .iter()
            .map(|&(value, n)| {
                while before.next_if(|&&(v, _)| v < value).is_some() {}
                let old = before.next_if(|&&(v, _)| v == value).map_or(0, |&(_, n)| n);
                (value, n.saturating_sub(old))
            })
            .collect();
        Distribution::from_counts(counts)
    }
}

/// One server process of a cluster, as the room directory on Redis lists it (and
/// `GET /cluster` shows it): where it is, how loaded, and its rooms.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeListing {
    /// The process's id in the directory.
    pub node: String,
    /// The base URL clients and peers reach it at (`http://10.0.0.7:7777`).
    pub url: String,
    /// When it wrote this entry, in ms since the Unix epoch (its own clock).
    pub at_ms: u64,
    /// The protocol version its clients speak: players are placed only on processes of
    /// the matchmaker's own version (during a rolling upgrade, each version places on
    /// its own).
    #[serde(default)]
    pub protocol: u16,
    /// Whether it is draining (it takes no new players).
    pub draining: bool,
    /// Seated players over all its rooms (reserved seats included).
    pub players: usize,
    /// Open sessions (players and spectators).
    pub sessions: usize,
    /// Its session cap.
    pub max_sessions: usize,
    /// Its room cap.
    pub max_rooms: usize,
    /// The room types it runs, default first.
    pub types: Vec<String>,
    /// Its open rooms.
    pub rooms: Vec<NodeRoom>,
}

/// One room in a `NodeListing`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeRoom {
    /// The room's id on its process.
    pub id: u32,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seated players (reserved seats included).
    pub players: usize,
    /// Its seat cap.
    pub max_players: usize,
    /// Whether it needs a code to join (private rooms are never quick-matched).
    pub private: bool,
}

/// What `GET /rooms` says of one room.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RoomListing {
    /// Its id (`/ws?room=ID` joins it).
    pub id: u32,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether joining needs its code.
    pub private: bool,
    /// Seats taken.
    pub players: usize,
    /// Most players.
    pub max_players: usize,
    /// Spectators watching.
    pub spectators: usize,
    /// Ticks per second.
    pub tick_hz: u32,
    /// Its newest tick.
    pub tick: u32,
    /// Seconds since it opened.
    pub age_s: f64,
    /// Median tick duration over the last second, ms.
    pub tick_p50_ms: f64,
    /// 99th percentile tick duration over the last second, ms.
    pub tick_p99_ms: f64,
    /// Ticks timed since it opened (as of the last whole second).
    pub run_ticks: u64,
    /// 99th percentile tick duration since it opened, ms.
    pub run_tick_p99_ms: f64,
    /// Longest tick since it opened, ms.
    pub run_tick_max_ms: f64,
    /// Ticks that started more than a period late since it opened.
    pub overruns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_counts_value_by_value() {
        let a = Distribution::from_counts(vec![(1, 2), (5, 1)]);
        let b = Distribution::from_counts(vec![(1, 1), (3, 4), (9, 1)]);
        let m = a.merge(&b);
        assert_eq!(m.counts, vec![(1, 3), (3, 4), (5, 1), (9, 1)]);
        assert_eq!((m.count, m.min, m.max), (9, 1, 9));
        assert_eq!(b.merge(&a), m);
        assert_eq!(a.merge(&Distribution::default()), a);
    }

    #[test]
    fn quantiles_are_recorded_values_and_an_interval_is_a_difference() {
        let start = Distribution::from_counts(vec![(100, 50), (200, 50)]);
        assert_eq!(
            (start.min, start.p50, start.p99, start.max),
            (100, 100, 200, 200)
        );
        assert!((start.mean - 150.0).abs() < 1e-9);
        // 98 more ticks at 150 µs and 2 at 900 µs after the start reading.
        let end = Distribution::from_counts(vec![(100, 50), (150, 98), (200, 50), (900, 2)]);
        let run = end.since(&start);
        assert_eq!(run.count, 100);
        assert_eq!(run.counts, vec![(150, 98), (900, 2)]);
        assert_eq!(
            (run.min, run.p50, run.p95, run.p99, run.max),
            (150, 150, 150, 900, 900)
        );
        assert_eq!(Distribution::from_counts(Vec::new()).quantile(0.99), 0);
        let json = serde_json::to_string(&run).unwrap();
        assert_eq!(serde_json::from_str::<Distribution>(&json).unwrap(), run);
    }
}
