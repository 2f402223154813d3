//! The suite's bookkeeping: one row per attack (what was done, what the server answered,
//! what failed), the table printed at the end, and reading values out of the server's
//! Prometheus text.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One attack's result.
#[derive(Debug)]
pub struct Row {
    /// The attack.
    pub attack: &'static str,
    /// How many connections (or messages) it used.
    pub scale: String,
    /// What the server answered, as the attacker saw it.
    pub response: String,
    /// What the suite expected and did not see; empty when the attack passed.
    pub failures: Vec<String>,
    /// How long the attack took.
    pub took: Duration,
}

impl Row {
    /// A row for `attack`.
    pub fn new(attack: &'static str) -> Row {
        Row {
            attack,
            scale: String::new(),
            response: String::new(),
            failures: Vec::new(),
            took: Duration::ZERO,
        }
    }

    /// Records a failure unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }
}

/// Failures the server is known to have today, as (a phrase of the failure, the cause).
/// A failure containing one is listed as a KNOWN GAP and does not fail the suite, so the
/// suite can guard everything else in CI meanwhile. Each entry is an open server bug:
/// delete it once the server is fixed (the suite says when an entry matched nothing).
pub const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The known gap `failure` matches, if any.
pub fn known_gap(failure: &str) -> Option<&'static (&'static str, &'static str)> {
    KNOWN_GAPS
        .iter()
        .find(|(phrase, _)| failure.contains(phrase))
}

fn join(failures: &[&String]) -> String {
    failures
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Prints the table: attack, scale, response, the normal player's worst gap during it.
pub fn print_table(rows: &[Row], gap: impl Fn(&str) -> String) {
    println!();
    println!("| attack | scale | server response | normal client's worst snapshot gap | result |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let gap = gap(r.attack);
        let (known, unknown): (Vec<&String>, Vec<&String>) =
            r.failures.iter().partition(|f| known_gap(f).is_some());
        let result = match (known.is_empty(), unknown.is_empty()) {
            (true, true) => "pass".to_owned(),
            (_, false) => format!("FAIL: {}", join(&unknown)),
            (false, true) => format!("KNOWN GAP: {}", join(&known)),
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            r.attack, r.scale, r.response, gap, result
        );
    }
    println!();
}

/// The value of the first sample of `name` whose labels contain `labels` (e.g.
/// `reason="input_rate"`), or 0 if there is none.
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let (metric, rest) = key.split_once('{').unwrap_or((key, ""));
            (metric == name && rest.contains(labels)).then(|| value.parse::<f64>().ok())?
        })
        .next()
        .unwrap_or(0.0)
}

/// Counts outcomes: "Bye ServerFull + close 1013 ×1880, Welcome ×119".
pub fn tally<'a>(descriptions: impl IntoIterator<Item = &'a String>) -> String {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for d in descriptions {
        match counts.iter_mut().find(|(k, _)| *k == d) {
            Some((_, n)) => *n += 1,
            None => counts.push((d, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(d, n)| format!("{d} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fetches `/metrics` from the server at `addr` (blocking, bounded by a 5 s timeout).
pub fn scrape(addr: SocketAddr) -> String {
    let fetch = || -> std::io::Result<String> {
        let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            tcp,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        tcp.read_to_string(&mut response)?;
        Ok(response)
    };
    let response = fetch().unwrap_or_else(|e| panic!("scraping {addr}/metrics failed: {e}"));
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => body.to_owned(),
        None => panic!("no body in the /metrics response: {response:?}"),
    }
}
