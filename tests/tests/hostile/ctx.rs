//! What every attack needs: the server's address, limits and secret, join tokens, and a
//! look at the server's metrics and world.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tickwire_server::{Config, auth};
use tickwire_shared::Tick;
use tickwire_tests::TestServer;
use tokio::time::Instant;

use crate::rawws::{self, Ws};
use crate::report;

/// What every attack needs: where the server is, its limits, its secret, and a look at
/// its metrics and world.
#[derive(Clone)]
pub struct Ctx {
    /// The server's address.
    pub addr: SocketAddr,
    /// Its configuration.
    pub config: Config,
    /// Its auth secret.
    pub secret: String,
    /// The server itself (metrics and snapshots), when it runs in this process;
    /// otherwise its metrics are scraped over HTTP.
    pub server: Option<Arc<TestServer>>,
}

impl Ctx {
    /// A join token for `name`, valid for an hour.
    pub fn token(&self, name: &str) -> String {
        auth::mint(&self.secret, name, auth::unix_now() + 3600)
    }

    /// Joins as `name` from a fresh address; the socket is past Welcome.
    pub async fn join(&self, name: &str) -> Result<Ws, String> {
        rawws::join(self.addr, name, self.token(name), 16 * 1024)
            .await
            .map(|(ws, _)| ws)
    }

    /// The server's metrics, as Prometheus text.
    pub fn metrics(&self) -> String {
        match &self.server {
            Some(s) => s.server().metrics_text(),
            None => tokio::task::block_in_place(|| report::scrape(self.addr)),
        }
    }

    /// The in-process server.
    pub fn in_process(&self) -> &tickwire_server::Server {
        self.server
            .as_ref()
            .unwrap_or_else(|| panic!("this attack needs the in-process server"))
            .server()
    }

    /// Player avatars in the newest snapshot.
    pub fn players_in_world(&self) -> usize {
        let server = self.in_process();
        let player = server
            .schema()
            .component_index("Player")
            .unwrap_or_else(|| panic!("the demo registers its Player component"));
        server
            .latest_snapshot()
            .entities
            .iter()
            .filter(|e| e.components & (1 << player) != 0)
            .count()
    }

    /// The server's newest tick.
    pub fn server_tick(&self) -> Tick {
        self.in_process().latest_snapshot().tick
    }

    /// Polls `done` every 50 ms for at most `limit`; how long it took, if it came true.
    pub async fn wait_until(
        &self,
        limit: Duration,
        done: impl Fn(&Ctx) -> bool,
    ) -> Option<Duration> {
        let start = Instant::now();
        loop {
            if done(self) {
                return Some(start.elapsed());
            }
            if start.elapsed() >= limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
