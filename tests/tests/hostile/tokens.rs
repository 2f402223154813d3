//! Reconnect storms with bad credentials: join tokens missing, expired, signed with
//! another secret, altered or garbage; resume tokens forged, expired (past the grace
//! period) and stolen from a live player.

use std::time::Duration;

use futures_util::future::join_all;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tickwire_server::auth;
use tickwire_shared::{ByeCode, Resume};

use crate::Ctx;
use crate::rawws::{Ending, KeptAlive, Seen, fresh_ip, hello, read_seen, send_bin, ws_from};
use crate::report::{Row, tally};

/// Connections per wave of a storm: well under the session cap.
const WAVE: usize = 50;

/// Sends one Hello from a fresh address and reads the answer (up to the Welcome).
async fn say_hello(ctx: &Ctx, name: &str, auth: Option<String>, resume: Option<Resume>) -> Seen {
    let mut ws = match ws_from(fresh_ip(), ctx.addr, None).await {
        Ok(ws) => ws,
        Err(e) => return Seen::failed(e),
    };
    if !send_bin(&mut ws, hello(name, auth, resume)).await {
        return Seen::failed("sending Hello failed".into());
    }
    read_seen(&mut ws, Duration::from_secs(8), true).await
}

fn resume(token: String) -> Option<Resume> {
    Some(Resume { token, tick: None })
}

/// Hellos with missing, expired, foreign-signed, altered and garbage join tokens, in
/// waves: Bye AuthFailed (1008) with a reason saying which.
pub async fn join_token_storm(ctx: &Ctx) -> Row {
    let mut row = Row::new("reconnect storm: bad join tokens");
    let valid = ctx.token("mallory");
    let mut altered = valid.clone();
    let last = altered.pop().unwrap_or('0');
    altered.push(if last == '0' { '1' } else { '0' });
    let kinds: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        (
            "expired",
            Some(auth::mint(&ctx.secret, "mallory", auth::unix_now() - 60)),
        ),
        (
            "other secret",
            Some(auth::mint(
                "not the server's secret at all",
                "mallory",
                auth::unix_now() + 3600,
            )),
        ),
        ("altered", Some(altered)),
        ("garbage", Some("v1.99999999999.6d616c6c6f7279.00".into())),
        ("empty", Some(String::new())),
        ("long junk", Some("A".repeat(800))),
    ];
    let per_kind = 30;
    let attempts: Vec<(&str, Option<String>)> = kinds
        .iter()
        .flat_map(|(kind, token)| (0..per_kind).map(move |_| (*kind, token.clone())))
        .collect();
    let mut seen: Vec<(&str, Seen)> = Vec::new();
    // In waves that fit under the session cap: a full server rightly answers ServerFull
    // before it reads any token.
    for wave in attempts.chunks(WAVE) {
        seen.extend(
            join_all(wave.iter().map(|(kind, token)| async move {
                (*kind, say_hello(ctx, "mallory", token.clone(), None).await)
            }))
            .await,
        );
    }
    for (kind, s) in &seen {
        row.check(s.is_bye(ByeCode::AuthFailed, 1008), || {
            format!(
                "{kind} join token: expected Bye AuthFailed + close 1008, got {}",
                s.describe()
            )
        });
    }
    let reasons: Vec<String> = kinds
        .iter()
        .filter_map(|(kind, _)| {
            let s = seen.iter().find(|(k, _)| k == kind)?;
            Some(format!(
                "{kind}: \"{}\"",
                s.1.bye.as_ref().map_or("", |(_, r)| r.as_str())
            ))
        })
        .collect();
    row.scale = format!(
        "{} Hellos ({per_kind} each of {} kinds)",
        seen.len(),
        kinds.len()
    );
    row.response = format!(
        "{}; reasons: {}",
        tally(
            seen.iter()
                .map(|(_, s)| s.describe())
                .collect::<Vec<_>>()
                .iter()
        ),
        reasons.join(", ")
    );
    row
}

