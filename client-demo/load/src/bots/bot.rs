//! One bot's life: wait for its ramp slot, connect, play until its deadline (or, for
//! `churn`, until it decides to leave), reconnect after drops, and tally everything.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tickwire_shared::{ByeCode, join_token};
use tokio::time::{Instant as TokioInstant, MissedTickBehavior, interval_at, sleep_until};
use tokio_util::sync::CancellationToken;

use super::behavior::{Behavior, Pilot};
use super::live::Live;
use super::tally::Tally;
use crate::rooms::Matchmaker;
use tickwire_client::{Client, ClientError, ClientEvent, ConnectOptions, Mode, TlsTrust};

/// Everything one bot needs to know to run.
#[derive(Clone, Debug)]
pub struct BotPlan {
    /// The bot's index in the fleet (its name is `bot-INDEX`).
    pub index: usize,
    /// The server's WebSocket URL.
    pub url: Arc<str>,
    /// How it plays.
    pub behavior: Behavior,
    /// Mirror (decode and verify) or count only.
    pub mode: Mode,
    /// Time between inputs.
    pub input_period: Duration,
    /// Time between pings (RTT samples).
    pub ping_period: Duration,
    /// When to first connect (the fleet's ramp).
    pub start_at: Instant,
    /// When to leave for good.
    pub end_at: Instant,
    /// When steady-state measurement starts (gaps, rates, RTT): after the ramp.
    pub measure_from: Instant,
    /// Seed of this bot's RNG (phase, masks, churn timing).
    pub seed: u64,
    /// How long one connect may take.
    pub connect_timeout: Duration,
    /// The server's auth secret, to mint this bot's join token with.
    pub auth_secret: Option<Arc<str>>,
    /// Whom to trust on `wss://` URLs.
    pub tls: Option<TlsTrust>,
    /// Matchmaking over HTTP: each session's seat is asked of it (and the bot connects
    /// where the answer says) instead of joining `url`.
    pub matchmaker: Option<Matchmaker>,
}

/// How long a bot's join token is valid: well past any connect it is minted for.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Shortest and longest `churn` session.
const CHURN_SESSION: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(12));

/// Shortest and longest pause before a `churn` bot rejoins.
const CHURN_PAUSE: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(2));

/// Pause before retrying after a failed connect or a dropped session.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Longest pause before matchmaking again after `Relocate` (each bot waits a random
/// part of it, so a drained server's players do not all ask at once).
const RELOCATE_SPREAD: Duration = Duration::from_millis(300);

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The bot left on purpose (deadline, churn, shutdown).
    Left,
    /// The server or the network ended it; the reason says how.
    Dropped(String),
    /// A draining server ended it with `Relocate`: matchmake again now.
    Relocated,
}

fn to_tokio(at: Instant) -> TokioInstant {
    TokioInstant::from_std(at)
}

fn random_between(rng: &mut SmallRng, (lo, hi): (Duration, Duration)) -> Duration {
    lo + (hi - lo).mul_f64(rng.random::<f64>())
}

/// Runs one bot until `plan.end_at` or `shutdown`, and returns what it measured.
pub async fn run(plan: BotPlan, live: Arc<Live>, shutdown: CancellationToken) -> Tally {
    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let mut tally = Tally::default();
    tally.decoding = plan.mode == Mode::Mirror;
    tally.measure_from = Some(plan.measure_from);
    let mut resume: Option<String> = None;
    let mut wait_until = plan.start_at;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = sleep_until(to_tokio(wait_until)) => {}
        }
        if Instant::now() >= plan.end_at {
            break;
        }
        // Matchmade: the seat says where to connect; else the plan's URL.
        let (url, matched_room) = match &plan.matchmaker {
            None => (plan.url.to_string(), None),
            Some(m) => {
                let seat = tokio::select! {
                    () = shutdown.cancelled() => break,
                    s = m.seat(plan.index) => s,
                };
                match seat {
                    Ok(seat) => (seat.url, Some(seat.room)),
                    Err(e) => {
                        tally.failed += 1;
                        tally.error(format!("matchmake: {e}"));
                        live.failed();
                        wait_until = Instant::now() + RETRY_PAUSE;
                        continue;
                    }
                }
            }
        };
        let name = format!("bot-{}", plan.index);
        let mut options = ConnectOptions::new(name.clone())
            .mode(plan.mode)
            .timeout(plan.connect_timeout);
        if let Some(secret) = &plan.auth_secret {
            let expires = join_token::unix_now() + TOKEN_LIFETIME.as_secs();
            options = options.auth(join_token::mint(secret, &name, expires));
        }
        if let Some(trust) = &plan.tls {
            options = options.tls(trust.clone());
        }
        // Half of the churn rejoins take their player back; the rest come in new. A
        // matchmade bot always comes in new, where its seat is.
        if let Some(token) = resume
            .take()
            .filter(|_| plan.matchmaker.is_none() && rng.random_bool(0.5))
        {
            options = options.resume(token);
        }
        let connect = tokio::select! {
            () = shutdown.cancelled() => break,
            c = Client::connect(&url, options) => c,
        };
        let mut client = match connect {
            Ok(client) => client,
            Err(e) => {
                tally.failed += 1;
                tally.error(format!("connect: {}", short_reason(&e)));
                live.failed();
                wait_until = Instant::now() + RETRY_PAUSE;
                continue;
            }
        };
        resume = Some(client.welcome().resume_token.clone());
        if let Some(room) = matched_room.filter(|r| *r != client.welcome().room) {
            tally.error(format!(
                "seated in room {}, not in the matchmade room {room}",
                client.welcome().room
            ));
        }
        let leave_at = if plan.behavior == Behavior::Churn {
            (Instant::now() + random_between(&mut rng, CHURN_SESSION)).min(plan.end_at)
        } else {
            plan.end_at
        };
        let end = session(
            &mut client,
            &plan,
            leave_at,
            &mut rng,
            &mut tally,
            &live,
            &shutdown,
        )
        .await;
        wait_until = match end {
            End::Left => Instant::now() + random_between(&mut rng, CHURN_PAUSE),
            End::Dropped(reason) => {
                tally.dropped += 1;
                tally.error(reason);
                Instant::now() + RETRY_PAUSE
            }
            End::Relocated => {
                tally.dropped += 1;
                tally.relocated += 1;
                Instant::now() + RELOCATE_SPREAD.mul_f64(rng.random::<f64>())
            }
        };
    }
    tally
}

