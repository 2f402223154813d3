//! One client's session: the Hello handshake, then a single loop that reads the client's
//! messages and writes snapshots (coalesced deltas from the client's own baseline), chat,
//! events and pongs. Errors end this session only, with a Bye that says why.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::ws::WebSocket;
use futures_util::StreamExt;
use tickwire_shared::codec::encode_server;
use tickwire_shared::{ByeCode, ClientMsg, NetId, PROTOCOL_VERSION, PlayerId, ServerMsg, quant};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;
use tracing::{debug, info, warn};

use crate::app::App;
use crate::replication::Replicator;
use crate::wire::{Delay, End, Inbox, Outbox, classify};

/// Who a session is, once its Hello is accepted.
struct Identity {
    /// The player's id.
    player: PlayerId,
    /// The player's avatar.
    entity: NetId,
    /// The player's display name.
    name: Arc<str>,
}

/// Removes the player from the world when the session ends, however it ends (a panic
/// included), so no avatar is ever left behind.
struct LeaveOnDrop {
    /// Shared server state.
    app: Arc<App>,
    /// Who leaves.
    player: PlayerId,
}

impl Drop for LeaveOnDrop {
    fn drop(&mut self) {
        self.app.lobby.leave(self.player);
        self.app.metrics.sessions.dec();
    }
}

/// Refuses a connection that holds no session permit: tells it the server is full.
pub async fn refuse(
    socket: WebSocket,
    peer: SocketAddr,
    app: Arc<App>,
    code: ByeCode,
    reason: &str,
) {
    app.metrics
        .connection_refused(End::Bye(code, String::new()).label());
    info!(%peer, cause = reason, "refusing connection");
    let (sink, _stream) = socket.split();
    Outbox::new(sink, Delay::default()).bye(code, reason).await;
}

/// Runs a session to its end. The permit counts it against the session cap.
pub async fn run(socket: WebSocket, peer: SocketAddr, app: Arc<App>, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let delay = Delay {
        latency: Duration::from_millis(app.config.sim_latency_ms),
        jitter: Duration::from_millis(app.config.sim_jitter_ms),
    };
    let (sink, stream) = socket.split();
    let mut inbox = Inbox::new(stream, delay);
    let mut outbox = Outbox::new(sink, delay);
    let end = match handshake(&mut inbox, &mut outbox, &app).await {
        Ok(who) => {
            let _leave = LeaveOnDrop {
                app: app.clone(),
                player: who.player,
            };
            app.metrics.sessions.inc();
            info!(%peer, player = %who.player, name = %who.name, "player joined");
            let end = play(&mut inbox, &mut outbox, &app, &who).await;
            info!(%peer, player = %who.player, reason = end.label(), "player left");
            end
        }
        Err(end) => end,
    };
    app.metrics.session_closed(end.label());
    match end {
        End::Bye(code, reason) => {
            if code != ByeCode::ServerShutdown {
                warn!(%peer, cause = %reason, "closing session");
            }
            outbox.bye(code, &reason).await;
        }
        End::ClientGone => outbox.close().await,
        End::Io(cause) => debug!(%peer, %cause, "session socket failed"),
    }
}

/// Waits for a valid Hello, admits the player and sends Welcome.
async fn handshake(
    inbox: &mut Inbox,
    outbox: &mut Outbox,
    app: &Arc<App>,
) -> Result<Identity, End> {
    let deadline = Duration::from_millis(app.config.hello_timeout_ms);
    let first = tokio::select! {
        _ = app.shutdown.cancelled() => return Err(End::Bye(ByeCode::ServerShutdown, "server shutting down".into())),
        r = tokio::time::timeout(deadline, next_msg(inbox, app)) => r,
    };
    let hello = match first {
        Err(_) => {
            return Err(End::Bye(
                ByeCode::Timeout,
                format!("no Hello within {} ms of connecting", deadline.as_millis()),
            ));
        }
        Ok(r) => r?,
    };
    let ClientMsg::Hello { protocol, name, .. } = hello else {
        return Err(End::Bye(
            ByeCode::Malformed,
            "the first message must be Hello".into(),
        ));
    };
    if protocol != PROTOCOL_VERSION {
        return Err(End::Bye(
            ByeCode::ProtocolMismatch,
            format!(
                "protocol version {protocol} is not supported; this server speaks version {PROTOCOL_VERSION}"
            ),
        ));
    }
    let player = app.lobby.new_player_id();
    let name: Arc<str> = clean_name(&name, app.config.max_name_chars)
        .unwrap_or_else(|| format!("player{player}"))
        .into();
    let entity = app.ids.next();
    app.lobby.join(player, entity, name.clone()).map_err(|_| {
        End::Bye(
            ByeCode::ServerFull,
            "server busy: joins are not being accepted".into(),
        )
    })?;
    let welcome = ServerMsg::Welcome {
        player,
        entity,
        tick_hz: app.config.tick_hz as u16,
        tick: app.frames.borrow().tick(),
        resume_token: new_token(),
        arena: app.arena.clone(),
    };
    if let Err(e) = send(outbox, app, Bytes::from(encode_server(&welcome))).await {
        app.lobby.leave(player);
        return Err(e);
    }
    Ok(Identity {
        player,
        entity,
        name,
    })
}

