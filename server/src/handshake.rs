//! The Hello handshake of a session: the protocol version, the join token, then a new
//! player (seated in a room as the connection asked, and queued to spawn there) or a
//! resumed one (back in their room, with the baseline its client still holds), and the
//! Welcome that carries the room's game's schema.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use tickwire_shared::codec::encode_server;
use tickwire_shared::{
    ByeCode, ClientMsg, NetId, PROTOCOL_VERSION, PlayerId, Resume, ServerMsg, Welcome,
};
use tracing::info;

use crate::app::App;
use crate::auth;
use crate::budget::{Accumulator, Budget};
use crate::replication::{Budgeted, Replicator};
use crate::room::{Room, Seat, Watching};
use crate::rooms::{Ask, Refusal};
use crate::wire::{Conn, End, Event, classify};

/// How long a resuming connection waits for the connection it replaces to let go.
const REPLACE_PATIENCE: Duration = Duration::from_secs(2);

/// Who a session is, once its Hello is accepted.
pub struct Identity {
    /// Their seat in their room.
    pub seat: Seat,
    /// The player's id.
    pub player: PlayerId,
    /// The player's avatar.
    pub entity: NetId,
    /// The player's display name.
    pub name: Arc<str>,
    /// This connection's resume token (a new one per Welcome).
    pub token: String,
}

impl Identity {
    /// The player's room.
    #[must_use]
    pub fn room(&self) -> &Arc<Room> {
        self.seat.room()
    }
}

/// A spectator, once their Hello is accepted.
pub struct Spectator {
    /// Their place among the room's spectators.
    pub watching: Watching,
    /// Their display name (for the log).
    pub name: Arc<str>,
}

/// Who a Hello admitted.
pub enum Admitted {
    /// A player, seated in a room.
    Player(Identity),
    /// A spectator of a room.
    Spectator(Spectator),
}

/// The Bye for a refused seat or place.
fn refused(app: &App, why: Refusal) -> End {
    let code = match why {
        Refusal::UnknownType(..) | Refusal::UnknownRoom(_) | Refusal::NoSuchPlayer(..) => {
            ByeCode::NoSuchRoom
        }
        Refusal::WrongCode(_) => ByeCode::WrongCode,
        Refusal::NoSeat(_) => ByeCode::NoSeat,
        Refusal::Full(..) | Refusal::SpectatorsFull(..) => ByeCode::RoomFull,
        Refusal::TooManyRooms(_) => ByeCode::ServerFull,
        Refusal::Open(_) => ByeCode::InternalError,
        // In a cluster the player can play elsewhere; alone, the server is going away.
        Refusal::Draining if app.is_clustered() => ByeCode::Relocate,
        Refusal::Draining => {
            return End::Bye(
                ByeCode::ServerShutdown,
                "this server is shutting down and takes no new players".into(),
            );
        }
    };
    End::Bye(code, why.to_string())
}

