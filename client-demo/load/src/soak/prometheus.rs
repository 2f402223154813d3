//! A small parser for the Prometheus / OpenMetrics text exposition format, and the
//! histogram arithmetic the soak tool needs (bucket deltas and quantile estimates).
//!
//! Only what a scraper needs: sample lines `name{label="value",...} value [timestamp]`,
//! with `#` comment lines (HELP, TYPE, EOF) skipped and exemplars ignored.

use thiserror::Error;

/// One sample line of an exposition.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's metric name, including any `_bucket`/`_sum`/`_count`/`_total` suffix.
    pub name: String,
    /// The label pairs, in the order written.
    pub labels: Vec<(String, String)>,
    /// The value (`+Inf`, `-Inf` and `NaN` included).
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, if present.
    #[must_use]
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a line of exposition text could not be parsed.
#[derive(Debug, Error, PartialEq)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What was wrong with it.
    pub reason: String,
}

/// A parsed scrape: every sample line, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposition {
    /// All samples of the scrape.
    pub samples: Vec<Sample>,
}

/// A cumulative histogram read from `_bucket` samples: `(upper bound, cumulative count)`
/// pairs sorted by bound, the last one being `+Inf`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Cumulative bucket counts by upper bound, ascending.
    pub buckets: Vec<(f64, f64)>,
    /// The `_sum` sample.
    pub sum: f64,
    /// The `_count` sample.
    pub count: f64,
}

impl Exposition {
    /// Parses a whole exposition text.
    pub fn parse(text: &str) -> Result<Exposition, ParseError> {
        let mut samples = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            samples.push(parse_sample(line).map_err(|reason| ParseError {
                line: i + 1,
                reason,
            })?);
        }
        Ok(Exposition { samples })
    }

    /// The sum of every sample named exactly `name` (across label sets), or `None` if
    /// there is none.
    #[must_use]
    pub fn value(&self, name: &str) -> Option<f64> {
        let mut found = None;
        for s in self.samples.iter().filter(|s| s.name == name) {
            *found.get_or_insert(0.0) += s.value;
        }
        found
    }

    /// A counter's value: OpenMetrics writes counters with a `_total` suffix, the classic
    /// format sometimes without; `name` may be given either way.
    #[must_use]
    pub fn counter(&self, name: &str) -> Option<f64> {
        let base = name.strip_suffix("_total").unwrap_or(name);
        self.value(&format!("{base}_total"))
            .or_else(|| self.value(base))
    }

    /// The histogram `name` (without suffix), summed across label sets other than `le`.
    #[must_use]
    pub fn histogram(&self, name: &str) -> Option<Histogram> {
        let bucket_name = format!("{name}_bucket");
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for s in self.samples.iter().filter(|s| s.name == bucket_name) {
            let Some(le) = s.label("le").and_then(parse_value) else {
                continue;
            };
            match buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, c)) => *c += s.value,
                None => buckets.push((le, s.value)),
            }
        }
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(Histogram {
            buckets,
            sum: self.value(&format!("{name}_sum")).unwrap_or(0.0),
            count: self.value(&format!("{name}_count")).unwrap_or(0.0),
        })
    }
}

impl Histogram {
    /// The observations made between `earlier` and `self` (two scrapes of the same
    /// histogram). Buckets missing from `earlier` count as zero; a counter reset (the
    /// server restarted) yields `self` unchanged.
    #[must_use]
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        if earlier.count > self.count {
            return self.clone();
        }
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, c)| {
                let before = earlier
                    .buckets
                    .iter()
                    .find(|(b, _)| *b == le)
                    .map_or(0.0, |(_, c)| *c);
                (le, (c - before).max(0.0))
            })
            .collect();
        Histogram {
            buckets,
            sum: self.sum - earlier.sum,
            count: self.count - earlier.count,
        }
    }

    /// Estimates quantile `q` (0..=1) the way Prometheus' `histogram_quantile` does:
    /// find the bucket holding the rank and interpolate linearly inside it. An estimate
    /// in the `+Inf` bucket is reported as the highest finite bound. `None` when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last().map_or(0.0, |b| b.1);
        if total <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total;
        let mut lower_bound = 0.0;
        let mut lower_count = 0.0;
        for &(le, c) in &self.buckets {
            if c >= rank {
                if le.is_infinite() {
                    return Some(lower_bound);
                }
                let in_bucket = c - lower_count;
                if in_bucket <= 0.0 {
                    return Some(le);
                }
                return Some(lower_bound + (le - lower_bound) * (rank - lower_count) / in_bucket);
            }
            lower_bound = le;
            lower_count = c;
        }
        Some(lower_bound)
    }

    /// The upper bound of the bucket holding quantile `q`: a figure the true quantile is
    /// guaranteed not to exceed (unless it lies in `+Inf`).
    #[must_use]
    pub fn quantile_upper_bound(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last().map_or(0.0, |b| b.1);
        if total <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total;
        self.buckets.iter().find(|(_, c)| *c >= rank).map(|b| b.0)
    }

    /// The mean observation, or `None` when empty.
    #[must_use]
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or_else(|| "a sample line needs a value".to_owned())?;
    let name = &line[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, tail) = parse_labels(after)?;
        labels = parsed;
        rest = tail;
    }
    // Value, then an optional timestamp, then an optional OpenMetrics exemplar (`# {...}`).
    let rest = rest.split(" # ").next().unwrap_or(rest);
    let value_text = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| format!("{name} has no value"))?;
    let value = parse_value(value_text).ok_or_else(|| format!("bad value {value_text:?}"))?;
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// A sample's label pairs, in the order written.
type Labels = Vec<(String, String)>;

