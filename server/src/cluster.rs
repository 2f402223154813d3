//! The room directory on Redis (`--redis-url`): each process keeps an entry there
//! (where it is, its load, its rooms), heartbeated with a TTL, so a process that dies
//! drops out within `directory_ttl_secs`, and reads everyone's to place players
//! (`placement.rs`).
//!
//! Redis keys (prefix `tickwire:`): `node:{id}`, a process's `NodeListing` as JSON
//! with the TTL; `nodes`, the set of ids (entries whose key lapsed are pruned from it
//! when read); `secret`, the shared signing secret, set once by the first process.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tickwire_shared::PROTOCOL_VERSION;
use tickwire_shared::stats::{NodeListing, NodeRoom};
use tokio::sync::Notify;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tracing::{info, warn};

use crate::app::App;
use crate::config::Config;
use crate::rooms::random_hex;

/// Every key's prefix.
const PREFIX: &str = "tickwire:";

/// How long a call to a peer (`POST /cluster/reserve`) may take.
const PEER_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one Redis command may take.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A burst of changes (seats taken, rooms opened) is published once, this long after the
/// first of them.
const COALESCE: Duration = Duration::from_millis(50);

/// This process's place in the cluster.
pub(crate) struct Cluster {
    /// This process's id in the directory.
    pub(crate) node: String,
    /// Its base URL, as the directory lists it (under Agones without `--public-url`,
    /// learnt from the GameServer's address and port once the SDK answers).
    url: RwLock<String>,
    /// Whether `url` is known: until it is, the process stays out of the directory, so
    /// nobody is sent to an address that does not reach it.
    listed: AtomicBool,
    redis: ConnectionManager,
    /// An entry lapses this long after its last heartbeat.
    ttl: Duration,
    /// Calls to peers.
    pub(crate) http: reqwest::Client,
    /// The secret peer requests are signed with, as last read from (or first set in)
    /// Redis; read again when a peer's signature does not check out, since a Redis
    /// that restarted empty may have been given another by a newer process.
    secret: tokio::sync::RwLock<Option<String>>,
    /// The newest entry of each peer seen in an answer of its own (fresher than Redis
    /// between heartbeats).
    pub(crate) heard: Mutex<HashMap<String, NodeListing>>,
    /// Peers that could not be reached, and when: left out until their entry lapses.
    pub(crate) unreachable: Mutex<HashMap<String, Instant>>,
    /// Something changed that the directory should see soon.
    changed: Notify,
}