/// Plays one connected session until `leave_at`, shutdown, or the connection ends.
async fn session(
    client: &mut Client,
    plan: &BotPlan,
    leave_at: Instant,
    rng: &mut SmallRng,
    tally: &mut Tally,
    live: &Live,
    shutdown: &CancellationToken,
) -> End {
    let began = Instant::now();
    tally.session_started(client.welcome().tick_hz);
    live.connected();
    let me = client.welcome().entity;
    let now = TokioInstant::now();
    // Random phase, as the arena rules require: bots must not send in lockstep.
    let input_phase = plan.input_period.mul_f64(rng.random::<f64>());
    let mut inputs = interval_at(now + input_phase, plan.input_period);
    inputs.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ping_phase = plan.ping_period.mul_f64(rng.random::<f64>());
    let mut pings = interval_at(now + ping_phase, plan.ping_period);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pilot = Pilot::new(plan.behavior);
    let mut deadline = pin!(sleep_until(to_tokio(leave_at)));
    let mut cancelled = pin!(shutdown.cancelled());
    let mut bye: Option<String> = None;

    let end = loop {
        tokio::select! {
            biased;
            () = &mut cancelled => break End::Left,
            () = &mut deadline => break End::Left,
            event = client.next_event() => match event {
                Ok(ClientEvent::Snapshot(s)) => {
                    tally.snapshot(Instant::now());
                    live.snapshot(s.wire_bytes);
                }
                Ok(ClientEvent::Pong { rtt: Some(rtt), .. }) => tally.rtt(rtt),
                Ok(ClientEvent::Bye { code: ByeCode::Relocate, .. }) if plan.matchmaker.is_some() => {
                    break End::Relocated;
                }
                Ok(ClientEvent::Bye { code, reason }) => bye = Some(format!("bye {code:?}: {reason}")),
                Ok(ClientEvent::Closed(info)) => {
                    let why = bye.take().unwrap_or_else(|| match info {
                        Some(i) => format!("closed {}: {}", i.code, i.reason),
                        None => "connection ended".to_owned(),
                    });
                    break End::Dropped(why);
                }
                Ok(_) => {}
                Err(ClientError::Desync(e)) => {
                    tally.desyncs += 1;
                    live.desync();
                    break End::Dropped(format!("desync: {e}"));
                }
                Err(e) => break End::Dropped(short_reason(&e)),
            },
            _ = inputs.tick(), if plan.behavior.sends_input() => {
                let view = (plan.mode == Mode::Mirror).then(|| (client.mirror(), me));
                let press = pilot.next(rng, view);
                let Some(fields) = press.fields(&client.welcome().schema.def().input) else {
                    break End::Dropped(format!(
                        "the {} game's input has no `buttons` field: bots play games whose input is \
                         a `buttons` key bitmask (and optionally an `aim`)",
                        client.welcome().schema.game()
                    ));
                };
                if let Err(e) = client.send_input_fields(&fields).await {
                    break End::Dropped(format!("send: {}", short_reason(&e)));
                }
            }
            _ = pings.tick() => {
                if let Err(e) = client.ping().await {
                    break End::Dropped(format!("ping: {}", short_reason(&e)));
                }
            }
        }
    };
    if matches!(end, End::Left) {
        // A polite close; a server that does not answer in time is not our problem here.
        let _ = client.close().await;
    }
    let stats = client.stats();
    tally.bytes_received += stats.bytes_received;
    tally.bytes_sent += stats.bytes_sent;
    tally.connected_for += began.elapsed();
    live.disconnected(!matches!(end, End::Left));
    end
}

/// A short, count-friendly reason (no per-connection details such as addresses).
fn short_reason(e: &ClientError) -> String {
    match e {
        ClientError::WebSocket(inner) => {
            let text = inner.to_string();
            // Keep the kind of failure and its first detail ("IO error: invalid peer
            // certificate"), so identical causes add up in the summary.
            text.splitn(3, ':')
                .take(2)
                .collect::<Vec<_>>()
                .join(":")
                .trim()
                .to_owned()
        }
        ClientError::Timeout { what, .. } => format!("timeout waiting for {what}"),
        ClientError::Refused { code, .. } => format!("refused: {code:?}"),
        ClientError::Decode(_) => "undecodable message".to_owned(),
        ClientError::Protocol(p) => format!("protocol: {p}"),
        ClientError::Desync(_) => "desync".to_owned(),
        ClientError::Backlogged(_) => "backlogged".to_owned(),
        ClientError::Input(e) => format!("input: {e}"),
        ClientError::Closed => "closed".to_owned(),
        ClientError::Tls(e) => format!("tls: {e}"),
    }
}