/// Reads messages until one is a protocol message (skipping control frames).
async fn next_msg(inbox: &mut Inbox, app: &App) -> Result<ClientMsg, End> {
    loop {
        if let Some((msg, len)) = classify(inbox.next().await, app.config.max_message_bytes)? {
            app.metrics.messages_received.inc();
            app.metrics.bytes_received.inc_by(len as u64);
            return Ok(msg);
        }
    }
}

async fn send(outbox: &mut Outbox, app: &App, bytes: Bytes) -> Result<(), End> {
    let len = bytes.len() as u64;
    outbox.send(bytes).await?;
    app.metrics.messages_sent.inc();
    app.metrics.bytes_sent.inc_by(len);
    Ok(())
}

/// The session's main loop, from Welcome until something ends it.
async fn play(inbox: &mut Inbox, outbox: &mut Outbox, app: &Arc<App>, who: &Identity) -> End {
    let cfg = &app.config;
    let mut frames = app.frames.clone();
    frames.mark_changed();
    let mut broadcast = app.broadcast.subscribe();
    let mut repl = Replicator::new(
        who.player,
        who.entity,
        cfg.send_window_ticks(),
        quant::pos_to_fixed(cfg.view_radius as f32),
        (
            quant::pos_to_fixed(cfg.arena_width as f32 / 2.0),
            quant::pos_to_fixed(cfg.arena_height as f32 / 2.0),
        ),
    );
    loop {
        let window_open = repl.window_open();
        tokio::select! {
            biased;
            _ = app.shutdown.cancelled() => {
                return End::Bye(ByeCode::ServerShutdown, "server shutting down".into());
            }
            item = inbox.next() => {
                let msg = match classify(item, cfg.max_message_bytes) {
                    Ok(Some((msg, len))) => {
                        app.metrics.messages_received.inc();
                        app.metrics.bytes_received.inc_by(len as u64);
                        msg
                    }
                    Ok(None) => continue,
                    Err(end) => return end,
                };
                match handle(msg, app, who, &mut repl) {
                    Ok(Some(reply)) => {
                        if let Err(end) = send(outbox, app, reply).await {
                            return end;
                        }
                    }
                    Ok(None) => {}
                    Err(end) => return end,
                }
            }
            changed = frames.changed(), if window_open => {
                if changed.is_err() {
                    return End::Bye(ByeCode::ServerShutdown, "server shutting down".into());
                }
                let frame = frames.borrow_and_update().clone();
                if let Some((msg, _body_len)) = repl.next_message(&frame, &app.cache) {
                    app.metrics.snapshot_bytes.observe(msg.len() as f64);
                    if let Err(end) = send(outbox, app, msg).await {
                        return end;
                    }
                }
            }
            r = broadcast.recv() => match r {
                Ok(bytes) => {
                    if let Err(end) = send(outbox, app, bytes).await {
                        return end;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    debug!(player = %who.player, skipped = n, "chat/events lagged");
                }
                Err(RecvError::Closed) => {
                    return End::Bye(ByeCode::ServerShutdown, "server shutting down".into());
                }
            },
        }
    }
}

/// Applies one client message; returns a reply to send, if any.
fn handle(
    msg: ClientMsg,
    app: &App,
    who: &Identity,
    repl: &mut Replicator,
) -> Result<Option<Bytes>, End> {
    match msg {
        ClientMsg::Hello { .. } => Err(End::Bye(
            ByeCode::Malformed,
            "Hello was already received".into(),
        )),
        ClientMsg::Input { seq, buttons, aim } => {
            if !app.lobby.input(who.player, seq, buttons, aim) {
                app.metrics.message_dropped("stale_input");
            }
            Ok(None)
        }
        ClientMsg::Ack { tick } => {
            repl.ack(tick);
            Ok(None)
        }
        ClientMsg::Ping { client_time } => {
            let pong = ServerMsg::Pong {
                client_time,
                server_tick: app.frames.borrow().tick(),
                server_time_ms: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            };
            Ok(Some(Bytes::from(encode_server(&pong))))
        }
        ClientMsg::Chat { text } => {
            match clean_chat(&text, app.config.max_chat_chars) {
                Some(text) => {
                    let line = ServerMsg::Chat {
                        from: who.player,
                        name: who.name.to_string(),
                        text,
                    };
                    // No receivers (nobody connected) is not an error.
                    let _ = app.broadcast.send(Bytes::from(encode_server(&line)));
                }
                None => app.metrics.message_dropped("empty_chat"),
            }
            Ok(None)
        }
    }
}

/// A display name: control characters removed, whitespace trimmed, cut to `max` chars.
fn clean_name(raw: &str, max: usize) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(max)
        .collect();
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// A chat line: control characters removed, trimmed, cut to `max` chars; None if empty.
fn clean_chat(raw: &str, max: usize) -> Option<String> {
    let s: String = raw.chars().filter(|c| !c.is_control()).take(max).collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A fresh, unguessable resume token (128 random bits, hex).
fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_chat_are_cleaned_and_capped() {
        assert_eq!(clean_name("  ann\u{7}ie  ", 16).as_deref(), Some("annie"));
        assert_eq!(clean_name("\n\t ", 16), None);
        assert_eq!(clean_name("abcdefghij", 4).as_deref(), Some("abcd"));
        assert_eq!(
            clean_chat(" hi\u{0} there ", 200).as_deref(),
            Some("hi there")
        );
        assert_eq!(clean_chat("", 200), None);
        assert_eq!(
            clean_chat(&"x".repeat(500), 200).map(|s| s.len()),
            Some(200)
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