/// The base URL a process listening on `addr` is reached at: `public_url` if set, else
/// the listen address (loopback in place of "every interface").
pub(crate) fn public_url(config: &Config, addr: SocketAddr) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
        });
        // Under Agones the GameServer's address replaces it once the SDK answers.
        if !config.agones {
            warn!(
                "listening on every interface without --public-url: the room directory \
                 lists this process at {addr}, which only this machine can reach"
            );
        }
    }
    format!("{scheme}://{addr}")
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    /// This process's place in the cluster on `config.redis_url`, listed at `url`. The
    /// connection is made in the background (and remade whenever it drops); until Redis
    /// answers, matchmaking stays on this process. Under Agones without `--public-url`
    /// the process joins the directory only once `set_url` says where it is reached.
    pub(crate) fn new(config: &Config, url: String) -> Result<Cluster, String> {
        let Some(redis_url) = &config.redis_url else {
            return Err("no --redis-url".to_owned());
        };
        let client = redis::Client::open(redis_url.as_str())
            .map_err(|e| format!("the room directory's URL {redis_url}: {e}"))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let redis = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| format!("the room directory at {redis_url}: {e}"))?;
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let tls = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS for calls to peers: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .timeout(PEER_TIMEOUT)
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|e| format!("the HTTP client for calls to peers: {e}"))?;
        Ok(Cluster {
            node: random_hex(6),
            url: RwLock::new(url),
            listed: AtomicBool::new(config.public_url.is_some() || !config.agones),
            redis,
            ttl: Duration::from_secs(config.directory_ttl_secs),
            http,
            secret: tokio::sync::RwLock::new(None),
            heard: Mutex::new(HashMap::new()),
            unreachable: Mutex::new(HashMap::new()),
            changed: Notify::new(),
        })
    }

    /// This process's id in the directory.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// The base URL this process is listed at.
    pub(crate) fn url(&self) -> String {
        self.url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Lists this process at `url` from now on, and joins the directory if it had waited
    /// for it.
    #[cfg(feature = "agones")]
    pub(crate) fn set_url(&self, url: String) {
        info!(%url, "the room directory lists this server at its GameServer address");
        *self.url.write().unwrap_or_else(PoisonError::into_inner) = url;
        self.listed.store(true, Ordering::Release);
        self.touch();
    }

    /// Asks for this process's entry to be published soon (a seat was taken, a room
    /// opened or closed, the drain began).
    pub(crate) fn touch(&self) {
        self.changed.notify_one();
    }

    /// This process's entry as it stands now.
    pub(crate) fn entry(&self, app: &App) -> NodeListing {
        let rooms: Vec<NodeRoom> = app
            .rooms
            .list(None)
            .into_iter()
            .map(|r| NodeRoom {
                id: r.id,
                kind: r.kind,
                players: r.players,
                max_players: r.max_players,
                private: r.private,
            })
            .collect();
        NodeListing {
            node: self.node.clone(),
            url: self.url(),
            at_ms: unix_ms(),
            protocol: PROTOCOL_VERSION,
            draining: app.is_draining(),
            players: rooms.iter().map(|r| r.players).sum(),
            sessions: app.sessions(),
            max_sessions: app.config.max_sessions,
            max_rooms: app.config.max_rooms,
            types: app.rooms.type_names(),
            rooms,
        }
    }

    fn key(node: &str) -> String {
        format!("{PREFIX}node:{node}")
    }

    /// The shared secret peer requests are signed with, as last read (read from Redis
    /// the first time).
    pub(crate) async fn secret(&self) -> Result<String, redis::RedisError> {
        if let Some(secret) = self.secret.read().await.as_ref() {
            return Ok(secret.clone());
        }
        self.refresh_secret().await
    }

    /// Reads the shared secret from Redis again, first putting this process's (the one
    /// it last knew, else a new one) there if Redis has none, as after a restart; keeps
    /// and returns what Redis then holds, so every process converges on one secret.
    pub(crate) async fn refresh_secret(&self) -> Result<String, redis::RedisError> {
        let mut held = self.secret.write().await;
        let mut con = self.redis.clone();
        let key = format!("{PREFIX}secret");
        let mine = held.clone().unwrap_or_else(|| random_hex(32));
        let _: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&mine)
            .arg("NX")
            .query_async(&mut con)
            .await?;
        let shared: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut con).await?;
        let shared = shared.unwrap_or(mine);
        if held.as_ref().is_some_and(|h| *h != shared) {
            info!(
                "the cluster's shared secret changed in Redis (it restarted?): using the new one"
            );
        }
        *held = Some(shared.clone());
        Ok(shared)
    }

    /// Whether this process is in the directory (under Agones, once its address is
    /// known): until then it places nobody on itself.
    pub(crate) fn is_listed(&self) -> bool {
        self.listed.load(Ordering::Acquire)
    }

    /// Writes this process's entry with its TTL, and puts the shared secret it knows
    /// back if Redis lost it.
    async fn publish(&self, entry: &NodeListing) -> Result<(), redis::RedisError> {
        self.refresh_secret().await?;
        let json = serde_json::to_string(entry).unwrap_or_default();
        let mut con = self.redis.clone();
        redis::pipe()
            .cmd("SET")
            .arg(Cluster::key(&self.node))
            .arg(json)
            .arg("PX")
            .arg(self.ttl.as_millis() as u64)
            .ignore()
            .cmd("SADD")
            .arg(format!("{PREFIX}nodes"))
            .arg(&self.node)
            .ignore()
            .query_async::<()>(&mut con)
            .await
    }

    /// Takes this process's entry out of the directory (it is stopping).
    async fn withdraw(&self) -> Result<(), redis::RedisError> {
        let mut con = self.redis.clone();
        redis::pipe()
            .cmd("DEL")
            .arg(Cluster::key(&self.node))
            .ignore()
            .cmd("SREM")
            .arg(format!("{PREFIX}nodes"))
            .arg(&self.node)
            .ignore()
            .query_async::<()>(&mut con)
            .await
    }

    /// Every process in the directory now (this one as it stands, the others as last
    /// heard of), pruning ids whose entries lapsed.
    pub(crate) async fn nodes(&self, app: &App) -> Result<Vec<NodeListing>, redis::RedisError> {
        let mut con = self.redis.clone();
        let ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(format!("{PREFIX}nodes"))
            .query_async(&mut con)
            .await?;
        let others: Vec<&String> = ids.iter().filter(|id| **id != self.node).collect();
        let values: Vec<Option<String>> = if others.is_empty() {
            Vec::new()
        } else {
            let keys: Vec<String> = others.iter().map(|id| Cluster::key(id)).collect();
            redis::cmd("MGET").arg(keys).query_async(&mut con).await?
        };
        let mut lapsed = Vec::new();
        let mut nodes = Vec::new();
        if self.is_listed() {
            nodes.push(self.entry(app));
        }
        {
            let mut heard = lock(&self.heard);
            // Peers no longer in the directory are forgotten.
            heard.retain(|id, _| others.contains(&id));
            for (id, value) in others.iter().zip(values) {
                let Some(value) = value else {
                    heard.remove(*id);
                    lapsed.push((*id).clone());
                    continue;
                };
                // An entry this version cannot read (a newer process's, mid-upgrade) is
                // left alone, not pruned: it is alive, just not ours to place on.
                let Ok(entry) = serde_json::from_str::<NodeListing>(&value) else {
                    continue;
                };
                if entry.protocol != PROTOCOL_VERSION {
                    continue;
                }
                let newest = match heard.get(*id) {
                    Some(h) if h.at_ms > entry.at_ms => h.clone(),
                    _ => entry,
                };
                nodes.push(newest);
            }
        }
        if !lapsed.is_empty() {
            let _: Result<(), _> = redis::cmd("SREM")
                .arg(format!("{PREFIX}nodes"))
                .arg(&lapsed)
                .query_async(&mut con)
                .await;
        }
        Ok(nodes)
    }

    /// Whether peer `node` failed to answer within the last TTL.
    pub(crate) fn is_unreachable(&self, node: &str) -> bool {
        let mut gone = lock(&self.unreachable);
        gone.retain(|_, at| at.elapsed() < self.ttl);
        gone.contains_key(node)
    }

    /// Keeps this process's entry in the directory until shutdown: every third of the
    /// TTL, and soon after each change; then takes it out.
    pub(crate) async fn heartbeat(self: Arc<Self>, app: Arc<App>) {
        let period = self.ttl / 3;
        let mut failing_since: Option<Instant> = None;
        let mut last_warned: Option<Instant> = None;
        let mut drain_told = false;
        loop {
            let entry = self.entry(&app);
            let published = if self.listed.load(Ordering::Acquire) {
                self.publish(&entry).await
            } else {
                Ok(())
            };
            match published {
                Ok(()) => {
                    if let Some(since) = failing_since.take() {
                        info!(
                            after_s = since.elapsed().as_secs(),
                            "the room directory answers again"
                        );
                    }
                }
                Err(e) => {
                    failing_since.get_or_insert_with(Instant::now);
                    if last_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(30)) {
                        warn!(cause = %e, "cannot publish this server to the room directory");
                        last_warned = Some(Instant::now());
                    }
                }
            }
            tokio::select! {
                () = app.shutdown.cancelled() => break,
                () = app.draining.cancelled(), if !drain_told => drain_told = true,
                () = self.changed.notified() => {
                    tokio::time::sleep(COALESCE).await;
                }
                () = tokio::time::sleep(period) => {}
            }
        }
        match self.withdraw().await {
            Ok(()) => info!(node = %self.node, "left the room directory"),
            Err(e) => {
                warn!(cause = %e, "cannot leave the room directory (the entry lapses by itself)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_on_every_interface_is_listed_at_loopback_unless_told() {
        let config = Config::default();
        let any: SocketAddr = "0.0.0.0:7777".parse().unwrap();
        assert_eq!(public_url(&config, any), "http://127.0.0.1:7777");
        let told = Config {
            public_url: Some("http://10.0.0.7:7777/".into()),
            ..Config::default()
        };
        assert_eq!(public_url(&told, any), "http://10.0.0.7:7777");
    }
}
