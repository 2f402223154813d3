//! Placing players anywhere in a cluster: `POST /matchmake` on any process reads the
//! room directory (`cluster.rs`), picks the room (the fullest one with a seat free,
//! anywhere) or, when none has one, the least loaded process to open a room on, and has
//! the owner reserve the seat (`POST /cluster/reserve`, signed with a secret the
//! processes share through Redis). The client gets the owner's signed seat token and
//! URL and connects there directly: a seat is only ever claimed on the process that
//! holds its room.

use std::net::IpAddr;
use std::time::Instant;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tickwire_shared::join_token;
use tickwire_shared::stats::{NodeListing, NodeRoom};
use tracing::warn;

use crate::app::App;
use crate::cluster::{Cluster, lock};
use crate::room::RoomId;
use crate::rooms::{Ask, Refusal};

/// Candidates tried per matchmaking before giving up (each failure is a room that
/// filled meanwhile, or a peer that went away).
const TRIES: usize = 4;

/// The name a peer request's token is minted for.
const PEER_NAME: &str = "cluster";

/// What a matchmaker asks of the cluster.
#[derive(Clone, Debug)]
pub(crate) enum ClusterAsk {
    /// A seat in a room of this type (`None`: the default type), anywhere.
    Quick(Option<String>),
    /// A seat in room `id` of process `node` (with its code, if private).
    Room {
        /// The process.
        node: String,
        /// The room.
        id: RoomId,
        /// Its code.
        code: Option<String>,
    },
}

/// A refused matchmaking, as the HTTP status and text to answer.
#[derive(Debug)]
pub(crate) struct Refused {
    /// The status.
    pub status: StatusCode,
    /// Why, in words.
    pub why: String,
}

impl From<Refusal> for Refused {
    fn from(why: Refusal) -> Refused {
        Refused {
            status: refusal_status(&why),
            why: why.to_string(),
        }
    }
}

/// The HTTP status a refusal is answered with.
pub(crate) fn refusal_status(why: &Refusal) -> StatusCode {
    match why {
        Refusal::UnknownType(..) | Refusal::UnknownRoom(_) | Refusal::NoSuchPlayer(..) => {
            StatusCode::NOT_FOUND
        }
        Refusal::WrongCode(_) => StatusCode::FORBIDDEN,
        Refusal::Full(..) | Refusal::SpectatorsFull(..) => StatusCode::CONFLICT,
        Refusal::TooManyRooms(_) | Refusal::Draining => StatusCode::SERVICE_UNAVAILABLE,
        Refusal::NoSeat(_) | Refusal::Open(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What `POST /matchmake` answers: the seat reserved and where to claim it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Matched {
    /// The room (its id on its process).
    pub room: RoomId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The signed seat token.
    pub seat: String,
    /// Where to connect: `ws(s)://…/ws?seat=TOKEN`.
    pub url: String,
    /// How long the seat waits.
    pub expires_in_ms: u128,
    /// The process holding the room (in a cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// A matchmaker's request to the process that will hold the seat.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PeerAsk {
    /// A room type to quick-match into (on that process)…
    #[serde(rename = "type", default)]
    kind: Option<String>,
    /// …or a room by id, with its code.
    #[serde(default)]
    room: Option<RoomId>,
    #[serde(default)]
    code: Option<String>,
    /// The player's address, whose connection cap the seat counts against.
    client: IpAddr,
}

/// The owner's answer: the seat, and its directory entry as it stands after it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PeerAnswer {
    matched: Matched,
    entry: NodeListing,
}

/// The WebSocket URL of a seat on the process at `base` (`http://h:p` → `ws://h:p`).
pub(crate) fn seat_url(base: &str, token: &str) -> String {
    let ws = match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.strip_prefix("http://").unwrap_or(base)),
    };
    format!("{}/ws?seat={token}", ws.trim_end_matches('/'))
}

impl Cluster {
    /// Places a player as `ask` asks, anywhere in the cluster; `client` is the player's
    /// address. With Redis out of reach, places them on this process.
    pub(crate) async fn matchmake(
        &self,
        app: &App,
        ask: ClusterAsk,
        client: IpAddr,
    ) -> Result<Matched, Refused> {
        let nodes = match self.nodes(app).await {
            Ok(nodes) => nodes,
            Err(e) => {
                warn!(cause = %e, "the room directory is out of reach: matchmaking on this process only");
                if self.is_listed() {
                    vec![self.entry(app)]
                } else {
                    Vec::new()
                }
            }
        };
        // Processes that can take a player now: not draining, answering, and with a
        // session free (a seat there could not be claimed otherwise).
        let live: Vec<&NodeListing> = nodes
            .iter()
            .filter(|n| {
                !n.draining
                    && n.sessions < n.max_sessions
                    && (n.node == self.node || !self.is_unreachable(&n.node))
            })
            .collect();
        match ask {
            ClusterAsk::Room { node, id, code } => {
                let Some(owner) = nodes.iter().find(|n| n.node == node) else {
                    return Err(Refused {
                        status: StatusCode::NOT_FOUND,
                        why: format!("there is no server {node:?} in the cluster"),
                    });
                };
                if owner.draining {
                    return Err(Refusal::Draining.into());
                }
                self.reserve_on(app, owner, Ask::Room { id, code }, client)
                    .await
            }
            ClusterAsk::Quick(kind) => {
                let kind = match kind {
                    Some(k) => k,
                    None => app.rooms.type_names().into_iter().next().ok_or_else(|| {
                        Refused::from(Refusal::UnknownType(String::new(), String::new()))
                    })?,
                };
                self.quick(app, &live, &kind, client).await
            }
        }
    }