/// Forged, expired and stolen resume tokens: none takes over anyone's avatar, and a
/// Hello without a join token is refused whatever resume token it carries.
pub async fn resume_token_storm(ctx: &Ctx) -> Row {
    let mut row = Row::new("reconnect storm: forged, expired, stolen resume tokens");
    let mut rng = SmallRng::seed_from_u64(0x5e55);
    let mut forged = || {
        (0..16)
            .map(|_| format!("{:02x}", rng.random::<u8>()))
            .collect::<String>()
    };

    // Forged tokens without a join token: refused, like any Hello without one.
    let forgeries: Vec<Option<Resume>> = (0..200).map(|_| resume(forged())).collect();
    let mut storm: Vec<Seen> = Vec::new();
    for wave in forgeries.chunks(WAVE) {
        storm.extend(
            join_all(
                wave.iter()
                    .map(|r| say_hello(ctx, "mallory", None, r.clone())),
            )
            .await,
        );
    }
    for s in &storm {
        row.check(s.is_bye(ByeCode::AuthFailed, 1008), || {
            format!(
                "forged resume, no join token: expected Bye AuthFailed + close 1008, got {}",
                s.describe()
            )
        });
    }

    // Forged with a valid join token: a fresh player, never someone else's avatar.
    let (victim, victim_seen) =
        match crate::rawws::join(ctx.addr, "victim", ctx.token("victim"), 16 * 1024).await {
            Ok(v) => v,
            Err(e) => {
                row.check(false, || format!("the victim could not join: {e}"));
                return row;
            }
        };
    let (victim_entity, victim_token, _) = victim_seen
        .welcome
        .clone()
        .unwrap_or_else(|| unreachable!("join checks"));
    let victim = KeptAlive::start(victim);
    let fresh = say_hello(ctx, "mallory", Some(ctx.token("mallory")), resume(forged())).await;
    row.check(
        fresh.welcome.as_ref().is_some_and(|w| w.0 != victim_entity),
        || {
            format!(
                "forged resume + valid join token: expected a new player, got {}",
                fresh.describe()
            )
        },
    );

    // Expired: a player drops, the grace period passes, the token is worth nothing.
    let expired = match crate::rawws::join(ctx.addr, "gone", ctx.token("gone"), 16 * 1024).await {
        Ok((ws, seen)) => {
            let _ = ws.into_inner().set_zero_linger();
            let grace = Duration::from_secs(ctx.config.resume_grace_secs);
            tokio::time::sleep(grace + Duration::from_millis(800)).await;
            let (entity, token, _) = seen.welcome.unwrap_or_else(|| unreachable!("join checks"));
            let bare = say_hello(ctx, "gone", None, resume(token.clone())).await;
            let with_join = say_hello(ctx, "gone", Some(ctx.token("gone")), resume(token)).await;
            row.check(bare.is_bye(ByeCode::AuthFailed, 1008), || {
                format!(
                    "expired resume, no join token: expected Bye AuthFailed + close 1008, got {}",
                    bare.describe()
                )
            });
            row.check(
                with_join.welcome.as_ref().is_some_and(|w| w.0 != entity),
                || {
                    format!(
                        "expired resume + join token: expected a new player, got {}",
                        with_join.describe()
                    )
                },
            );
            format!("{} / with join token: new player", bare.describe())
        }
        Err(e) => {
            row.check(false, || format!("could not join to test expiry: {e}"));
            String::new()
        }
    };

    // Stolen from a live player. With auth on, Hello must carry a join token, so a thief
    // holding only the resume token is refused, and the victim plays on. A thief with a
    // join token of its own must not get the victim's avatar either.
    let bare = say_hello(ctx, "victim", None, resume(victim_token.clone())).await;
    row.check(bare.is_bye(ByeCode::AuthFailed, 1008), || {
        format!(
            "stolen resume token, no join token: expected Bye AuthFailed + close 1008, got {}",
            bare.describe()
        )
    });
    let other = say_hello(
        ctx,
        "mallory",
        Some(ctx.token("mallory")),
        resume(victim_token),
    )
    .await;
    row.check(
        other.welcome.as_ref().is_none_or(|w| w.0 != victim_entity),
        || "a thief with its own join token took over the victim's avatar".into(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let victim_after = victim.finish().await;
    row.check(
        victim_after.bye.is_none() && victim_after.ending == Ending::StillOpen,
        || {
            format!(
                "the victim of a stolen resume token was cut off: {}",
                victim_after.describe()
            )
        },
    );

    row.scale = "200 forged + forged with join token + expired + 2 stolen".into();
    row.response = format!(
        "forged: {}; forged + join token: {}; expired: {expired}; stolen (no join token): {}; \
         stolen + thief's join token: {}; victim: {}",
        tally(storm.iter().map(Seen::describe).collect::<Vec<_>>().iter()),
        if fresh.welcome.is_some() {
            "new player"
        } else {
            "refused"
        },
        bare.describe(),
        other.describe(),
        victim_after.describe()
    );
    row
}
