//! The world the page plays in: an in-process server, bots that move like players, and
//! an observer client whose mirror answers the browser script's questions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickwire_client::{Client, ClientEvent, ConnectOptions, Mode};
use tickwire_server::games::components::{Body, Player};
use tickwire_server::games::controls::{Controls, DOWN, LEFT, RIGHT, UP};
use tickwire_server::games::demo::{Demo, DemoConfig};
use tickwire_server::{Config, Server};
use tickwire_shared::ChatLine;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Bots connected while the page plays.
pub const BOTS: usize = 20;

/// What the observer client has seen: player entity positions and chat lines.
#[derive(Default)]
pub struct Observed {
    /// Player entity id → position (world units), from the newest applied snapshot.
    pub players: HashMap<u32, (f64, f64)>,
    /// (name, text) of every chat line received.
    pub chats: Vec<(String, String)>,
}

/// A running server with its bots and observer; stopped by `stop` (or cancelled on drop).
pub struct Harness {
    server: Option<Server>,
    shutdown: CancellationToken,
    pub addr: SocketAddr,
    pub observed: Arc<Mutex<Observed>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Harness {
    /// Starts the server (with `sim_latency_ms` each way) and connects everyone.
    pub async fn start(sim_latency_ms: u64) -> Harness {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let config = Config {
            sim_latency_ms,
            ..Config::default()
        };
        let game = DemoConfig {
            seed: 7,
            ..DemoConfig::default()
        };
        let shutdown = CancellationToken::new();
        let server =
            Server::start::<Demo>(listener, config, game, shutdown.clone()).expect("server starts");
        let addr = server.local_addr();
        let url = format!("ws://{addr}/ws");
        let observed = Arc::new(Mutex::new(Observed::default()));
        let mut tasks = Vec::new();
        let (ready_tx, mut ready_rx) = mpsc::channel::<()>(BOTS + 1);
        tasks.push(tokio::spawn(observe(
            url.clone(),
            observed.clone(),
            shutdown.clone(),
            ready_tx.clone(),
        )));
        for i in 0..BOTS {
            tasks.push(tokio::spawn(bot(
                url.clone(),
                i,
                shutdown.clone(),
                ready_tx.clone(),
            )));
        }
        for _ in 0..=BOTS {
            tokio::time::timeout(Duration::from_secs(10), ready_rx.recv())
                .await
                .expect("bots and observer connect within 10 s");
        }
        Harness {
            server: Some(server),
            shutdown,
            addr,
            observed,
            tasks,
        }
    }

    /// Stops the bots, the observer and the server, which must stop cleanly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        if let Some(server) = self.server.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(5), server.wait()).await;
            assert!(
                matches!(stopped, Ok(Ok(()))),
                "the server stops cleanly: {stopped:?}"
            );
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A bot: moves like the arena scenario's clients (a new direction now and then), never
/// fires, so nothing teleports and the page's motion measurements see pure movement.
async fn bot(url: String, index: usize, shutdown: CancellationToken, ready: mpsc::Sender<()>) {
    let options = ConnectOptions::new(format!("bot{index:02}")).mode(Mode::CountOnly);
    let Ok(mut client) = Client::connect(&url, options).await else {
        return;
    };
    let _ = ready.send(()).await;
    let mut rng = 0x9E37_79B9u32.wrapping_mul(index as u32 + 1) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng
    };
    const DIRS: [u8; 8] = [
        UP,
        DOWN,
        LEFT,
        RIGHT,
        UP | LEFT,
        UP | RIGHT,
        DOWN | LEFT,
        DOWN | RIGHT,
    ];
    let mut held = DIRS[next() as usize % DIRS.len()];
    let mut sends = 0u32;
    let mut every = tokio::time::interval(Duration::from_millis(50 + (index as u64 % 7)));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = every.tick() => {
                sends += 1;
                if sends.is_multiple_of(20) {
                    held = DIRS[next() as usize % DIRS.len()];
                }
                if client.send_input(&Controls::new(held, 0)).await.is_err() {
                    break;
                }
            }
            event = client.next_event() => if matches!(event, Err(_) | Ok(ClientEvent::Closed(_))) {
                break;
            },
        }
    }
    let _ = client.close().await;
}

/// The observer: a mirrored client that records where every player is and what is said.
async fn observe(
    url: String,
    observed: Arc<Mutex<Observed>>,
    shutdown: CancellationToken,
    ready: mpsc::Sender<()>,
) {
    let mut client = Client::connect(&url, ConnectOptions::new("observer"))
        .await
        .expect("observer connects");
    let _ = ready.send(()).await;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            e = client.next_event() => e,
        };
        match event {
            Ok(ClientEvent::Snapshot(_)) => {
                let mirror = client.mirror();
                let players = mirror
                    .iter_with::<Player>()
                    .filter_map(|(id, _)| {
                        let b = mirror.get::<Body>(id)?;
                        Some((id.0, (f64::from(b.x), f64::from(b.y))))
                    })
                    .collect();
                observed.lock().expect("observer lock").players = players;
            }
            Ok(ClientEvent::Chat(ChatLine { name, text, .. })) => observed
                .lock()
                .expect("observer lock")
                .chats
                .push((name, text)),
            Ok(ClientEvent::Closed(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = client.close().await;
}