    /// A seat in a room of type `kind`: the fullest public room with a seat free on any
    /// live process (the least loaded process's, of equally full ones); else a new room
    /// on the least loaded process that runs the type and may open one.
    async fn quick(
        &self,
        app: &App,
        live: &[&NodeListing],
        kind: &str,
        client: IpAddr,
    ) -> Result<Matched, Refused> {
        let mut rooms: Vec<(&NodeListing, &NodeRoom)> = live
            .iter()
            .flat_map(|n| n.rooms.iter().map(move |r| (*n, r)))
            .filter(|(_, r)| r.kind == kind && !r.private && r.players < r.max_players)
            .collect();
        rooms.sort_by(|(na, a), (nb, b)| {
            b.players
                .cmp(&a.players)
                .then(na.players.cmp(&nb.players))
                .then(na.node.cmp(&nb.node))
        });
        let mut last: Option<Refused> = None;
        for (node, room) in rooms.iter().take(TRIES) {
            // A process found gone on an earlier try is not asked again.
            if self.is_unreachable(&node.node) {
                continue;
            }
            let ask = Ask::Room {
                id: room.id,
                code: None,
            };
            match self.reserve_on(app, node, ask, client).await {
                Ok(m) => return Ok(m),
                // Filled or closed meanwhile, or the process went away: the next one.
                Err(e) if is_retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        let mut hosts: Vec<&&NodeListing> = live
            .iter()
            .filter(|n| n.types.iter().any(|t| t == kind) && n.rooms.len() < n.max_rooms)
            .collect();
        hosts.sort_by(|a, b| {
            (a.players, a.sessions, &a.node).cmp(&(b.players, b.sessions, &b.node))
        });
        for node in hosts
            .iter()
            .filter(|n| !self.is_unreachable(&n.node))
            .take(TRIES)
        {
            match self
                .reserve_on(app, node, Ask::Quick(Some(kind.to_owned())), client)
                .await
            {
                Ok(m) => return Ok(m),
                Err(e) if is_retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            why: if live.iter().any(|n| n.types.iter().any(|t| t == kind)) {
                format!("every server of the cluster that runs {kind:?} is full")
            } else {
                format!(
                    "no server of the cluster runs room type {kind:?} (or every one is draining)"
                )
            },
        }))
    }

    /// Has `node` reserve the seat `ask` asks for.
    async fn reserve_on(
        &self,
        app: &App,
        node: &NodeListing,
        ask: Ask,
        client: IpAddr,
    ) -> Result<Matched, Refused> {
        if node.node == self.node {
            let matched = reserve_here(app, &ask, client, &self.url())?;
            self.touch();
            return Ok(matched);
        }
        let body = match ask {
            Ask::Quick(kind) => PeerAsk {
                kind,
                room: None,
                code: None,
                client,
            },
            Ask::Room { id, code } => PeerAsk {
                kind: None,
                room: Some(id),
                code,
                client,
            },
            Ask::Seat(_) | Ask::Watch { .. } => {
                return Err(Refused {
                    status: StatusCode::BAD_REQUEST,
                    why: "only seats are matchmade".to_owned(),
                });
            }
        };
        let url = format!("{}/cluster/reserve", node.url);
        let unreachable = |e: redis::RedisError| Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            why: format!("the room directory is out of reach: {e}"),
        };
        let mut secret = self.secret().await.map_err(unreachable)?;
        let mut sent = self.ask_peer(&url, &secret, &body).await;
        if sent
            .as_ref()
            .is_ok_and(|a| a.status() == StatusCode::UNAUTHORIZED)
        {
            // The peer knows another secret (Redis restarted and a newer process set
            // one): read the shared one again and ask once more.
            let fresh = self.refresh_secret().await.map_err(unreachable)?;
            if fresh != secret {
                secret = fresh;
                sent = self.ask_peer(&url, &secret, &body).await;
            }
        }
        let answer = match sent {
            Ok(a) => a,
            Err(e) => {
                warn!(node = %node.node, url = %node.url, cause = %e, "a server of the cluster did not answer; leaving it out until its entry lapses");
                lock(&self.unreachable).insert(node.node.clone(), Instant::now());
                return Err(Refused {
                    status: StatusCode::BAD_GATEWAY,
                    why: format!("server {} did not answer: {e}", node.node),
                });
            }
        };
        let status = answer.status();
        if !status.is_success() {
            let why = answer.text().await.unwrap_or_default().trim().to_owned();
            // The player's request was good: a peer that will not take it is a peer
            // problem (502), and another candidate may do.
            let status = if status == StatusCode::UNAUTHORIZED || status.is_server_error() {
                StatusCode::BAD_GATEWAY
            } else {
                status
            };
            return Err(Refused { status, why });
        }
        let answer: PeerAnswer = answer.json().await.map_err(|e| Refused {
            status: StatusCode::BAD_GATEWAY,
            why: format!("server {} answered nonsense: {e}", node.node),
        })?;
        lock(&self.heard).insert(answer.entry.node.clone(), answer.entry);
        Ok(answer.matched)
    }

