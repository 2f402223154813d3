//! Shooting: firing projectiles from held or latched FIRE, flying them, and resolving hits
//! on orbs and players into scores, knockouts and respawns.

use hecs::{Entity, World};
use rand::Rng;
use rand::rngs::SmallRng;
use tickwire_shared::{EntityKind, GameEvent, PlayerId, buttons};

use super::components::{Avatar, Body, Net, Shot, Wanderer};
use super::rules::Rules;
use crate::net_ids::NetIds;

/// Spawns a projectile for every avatar that wants to fire and is off cooldown.
pub fn fire(world: &mut World, rules: &Rules, ids: &NetIds) {
    let mut shots = Vec::new();
    for (body, avatar) in world.query_mut::<(&Body, &mut Avatar)>() {
        avatar.cooldown = (avatar.cooldown - rules.dt).max(0.0);
        avatar.shielded = (avatar.shielded - rules.dt).max(0.0);
        let wants = avatar.controls.buttons & buttons::FIRE != 0 || avatar.controls.fire_latched;
        if wants && avatar.cooldown <= 0.0 {
            avatar.controls.fire_latched = false;
            avatar.cooldown = rules.fire_cooldown;
            let (s, c) = avatar.controls.aim.sin_cos();
            let muzzle = rules.player_radius + 6.0;
            shots.push((
                Body {
                    x: body.x + c * muzzle,
                    y: body.y + s * muzzle,
                    angle: avatar.controls.aim,
                },
                Shot {
                    owner: avatar.player,
                    vx: c * rules.shot_speed,
                    vy: s * rules.shot_speed,
                    ttl: rules.shot_ttl,
                },
            ));
        }
    }
    for (body, shot) in shots {
        world.spawn((
            Net {
                id: ids.next(),
                kind: EntityKind::Projectile,
            },
            body,
            shot,
        ));
    }
}

/// Flies projectiles, resolves hits, and despawns spent ones. Popped orbs are replaced
/// at a random spot; knocked-out players respawn with full health.
pub fn fly(
    world: &mut World,
    rules: &Rules,
    ids: &NetIds,
    rng: &mut SmallRng,
    events: &mut Vec<GameEvent>,
) {
    let targets: Vec<(Entity, f32, f32, f32, Option<PlayerId>)> = world
        .query::<(Entity, &Body, Option<&Avatar>, Option<&Wanderer>)>()
        .iter()
        .filter_map(|(e, b, avatar, orb)| match (avatar, orb) {
            (Some(a), _) if a.shielded <= 0.0 => {
                Some((e, b.x, b.y, rules.player_radius, Some(a.player)))
            }
            (None, Some(_)) => Some((e, b.x, b.y, rules.orb_radius, None)),
            _ => None,
        })
        .collect();
    let mut spent = Vec::new();
    let mut hits: Vec<(PlayerId, Entity)> = Vec::new();
    for (e, body, shot) in world.query_mut::<(Entity, &mut Body, &mut Shot)>() {
        shot.ttl -= rules.dt;
        body.x += shot.vx * rules.dt;
        body.y += shot.vy * rules.dt;
        if shot.ttl <= 0.0
            || body.x < 0.0
            || body.y < 0.0
            || body.x > rules.width
            || body.y > rules.height
        {
            spent.push(e);
            continue;
        }
        let hit = targets.iter().find(|(t, x, y, r, owner)| {
            *t != e
                && *owner != Some(shot.owner)
                && (body.x - x).powi(2) + (body.y - y).powi(2) <= r * r
        });
        if let Some((target, ..)) = hit {
            if !hits.iter().any(|(_, t)| t == target) {
                hits.push((shot.owner, *target));
            }
            spent.push(e);
        }
    }
    for e in spent {
        let _ = world.despawn(e);
    }
    for (shooter, target) in hits {
        resolve_hit(world, rules, ids, rng, events, shooter, target);
    }
}

fn resolve_hit(
    world: &mut World,
    rules: &Rules,
    ids: &NetIds,
    rng: &mut SmallRng,
    events: &mut Vec<GameEvent>,
    shooter: PlayerId,
    target: Entity,
) {
    let mut points = 0;
    let orb_hp = world.get::<&mut Wanderer>(target).ok().map(|mut orb| {
        orb.hp = orb.hp.saturating_sub(1);
        orb.hp
    });
    if let Some(hp) = orb_hp {
        if hp == 0 {
            points = rules.orb_points;
            let _ = world.despawn(target);
            spawn_orb(world, rules, ids, rng);
        }
    } else if let Ok((avatar, body)) = world.query_one_mut::<(&mut Avatar, &mut Body)>(target) {
        avatar.hp = avatar.hp.saturating_sub(1);
        if avatar.hp == 0 {
            points = rules.knockout_points;
            events.push(GameEvent::Knockout {
                by: shooter,
                victim: avatar.player,
            });
            avatar.hp = rules.player_hp;
            avatar.shielded = rules.shield_secs;
            body.x = rng.random_range(0.0..rules.width);
            body.y = rng.random_range(0.0..rules.height);
        }
    }
    if points != 0 {
        for avatar in world.query_mut::<&mut Avatar>() {
            if avatar.player == shooter {
                avatar.score = avatar.score.saturating_add(points);
            }
        }
    }
}

/// Spawns one orb at a random spot.
pub fn spawn_orb(world: &mut World, rules: &Rules, ids: &NetIds, rng: &mut SmallRng) {
    let body = Body {
        x: rng.random_range(0.0..rules.width),
        y: rng.random_range(0.0..rules.height),
        angle: rng.random_range(-std::f32::consts::PI..std::f32::consts::PI),
    };
    world.spawn((
        Net {
            id: ids.next(),
            kind: EntityKind::Orb,
        },
        body,
        Wanderer { hp: 1 },
    ));
}