/// Waits for a valid Hello, admits the player where `ask` says (or resumes them in their
/// room) and sends Welcome. Returns the player, their replicator, and the encoded
/// Welcome for `play` to send first (queued on the session's connection, so it keeps its
/// order even through a latency line).
pub async fn handshake(
    conn: &mut Conn,
    app: &Arc<App>,
    ask: &Ask,
) -> Result<Box<(Admitted, Replicator, Bytes)>, End> {
    let deadline = Duration::from_millis(app.config.hello_timeout_ms);
    let first = tokio::select! {
        _ = app.shutdown.cancelled() => return Err(app.farewell()),
        r = tokio::time::timeout(deadline, next_msg(conn, app)) => r,
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
    let ClientMsg::Hello {
        protocol,
        name,
        resume,
        auth,
    } = hello
    else {
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
    // With an auth secret, the join token is checked first, for joins and resumes alike:
    // it names the player, and a resume may only take back that player.
    let authed = match &app.config.auth_secret {
        Some(secret) => {
            let granted = auth::verify(secret, auth.as_deref(), auth::unix_now())
                .map_err(|e| End::Bye(ByeCode::AuthFailed, e.to_string()))?;
            Some(clean_name(&granted, app.config.max_name_chars).unwrap_or_default())
        }
        None => None,
    };
    let name = authed.as_deref().unwrap_or(&name);
    if let Ask::Watch { id, code, follow } = ask {
        let (watching, centre) = app
            .rooms
            .watch(*id, code.as_ref(), *follow)
            .map_err(|why| refused(app, why))?;
        let room = watching.room().clone();
        // A spectator of the whole room sees all of it; one who follows a player sees
        // what that player sees.
        let views = match follow {
            Some(_) => room.views,
            None => crate::tick_output::Views::default(),
        };
        let repl = Replicator::new(PlayerId(0), centre, room.config.send_window_ticks(), views);
        let welcome = ServerMsg::Welcome(Welcome {
            room: room.id,
            player: PlayerId(0),
            entity: centre,
            spectator: true,
            tick_hz: room.config.tick_hz as u16,
            tick: room.tick(),
            resume_token: String::new(),
            schema: room.schema.clone(),
        });
        let name: Arc<str> = clean_name(name, app.config.max_name_chars)
            .unwrap_or_else(|| "spectator".to_owned())
            .into();
        let admitted = Admitted::Spectator(Spectator { watching, name });
        return Ok(Box::new((
            admitted,
            repl,
            Bytes::from(encode_server(&welcome)),
        )));
    }
    let (who, repl) = match resume_player(app, resume, authed.as_deref()).await {
        Some(resumed) => resumed,
        None => join_player(app, ask, name)?,
    };
    let room = who.room();
    room.set_avatar(who.player, who.entity);
    let welcome = ServerMsg::Welcome(Welcome {
        room: room.id,
        player: who.player,
        entity: who.entity,
        spectator: false,
        tick_hz: room.config.tick_hz as u16,
        tick: room.tick(),
        resume_token: who.token.clone(),
        schema: room.schema.clone(),
    });
    Ok(Box::new((
        Admitted::Player(who),
        repl,
        Bytes::from(encode_server(&welcome)),
    )))
}

/// A new player named `name` (already authenticated if required), seated as `ask`
/// says: queues the spawn in that room.
fn join_player(app: &Arc<App>, ask: &Ask, name: &str) -> Result<(Identity, Replicator), End> {
    let seat = app.rooms.seat(ask).map_err(|why| refused(app, why))?;
    let room = seat.room();
    let player = room.roster.new_player_id();
    let name: Arc<str> = clean_name(name, app.config.max_name_chars)
        .unwrap_or_else(|| format!("player{player}"))
        .into();
    let entity = room.ids.avatar();
    room.roster
        .join(player, entity, name.clone())
        .map_err(|_| {
            End::Bye(
                ByeCode::ServerFull,
                "server busy: joins are not being accepted".into(),
            )
        })?;
    let who = Identity {
        seat,
        player,
        entity,
        name,
        token: new_token(),
    };
    let repl = new_replicator(&who);
    Ok((who, repl))
}

/// A returning player: takes them out of the resume book, with a baseline at the tick
/// their client still holds when the old session wrote it. `None` if the token is
/// unknown or expired (the caller then joins them as a new player).
/// With `only_for` (an authenticated name), only that player can be resumed.
async fn resume_player(
    app: &Arc<App>,
    resume: Option<Resume>,
    only_for: Option<&str>,
) -> Option<(Identity, Replicator)> {
    let resume = resume?;
    let Some(parked) = app
        .resume
        .claim_waiting(&resume.token, only_for, REPLACE_PATIENCE)
        .await
    else {
        app.metrics.message_dropped("resume_unknown");
        info!("resume token unknown or expired; joining as a new player");
        return None;
    };
    if parked.seat.room().stop.is_cancelled() {
        // Their room ended (its game failed): they join afresh wherever asked.
        info!(player = %parked.player, room = parked.seat.room().id, "resume token's room has ended; joining as a new player");
        return None;
    }
    parked.seat.room().roster.resume(parked.player);
    let baseline = resume.tick.and_then(|t| parked.baseline_at(t));
    let who = Identity {
        seat: parked.seat,
        player: parked.player,
        entity: parked.entity,
        name: parked.name.clone(),
        token: new_token(),
    };
    let mut repl = new_replicator(&who);
    if let Some(held) = baseline {
        repl = repl.with_baseline(held);
    }
    info!(player = %who.player, delta = repl.baseline().is_some(), "player resumed");
    Some((who, repl))
}

fn new_replicator(who: &Identity) -> Replicator {
    let room = who.room();
    let repl = Replicator::new(
        who.player,
        who.entity,
        room.config.send_window_ticks(),
        room.views,
    );
    match room.config.budget_bytes_per_sec {
        0 => repl,
        rate => repl.with_budget(Budgeted {
            budget: Budget::new(rate, room.config.tick_hz),
            priorities: room.priorities.clone(),
            falloff: room.falloff,
            waiting: Accumulator::default(),
        }),
    }
}

/// Reads messages until one is a protocol message (skipping control frames).
async fn next_msg(conn: &mut Conn, app: &App) -> Result<ClientMsg, End> {
    loop {
        let Event::Inbound(item) = conn.next().await? else {
            continue;
        };
        if let Some((msg, len)) = classify(item, app.config.max_message_bytes)? {
            app.metrics.messages_received.inc();
            app.metrics.bytes_received.inc_by(len as u64);
            return Ok(msg);
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

/// A fresh, unguessable resume token (128 random bits, hex).
fn new_token() -> String {
    crate::rooms::random_hex(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_chat_are_cleaned_and_capped() {
        assert_eq!(clean_name("  ann\u{7}ie  ", 16).as_deref(), Some("annie"));
        assert_eq!(clean_name("\n\t ", 16), None);
        assert_eq!(clean_name("abcdefghij", 4).as_deref(), Some("abcd"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