    /// Sends a peer `POST /cluster/reserve` with `body`, signed with `secret`.
    async fn ask_peer(
        &self,
        url: &str,
        secret: &str,
        body: &PeerAsk,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let token = join_token::mint(secret, PEER_NAME, join_token::unix_now() + 60);
        self.http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
    }

    /// Answers a peer's `POST /cluster/reserve` (token already read from the header).
    pub(crate) async fn answer_peer(
        &self,
        app: &App,
        token: Option<&str>,
        ask: PeerAsk,
    ) -> Result<PeerAnswer, Refused> {
        let unreachable = |e: redis::RedisError| Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            why: format!("the room directory is out of reach: {e}"),
        };
        let signed = |secret: &str| {
            join_token::verify(secret, token, join_token::unix_now())
                .is_ok_and(|name| name == PEER_NAME)
        };
        let secret = self.secret().await.map_err(unreachable)?;
        // A signature by another secret may be by one Redis holds now (it restarted):
        // read it again before refusing.
        if !signed(&secret) && !signed(&self.refresh_secret().await.map_err(unreachable)?) {
            return Err(Refused {
                status: StatusCode::UNAUTHORIZED,
                why: "only servers of the cluster reserve seats here".to_owned(),
            });
        }
        let local = match (ask.room, ask.kind) {
            (Some(id), None) => Ask::Room { id, code: ask.code },
            (None, kind) => Ask::Quick(kind),
            (Some(_), Some(_)) => {
                return Err(Refused {
                    status: StatusCode::BAD_REQUEST,
                    why: "a room or a type, not both".to_owned(),
                });
            }
        };
        let matched = reserve_here(app, &local, ask.client, &self.url())?;
        self.touch();
        Ok(PeerAnswer {
            matched,
            entry: self.entry(app),
        })
    }
}

/// Whether trying another room or process may succeed where this one refused. An
/// address over its connection cap (429) is not: asking each process in turn would let
/// it hold a cap's worth of seats on every one.
fn is_retryable(e: &Refused) -> bool {
    matches!(
        e.status,
        StatusCode::CONFLICT
            | StatusCode::NOT_FOUND
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::BAD_GATEWAY
    )
}

/// Reserves the seat `ask` asks for on this process, for a player at `client` (the
/// seat counts against that address's connection cap until claimed).
pub(crate) fn reserve_here(
    app: &App,
    ask: &Ask,
    client: IpAddr,
    base: &str,
) -> Result<Matched, Refused> {
    let cfg = &app.config;
    let slot = app
        .ips
        .admit(client, cfg.max_connections_per_ip, cfg.limit_loopback)
        .ok_or_else(|| Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            why: format!(
                "too many connections, reserved seats and unjoined rooms from your address (limit {})",
                cfg.max_connections_per_ip
            ),
        })?;
    let r = app.rooms.reserve(ask, slot)?;
    Ok(Matched {
        room: r.room,
        kind: r.kind,
        url: seat_url(base, &r.token),
        seat: r.token,
        expires_in_ms: r.expires_in.as_millis(),
        node: app.cluster.as_ref().map(|c| c.node.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_urls_follow_the_base_urls_scheme() {
        assert_eq!(
            seat_url("http://10.0.0.7:7777", "T"),
            "ws://10.0.0.7:7777/ws?seat=T"
        );
        assert_eq!(
            seat_url("https://game.example.com/", "T"),
            "wss://game.example.com/ws?seat=T"
        );
    }

    #[test]
    fn full_rooms_and_gone_peers_are_retried_elsewhere_and_bad_asks_are_not() {
        let refused = |status| Refused {
            status,
            why: String::new(),
        };
        assert!(is_retryable(&refused(StatusCode::CONFLICT)));
        assert!(is_retryable(&refused(StatusCode::BAD_GATEWAY)));
        assert!(!is_retryable(&refused(StatusCode::FORBIDDEN)));
        assert!(!is_retryable(&refused(StatusCode::TOO_MANY_REQUESTS)));
        assert!(!is_retryable(&refused(StatusCode::BAD_REQUEST)));
    }
}
