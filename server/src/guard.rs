//! The per-session message guard: validates each decoded client message and enforces the
//! rate limits, before anything reaches the world. Pure and synchronous (time is passed
//! in), so it is unit-tested and fuzzed directly.
//!
//! Excess messages are dropped and counted; a client that keeps exceeding its limits
//! (more strikes than allowed within a window) is disconnected with `RateLimited`.

use std::time::{Duration, Instant};

use tickwire_shared::{ByeCode, ClientMsg, InputSeq};

use crate::config::Config;

/// What to do with one client message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it.
    Accept(ClientMsg),
    /// Ignore it; the label says why (for metrics).
    Drop(&'static str),
    /// End the session with this reason.
    End(ByeCode, String),
}

/// A token bucket: `rate` tokens per second, holding at most `capacity`.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Most tokens held (the burst).
    capacity: f64,
    /// Tokens now.
    tokens: f64,
    /// Refill per second.
    rate: f64,
    /// When `tokens` was last brought up to date.
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    #[must_use]
    pub fn new(rate_per_sec: f64, burst: f64, now: Instant) -> TokenBucket {
        let capacity = burst.max(1.0);
        TokenBucket {
            capacity,
            tokens: capacity,
            rate: rate_per_sec.max(0.0),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts limit breaches in fixed windows; too many in one window ends the session.
#[derive(Clone, Debug)]
struct Strikes {
    /// Window length.
    window: Duration,
    /// Breaches allowed per window.
    allowed: u32,
    /// When the current window started.
    since: Instant,
    /// Breaches in the current window.
    count: u32,
}

impl Strikes {
    fn new(window: Duration, allowed: u32, now: Instant) -> Strikes {
        Strikes {
            window,
            allowed,
            since: now,
            count: 0,
        }
    }

    /// Records a breach; true when the window's allowance is exceeded.
    fn strike(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.since) >= self.window {
            self.since = now;
            self.count = 0;
        }
        self.count += 1;
        self.count > self.allowed
    }
}

/// How far ahead of the last one an input seq may leap (10 s of inputs at 60 Hz).
pub const MAX_SEQ_LEAP: u32 = 600;

/// Pings allowed per second (with a burst of twice that): RTT needs a few, not hundreds.
const PINGS_PER_SEC: f64 = 5.0;

/// The guard of one session.
#[derive(Clone, Debug)]
pub struct Guard {
    /// Inputs.
    inputs: TokenBucket,
    /// Chat lines.
    chat: TokenBucket,
    /// Pings.
    pings: TokenBucket,
    /// Acks and everything else: a generous bound on total message rate.
    other: TokenBucket,
    /// Breaches of any limit.
    strikes: Strikes,
    /// Longest chat line, in characters.
    max_chat_chars: usize,
    /// The last input seq accepted.
    last_seq: Option<InputSeq>,
}

impl Guard {
    /// A guard with `config`'s limits, starting full.
    #[must_use]
    pub fn new(config: &Config, now: Instant) -> Guard {
        let input_rate = f64::from(config.input_rate_hz);
        // Acks come once per snapshot; allow twice the tick rate plus slack.
        let other_rate = f64::from(config.tick_hz) * 2.0 + 10.0;
        Guard {
            inputs: TokenBucket::new(input_rate, f64::from(config.input_burst), now),
            chat: TokenBucket::new(
                f64::from(config.chat_per_minute) / 60.0,
                f64::from(config.chat_burst),
                now,
            ),
            pings: TokenBucket::new(PINGS_PER_SEC, PINGS_PER_SEC * 2.0, now),
            other: TokenBucket::new(other_rate, other_rate, now),
            // Sustained abuse: more breaches in 5 s than 2.5 s worth of allowed inputs.
            strikes: Strikes::new(
                Duration::from_secs(5),
                (config.input_rate_hz * 5 / 2).max(50),
                now,
            ),
            max_chat_chars: config.max_chat_chars,
            last_seq: None,
        }
    }

    fn drop_or_end(&mut self, now: Instant, label: &'static str) -> Verdict {
        if self.strikes.strike(now) {
            Verdict::End(
                ByeCode::RateLimited,
                format!("too many messages over the limits (last: {label}); slow down"),
            )
        } else {
            Verdict::Drop(label)
        }
    }

    /// Judges one message received at `now`.
    pub fn check(&mut self, now: Instant, msg: ClientMsg) -> Verdict {
        match msg {
            ClientMsg::Hello { .. } => {
                Verdict::End(ByeCode::Malformed, "Hello was already received".into())
            }
            ClientMsg::Input {
                seq,
                data,
                ack,
                view,
            } => {
                if !self.inputs.take(now) {
                    return self.drop_or_end(now, "input_rate");
                }
                if let Some(last) = self.last_seq {
                    let ahead = seq.since(last);
                    if ahead == 0 || ahead > u32::MAX / 2 {
                        return Verdict::Drop("stale_input");
                    }
                    if ahead > MAX_SEQ_LEAP {
                        return self.drop_or_end(now, "input_seq_leap");
                    }
                }
                self.last_seq = Some(seq);
                Verdict::Accept(ClientMsg::Input {
                    seq,
                    data,
                    ack,
                    view,
                })
            }
            ClientMsg::Chat { text } => {
                if text.chars().count() > self.max_chat_chars {
                    return self.drop_or_end(now, "chat_too_long");
                }
                if !self.chat.take(now) {
                    return self.drop_or_end(now, "chat_rate");
                }
                Verdict::Accept(ClientMsg::Chat { text })
            }
            ClientMsg::Ping { .. } => {
                if self.pings.take(now) {
                    Verdict::Accept(msg)
                } else {
                    self.drop_or_end(now, "ping_rate")
                }
            }
            ClientMsg::Ack { .. } => {
                if self.other.take(now) {
                    Verdict::Accept(msg)
                } else {
                    self.drop_or_end(now, "message_rate")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::Tick;

    fn input(seq: u32) -> ClientMsg {
        ClientMsg::Input {
            seq: InputSeq(seq),
            data: vec![0xFF, 3],
            ack: None,
            view: None,
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3.0, t0);
        assert!((0..3).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
    }

    #[test]
    fn stale_or_leaping_seqs_are_dropped() {
        let t = Instant::now();
        let mut g = Guard::new(&Config::default(), t);
        assert_eq!(g.check(t, input(5)), Verdict::Accept(input(5)));
        assert_eq!(g.check(t, input(5)), Verdict::Drop("stale_input"));
        assert_eq!(g.check(t, input(4)), Verdict::Drop("stale_input"));
        assert_eq!(
            g.check(t, input(5 + MAX_SEQ_LEAP + 1)),
            Verdict::Drop("input_seq_leap")
        );
        assert!(matches!(g.check(t, input(6)), Verdict::Accept(_)));
    }

    #[test]
    fn a_flood_is_dropped_then_disconnected_but_a_steady_client_never_is() {
        let t0 = Instant::now();
        let config = Config::default();
        let mut steady = Guard::new(&config, t0);
        for i in 0..1200u32 {
            // 60 s of inputs at 20 Hz, acks at 30 Hz, a ping a second.
            let now = t0 + Duration::from_millis(u64::from(i) * 50);
            assert!(matches!(
                steady.check(now, input(i + 1)),
                Verdict::Accept(_)
            ));
            assert!(matches!(
                steady.check(now, ClientMsg::Ack { tick: Tick(i) }),
                Verdict::Accept(_)
            ));
            if i % 20 == 0 {
                assert!(matches!(
                    steady.check(now, ClientMsg::Ping { client_time: 1 }),
                    Verdict::Accept(_)
                ));
            }
        }
        let mut flood = Guard::new(&config, t0);
        let mut verdicts = (1..=1000u32).map(|i| flood.check(t0, input(i)));
        assert!(
            verdicts
                .by_ref()
                .take(30)
                .all(|v| matches!(v, Verdict::Accept(_)))
        );
        assert!(verdicts.any(|v| matches!(v, Verdict::End(ByeCode::RateLimited, _))));
    }

    #[test]
    fn chat_is_limited_in_length_and_rate() {
        let t = Instant::now();
        let config = Config::default();
        let mut g = Guard::new(&config, t);
        let long = ClientMsg::Chat {
            text: "x".repeat(config.max_chat_chars + 1),
        };
        assert_eq!(g.check(t, long), Verdict::Drop("chat_too_long"));
        let line = || ClientMsg::Chat { text: "hi".into() };
        assert!((0..config.chat_burst).all(|_| matches!(g.check(t, line()), Verdict::Accept(_))));
        assert_eq!(g.check(t, line()), Verdict::Drop("chat_rate"));
        assert!(matches!(
            g.check(t + Duration::from_secs(2), line()),
            Verdict::Accept(_)
        ));
    }

    #[test]
    fn a_second_hello_ends_the_session() {
        let t = Instant::now();
        let mut g = Guard::new(&Config::default(), t);
        let hello = ClientMsg::Hello {
            protocol: 1,
            name: "x".into(),
            resume: None,
            auth: None,
        };
        assert!(matches!(
            g.check(t, hello),
            Verdict::End(ByeCode::Malformed, _)
        ));
    }
}
