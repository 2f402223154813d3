//! A fake Agones SDK server (the gRPC service of the sidecar Agones runs beside each
//! game server) on 127.0.0.1: it answers every call the agones crate's `Sdk` can make,
//! keeps a GameServer whose state follows them as Agones's would (Scheduled, Ready,
//! Allocated, Reserved, Shutdown; labels under `agones.dev/sdk-`), and records every
//! call with the instant it arrived, so a test can check what a server told Agones, in
//! what order, and how often it pinged Health.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use tokio::sync::watch;
use tokio_stream::wrappers::{TcpListenerStream, WatchStream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

/// The code generated from `proto/agones_sdk.proto` (the server side only).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod proto {
    tonic::include_proto!("agones.dev.sdk");
}

use proto::game_server::{ObjectMeta, Status as GameServerStatus, status::Port};
use proto::sdk_server::{Sdk, SdkServer};
use proto::{Duration as ProtoDuration, Empty, GameServer, KeyValue};

/// The prefix Agones puts before the keys of labels and annotations set through the SDK.
pub const SDK_PREFIX: &str = "agones.dev/sdk-";

/// One call a game server made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `Ready`: it can take players.
    Ready,
    /// `Allocate`: it allocated itself.
    Allocate,
    /// `Shutdown`: it asked to be shut down.
    Shutdown,
    /// One message on the `Health` stream: one ping.
    Health,
    /// `GetGameServer` (the crate's connection check calls it too).
    GetGameServer,
    /// `WatchGameServer` was opened.
    WatchGameServer,
    /// `SetLabel(key, value)`, the key as the game server sent it.
    SetLabel(String, String),
    /// `SetAnnotation(key, value)`, the key as the game server sent it.
    SetAnnotation(String, String),
    /// `Reserve(seconds)`.
    Reserve(i64),
}

/// A call and when it arrived.
#[derive(Debug, Clone)]
pub struct Record {
    /// When the fake received it.
    pub at: Instant,
    /// What it was.
    pub call: Call,
}

/// What the fake knows, behind one lock.
struct State {
    /// Every call so far, in arrival order.
    calls: Vec<Record>,
    /// The GameServer as the calls have left it.
    game_server: GameServer,
}

/// What the gRPC service and the test's handle share.
struct Shared {
    /// The calls and the GameServer.
    state: Mutex<State>,
    /// The GameServer after each change, for `WatchGameServer`.
    changes: watch::Sender<GameServer>,
    /// Ends open streams (Health, WatchGameServer) when the fake stops.
    stop: CancellationToken,
}

impl Shared {
    /// The state, even if a panicking test thread poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `call`, applies `change` to the GameServer, and tells the watchers.
    fn record(&self, call: Call, change: impl FnOnce(&mut GameServer)) {
        let snapshot = {
            let mut state = self.lock();
            state.calls.push(Record {
                at: Instant::now(),
                call,
            });
            change(&mut state.game_server);
            state.game_server.clone()
        };
        self.changes.send_replace(snapshot);
    }

    /// Sets the GameServer's state (`Ready`, `Allocated`, ...).
    fn set_state(game_server: &mut GameServer, state: &str) {
        if let Some(status) = game_server.status.as_mut() {
            status.state = state.to_owned();
        }
    }
}

/// The gRPC service: each call recorded, then answered as Agones would.
struct Service {
    /// Shared with the test's handle.
    shared: Arc<Shared>,
}

/// The stream `WatchGameServer` answers.
type GameServerStream = Pin<Box<dyn Stream<Item = Result<GameServer, Status>> + Send>>;

#[tonic::async_trait]
impl Sdk for Service {
    async fn ready(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.shared
            .record(Call::Ready, |gs| Shared::set_state(gs, "Ready"));
        Ok(Response::new(Empty {}))
    }

