//! An in-process Tickwire server for a test: started on 127.0.0.1:0 with a given config,
//! stopped through its cancellation token (also on drop, so a failing test leaks no tick
//! thread).

use std::net::SocketAddr;
use std::time::Duration;

use tickwire_client::{Client, ConnectOptions};
use tickwire_server::games::demo::{Demo, DemoConfig};
use tickwire_server::replay::Playback;
use tickwire_server::{Config, Game, RoomTypes, Server, ServerError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::wait::within;

/// How long a clean server stop may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The engine defaults every end-to-end test starts from: 30 Hz, full view (so a mirror
/// can be compared with the whole server snapshot), and two seconds of history (so the
/// server can say what it had at a mirror's tick).
#[must_use]
pub fn test_config() -> Config {
    Config {
        view_radius: 0,
        history_ticks: 60,
        ..Config::default()
    }
}

/// The demo game with a fixed seed, as the tests play it.
#[must_use]
pub fn demo_config() -> DemoConfig {
    DemoConfig {
        seed: 42,
        ..DemoConfig::default()
    }
}

/// A running server owned by one test.
pub struct TestServer {
    /// The server (taken by `stop`).
    server: Option<Server>,
    /// Cancels the server; cancelled on drop too.
    shutdown: CancellationToken,
    /// Where it listens.
    addr: SocketAddr,
}

impl TestServer {
    /// Starts the demo game (`demo_config`) with `config` on a free port of 127.0.0.1.
    pub async fn start(config: Config) -> TestServer {
        TestServer::start_game::<Demo>(config, demo_config()).await
    }

    /// Starts game `G` with `config` and its settings `game` on a free port of 127.0.0.1.
    pub async fn start_game<G: Game>(config: Config, game: G::Config) -> TestServer {
        TestServer::launch(|listener, shutdown| {
            Server::start::<G>(listener, config, game, shutdown)
        })
        .await
    }

    /// Starts the room types `types` (the first is the default) with `config` on a free
    /// port of 127.0.0.1.
    pub async fn start_rooms(config: Config, types: RoomTypes) -> TestServer {
        TestServer::launch(|listener, shutdown| {
            Server::start_rooms(listener, config, types, shutdown)
        })
        .await
    }

    /// Serves the recorded match `playback` with `config` on a free port of 127.0.0.1.
    pub async fn replay<G: Game>(config: Config, playback: Playback<G>) -> TestServer {
        TestServer::launch(|listener, shutdown| {
            Server::replay::<G>(listener, config, playback, shutdown)
        })
        .await
    }

    async fn launch(
        start: impl FnOnce(TcpListener, CancellationToken) -> Result<Server, ServerError>,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
        let shutdown = CancellationToken::new();
        let server = start(listener, shutdown.clone())
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        let addr = server.local_addr();
        TestServer {
            server: Some(server),
            shutdown,
            addr,
        }
    }

    /// The server's address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket URL clients connect to.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// The WebSocket URL with `query` (`room=3`, `type=arena`) for matchmaking.
    #[must_use]
    pub fn url_with(&self, query: &str) -> String {
        format!("ws://{}/ws?{query}", self.addr)
    }

    /// The server, for its snapshot history.
    ///
    /// # Panics
    /// After `stop`.
    #[must_use]
    pub fn server(&self) -> &Server {
        self.server
            .as_ref()
            .unwrap_or_else(|| panic!("the test server was already stopped"))
    }

    /// Connects a mirroring client named `name`, panicking if that fails.
    pub async fn connect(&self, name: &str) -> Client {
        self.connect_with(ConnectOptions::new(name)).await
    }

    /// Connects a client with `options`, panicking if that fails.
    pub async fn connect_with(&self, options: ConnectOptions) -> Client {
        let name = options.name.clone();
        Client::connect(&self.url(), options)
            .await
            .unwrap_or_else(|e| panic!("client {name} could not connect: {e}"))
    }

    /// Asserts `client`'s mirror equals this server's snapshot of the mirror's tick.
    ///
    /// # Panics
    /// When it differs, or the client has mirrored nothing, or the server no longer holds
    /// that tick.
    pub fn assert_mirror_matches(&self, client: &Client, who: &str) {
        let tick = client
            .mirror()
            .tick()
            .unwrap_or_else(|| panic!("{who} has mirrored nothing yet"));
        let snap = self
            .server()
            .snapshot_at(tick)
            .unwrap_or_else(|| panic!("the server no longer holds tick {tick} ({who})"));
        assert_eq!(
            client.mirror().entities(),
            snap.entities.as_slice(),
            "{who}'s mirror differs from the server at tick {tick}"
        );
    }

    /// Stops the server and checks it ends cleanly and promptly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            within(STOP_TIMEOUT, "the server to stop", server.wait())
                .await
                .unwrap_or_else(|e| panic!("the server stopped with an error: {e}"));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
