//! The normal player: a real client (the Rust client library, mirroring and verifying
//! every snapshot) that plays on through every attack, on its own thread and runtime so
//! the attackers' work in the test process does not delay its reads. It records each
//! snapshot's arrival, attributed to the attack running at the time.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tickwire_client::{Client, ClientEvent, ConnectOptions};
use tickwire_server::games::controls::{Controls, DOWN, FIRE, LEFT, RIGHT, UP};
use tickwire_shared::{ChatLine, NetId};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Worst gap and count of snapshots during one phase.
#[derive(Clone, Debug)]
pub struct PhaseGaps {
    /// The phase's name.
    pub phase: String,
    /// Longest time between two snapshots whose later one arrived in this phase.
    pub worst: Duration,
    /// Snapshots received in this phase.
    pub snapshots: usize,
}

/// What the normal player saw over the whole run.
#[derive(Clone, Debug)]
pub struct PlayerReport {
    /// Per phase, in order.
    pub phases: Vec<PhaseGaps>,
    /// Snapshots received.
    pub snapshots: usize,
    /// How long it played.
    pub played: Duration,
    /// Snapshots that failed to apply or verify.
    pub desyncs: u64,
    /// Chat lines received, by sender name.
    pub chats: Vec<(String, String)>,
    /// Set if the connection ended or failed before the end.
    pub lost: Option<String>,
    /// Round-trip times measured by its pings.
    pub worst_rtt: Option<Duration>,
}

impl PlayerReport {
    /// The worst gap over the whole run.
    pub fn worst_gap(&self) -> Duration {
        self.phases
            .iter()
            .map(|p| p.worst)
            .max()
            .unwrap_or_default()
    }

    /// The worst gap in the phase called `phase`.
    pub fn gap_in(&self, phase: &str) -> Option<Duration> {
        self.phases
            .iter()
            .find(|p| p.phase == phase)
            .map(|p| p.worst)
    }
}

/// A handle on the running player.
pub struct Player {
    /// The attack running now; the player files each snapshot under it.
    phase: Arc<Mutex<String>>,
    /// Stops the player.
    stop: CancellationToken,
    /// Its thread.
    thread: Option<JoinHandle<PlayerReport>>,
    /// Its own entity.
    pub entity: NetId,
}

impl Player {
    /// Connects the player (with join token `auth`) and starts it playing. Panics if it
    /// cannot join.
    pub fn start(url: String, auth: String) -> Player {
        let phase = Arc::new(Mutex::new("warm-up".to_owned()));
        let stop = CancellationToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let (p, s) = (phase.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("normal-player".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("player runtime: {e}"));
                rt.block_on(async move {
                    let options = ConnectOptions::new("normal").auth(auth);
                    let client = Client::connect(&url, options)
                        .await
                        .unwrap_or_else(|e| panic!("the normal player could not join: {e}"));
                    let _ = tx.send(client.welcome().entity);
                    play(client, p, s).await
                })
            })
            .unwrap_or_else(|e| panic!("player thread: {e}"));
        let entity = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("the normal player did not join within 10 s"));
        Player {
            phase,
            stop,
            thread: Some(thread),
            entity,
        }
    }

    /// Files the snapshots from now on under `phase`.
    pub fn enter(&self, phase: &str) {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner) = phase.to_owned();
    }

    /// Stops the player and returns what it saw.
    pub fn finish(mut self) -> PlayerReport {
        self.stop.cancel();
        self.thread
            .take()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| panic!("the normal player panicked"))
            })
            .unwrap_or_else(|| unreachable!("finish runs once"))
    }
}

/// Plays until stopped: inputs at 20 Hz (a new direction every 10th, FIRE now and then),
/// a ping a second, and every event read and recorded.
async fn play(
    mut client: Client,
    phase: Arc<Mutex<String>>,
    stop: CancellationToken,
) -> PlayerReport {
    let started = Instant::now();
    let mut inputs = tokio::time::interval(Duration::from_millis(50));
    let mut pings = tokio::time::interval(Duration::from_secs(1));
    let mut phases: Vec<PhaseGaps> = Vec::new();
    let mut last: Option<Instant> = None;
    let mut report = PlayerReport {
        phases: Vec::new(),
        snapshots: 0,
        played: Duration::ZERO,
        desyncs: 0,
        chats: Vec::new(),
        lost: None,
        worst_rtt: None,
    };
    let dirs = [0, UP, DOWN, LEFT, RIGHT, 5, 9, 6, 10];
    let mut sent = 0usize;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = inputs.tick() => {
                let held = dirs[(sent / 10) % dirs.len()] | if sent.is_multiple_of(15) { FIRE } else { 0 };
                sent += 1;
                if let Err(e) = client.send_input(&Controls::new(held, (sent as u16).wrapping_mul(997))).await {
                    report.lost = Some(format!("sending an input failed: {e}"));
                    break;
                }
            }
            _ = pings.tick() => {
                if let Err(e) = client.ping().await {
                    report.lost = Some(format!("sending a ping failed: {e}"));
                    break;
                }
            }
            event = client.next_event() => match event {
                Ok(ClientEvent::Snapshot(_)) => {
                    let now = Instant::now();
                    let name = phase.lock().unwrap_or_else(PoisonError::into_inner).clone();
                    if phases.last().is_none_or(|p| p.phase != name) {
                        phases.push(PhaseGaps { phase: name, worst: Duration::ZERO, snapshots: 0 });
                    }
                    let current = phases.last_mut().unwrap_or_else(|| unreachable!("just pushed"));
                    current.snapshots += 1;
                    if let Some(prev) = last {
                        current.worst = current.worst.max(now - prev);
                    }
                    last = Some(now);
                    report.snapshots += 1;
                }
                Ok(ClientEvent::Chat(ChatLine { name, text, .. })) => report.chats.push((name, text)),
                Ok(ClientEvent::Pong { rtt: Some(rtt), .. }) => {
                    report.worst_rtt = Some(report.worst_rtt.map_or(rtt, |w| w.max(rtt)));
                }
                Ok(ClientEvent::Bye { code, reason }) => {
                    report.lost = Some(format!("the server said Bye {code:?}: {reason}"));
                    break;
                }
                Ok(ClientEvent::Closed(info)) => {
                    report.lost = Some(format!("the connection closed: {info:?}"));
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    report.lost = Some(format!("reading failed: {e}"));
                    break;
                }
            },
        }
    }
    report.played = started.elapsed();
    report.desyncs = client.stats().desyncs;
    report.phases = phases;
    let _ = client.close().await;
    report
}