/// Parses `key="value",...}` (the opening brace already consumed); returns the labels and
/// the text after the closing brace.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start_matches([' ', ',']);
        if let Some(tail) = s.strip_prefix('}') {
            return Ok((labels, tail));
        }
        let eq = s.find('=').ok_or("label without '='")?;
        let key = s[..eq].trim().to_owned();
        s = s[eq + 1..]
            .trim_start()
            .strip_prefix('"')
            .ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated escape".into()),
                },
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        };
        labels.push((key, value));
        s = &s[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP tickwire_tick_duration_seconds Time spent in one tick.
# TYPE tickwire_tick_duration_seconds histogram
tickwire_tick_duration_seconds_sum 0.5
tickwire_tick_duration_seconds_count 100
tickwire_tick_duration_seconds_bucket{le="0.001"} 60
tickwire_tick_duration_seconds_bucket{le="0.002"} 90
tickwire_tick_duration_seconds_bucket{le="0.004"} 100
tickwire_tick_duration_seconds_bucket{le="+Inf"} 100
# TYPE tickwire_tick_overruns counter
tickwire_tick_overruns_total 3
tickwire_tick_overruns_created 1.7e9
tickwire_sessions 42
tickwire_messages_sent_total{kind="snapshot"} 10 1700000000
tickwire_messages_sent_total{kind="pong",note="a \"q\", b\\c"} 5 # {trace_id="x"} 1.0
# EOF
"#;

    #[test]
    fn parses_samples_labels_escapes_and_exemplars() {
        let e = Exposition::parse(TEXT).unwrap();
        assert_eq!(e.value("tickwire_sessions"), Some(42.0));
        assert_eq!(e.counter("tickwire_tick_overruns"), Some(3.0));
        assert_eq!(e.counter("tickwire_tick_overruns_total"), Some(3.0));
        assert_eq!(e.counter("tickwire_messages_sent"), Some(15.0));
        let pong = e
            .samples
            .iter()
            .find(|s| s.label("kind") == Some("pong"))
            .unwrap();
        assert_eq!(pong.label("note"), Some(r#"a "q", b\c"#));
        assert_eq!(e.value("missing"), None);
    }

    #[test]
    fn rejects_garbage_with_the_line_number() {
        let err = Exposition::parse("ok 1\nbad{le=\"1} 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(Exposition::parse("name_without_value\n").is_err());
        assert!(Exposition::parse("x notanumber\n").is_err());
    }

    #[test]
    fn histogram_quantiles_interpolate_inside_buckets() {
        let h = Exposition::parse(TEXT)
            .unwrap()
            .histogram("tickwire_tick_duration_seconds")
            .unwrap();
        assert_eq!(h.count, 100.0);
        assert_eq!(h.mean(), Some(0.005));
        // Rank 50 of 60 in [0, 1ms].
        assert!((h.quantile(0.5).unwrap() - 0.000_833_3).abs() < 1e-6);
        // Rank 99 is 9/10 of the way through (2ms, 4ms].
        assert!((h.quantile(0.99).unwrap() - 0.0038).abs() < 1e-9);
        assert_eq!(h.quantile_upper_bound(0.99), Some(0.004));
        assert_eq!(h.quantile_upper_bound(0.9), Some(0.002));
    }

    #[test]
    fn histogram_delta_between_scrapes() {
        let before = Histogram {
            buckets: vec![(0.001, 10.0), (0.002, 10.0), (f64::INFINITY, 10.0)],
            sum: 0.005,
            count: 10.0,
        };
        let after = Histogram {
            buckets: vec![(0.001, 10.0), (0.002, 30.0), (f64::INFINITY, 31.0)],
            sum: 0.05,
            count: 31.0,
        };
        let d = after.since(&before);
        assert_eq!(d.count, 21.0);
        assert_eq!(
            d.buckets,
            vec![(0.001, 0.0), (0.002, 20.0), (f64::INFINITY, 21.0)]
        );
        // Past the last finite bound: report that bound.
        assert_eq!(d.quantile(1.0), Some(0.002));
        assert_eq!(Histogram::default().quantile(0.5), None);
        // A reset counter: the later scrape stands alone.
        assert_eq!(before.since(&after), before);
    }
}