    async fn allocate(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.shared
            .record(Call::Allocate, |gs| Shared::set_state(gs, "Allocated"));
        Ok(Response::new(Empty {}))
    }

    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.shared
            .record(Call::Shutdown, |gs| Shared::set_state(gs, "Shutdown"));
        Ok(Response::new(Empty {}))
    }

    async fn health(&self, request: Request<Streaming<Empty>>) -> Result<Response<Empty>, Status> {
        let mut pings = request.into_inner();
        loop {
            tokio::select! {
                () = self.shared.stop.cancelled() => break,
                ping = pings.message() => match ping? {
                    Some(Empty {}) => self.shared.record(Call::Health, |_| {}),
                    None => break,
                },
            }
        }
        Ok(Response::new(Empty {}))
    }

    async fn get_game_server(&self, _: Request<Empty>) -> Result<Response<GameServer>, Status> {
        self.shared.record(Call::GetGameServer, |_| {});
        Ok(Response::new(self.shared.lock().game_server.clone()))
    }

    type WatchGameServerStream = GameServerStream;

    async fn watch_game_server(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<GameServerStream>, Status> {
        self.shared.record(Call::WatchGameServer, |_| {});
        let changes = WatchStream::new(self.shared.changes.subscribe())
            .map(Ok)
            .take_until(self.shared.stop.clone().cancelled_owned());
        Ok(Response::new(Box::pin(changes)))
    }

    async fn set_label(&self, request: Request<KeyValue>) -> Result<Response<Empty>, Status> {
        let KeyValue { key, value } = request.into_inner();
        let label = (format!("{SDK_PREFIX}{key}"), value.clone());
        self.shared.record(Call::SetLabel(key, value), |gs| {
            if let Some(meta) = gs.object_meta.as_mut() {
                meta.labels.insert(label.0, label.1);
            }
        });
        Ok(Response::new(Empty {}))
    }

    async fn set_annotation(&self, request: Request<KeyValue>) -> Result<Response<Empty>, Status> {
        let KeyValue { key, value } = request.into_inner();
        let annotation = (format!("{SDK_PREFIX}{key}"), value.clone());
        self.shared.record(Call::SetAnnotation(key, value), |gs| {
            if let Some(meta) = gs.object_meta.as_mut() {
                meta.annotations.insert(annotation.0, annotation.1);
            }
        });
        Ok(Response::new(Empty {}))
    }

    async fn reserve(&self, request: Request<ProtoDuration>) -> Result<Response<Empty>, Status> {
        let seconds = request.into_inner().seconds;
        self.shared.record(Call::Reserve(seconds), |gs| {
            Shared::set_state(gs, "Reserved")
        });
        Ok(Response::new(Empty {}))
    }
}

/// A running fake Agones SDK server; it stops when dropped.
pub struct FakeAgones {
    /// The port it listens on at 127.0.0.1 (the game server's `AGONES_SDK_GRPC_PORT`).
    port: u16,
    /// What the service recorded.
    shared: Arc<Shared>,
}

impl FakeAgones {
    /// Starts the fake on 127.0.0.1 on a free port, with a GameServer in state
    /// `Scheduled`.
    ///
    /// # Panics
    /// When it cannot listen.
    pub async fn start() -> FakeAgones {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the fake Agones SDK server cannot listen: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the fake Agones SDK server has no address: {e}"))
            .port();
        let game_server = GameServer {
            object_meta: Some(ObjectMeta {
                name: "tickwire-fake".into(),
                namespace: "default".into(),
                ..ObjectMeta::default()
            }),
            status: Some(GameServerStatus {
                state: "Scheduled".into(),
                address: "127.0.0.1".into(),
                ports: vec![Port {
                    name: "default".into(),
                    port: 7777,
                }],
            }),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                calls: Vec::new(),
                game_server: game_server.clone(),
            }),
            changes: watch::Sender::new(game_server),
            stop: CancellationToken::new(),
        });
        let service = SdkServer::new(Service {
            shared: shared.clone(),
        });
        let stop = shared.stop.clone();
        tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(
                    TcpListenerStream::new(listener),
                    stop.cancelled_owned(),
                )
                .await;
            if let Err(e) = served {
                eprintln!("the fake Agones SDK server failed: {e}");
            }
        });
        FakeAgones { port, shared }
    }

    /// The port it listens on at 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every call so far, in arrival order.
    #[must_use]
    pub fn calls(&self) -> Vec<Record> {
        self.shared.lock().calls.clone()
    }

    /// When each Health ping arrived.
    #[must_use]
    pub fn health_pings(&self) -> Vec<Instant> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|r| r.call == Call::Health)
            .map(|r| r.at)
            .collect()
    }

    /// Whether a Health ping arrived within `threshold` of now: what Agones's health
    /// check asks (with `threshold` its `periodSeconds`).
    #[must_use]
    pub fn healthy(&self, threshold: Duration) -> bool {
        self.health_pings()
            .last()
            .is_some_and(|at| at.elapsed() <= threshold)
    }

    /// The GameServer's state now (`Scheduled`, `Ready`, `Allocated`, `Shutdown`, ...).
    #[must_use]
    pub fn state(&self) -> String {
        self.shared
            .lock()
            .game_server
            .status
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default()
    }

    /// The GameServer's label `key` as set through the SDK (stored as
    /// `agones.dev/sdk-<key>`), if it is set.
    #[must_use]
    pub fn label(&self, key: &str) -> Option<String> {
        self.shared
            .lock()
            .game_server
            .object_meta
            .as_ref()
            .and_then(|m| m.labels.get(&format!("{SDK_PREFIX}{key}")).cloned())
    }

    /// Waits until `done` holds for the calls so far, checking every 20 ms.
    ///
    /// # Panics
    /// When it does not within `limit`, with `what` and the calls seen.
    pub async fn wait_until(&self, what: &str, limit: Duration, done: impl Fn(&[Record]) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            let calls = self.calls();
            if done(&calls) {
                return;
            }
            if Instant::now() >= deadline {
                let seen: Vec<&Call> = calls.iter().map(|r| &r.call).collect();
                panic!("the fake Agones saw no {what} within {limit:?}; calls: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeAgones {
    fn drop(&mut self) {
        self.shared.stop.cancel();
    }
}
