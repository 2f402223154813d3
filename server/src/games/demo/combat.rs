//! Shooting: players fire along their aim (with a cooldown), projectiles fly and hit orbs
//! and other players; orbs pop and respawn, knocked-out players respawn shielded.

use hecs::{Entity, World};
use rand::Rng;
use rand::rngs::SmallRng;

use super::{DemoEvent, Pilot, Rules, random_body};
use crate::game::Ctx;
use crate::games::avatars::Held;
use crate::games::components::{Body, Flight, Orb, Player, Shot};
use crate::games::controls::FIRE;
use crate::shared::{NetId, PlayerId};

/// Spawns one orb at a random spot, with net id `id`.
pub fn spawn_orb(world: &mut World, rules: &Rules, id: NetId, rng: &mut SmallRng) {
    world.spawn((id, random_body(rules.size, rng), Orb { hp: 1 }));
}

/// Counts down cooldowns and shields, and fires for every player who wants to and may.
pub fn fire(world: &mut World, rules: &Rules, ctx: &mut Ctx<'_, DemoEvent>) {
    let mut shots = Vec::new();
    for (body, card, held, pilot) in world.query_mut::<(&Body, &Player, &Held, &mut Pilot)>() {
        pilot.cooldown = (pilot.cooldown - ctx.dt).max(0.0);
        pilot.shielded = (pilot.shielded - ctx.dt).max(0.0);
        let wants = held.0.buttons & FIRE != 0 || pilot.fire_latched;
        if wants && pilot.cooldown <= 0.0 {
            pilot.fire_latched = false;
            pilot.cooldown = rules.fire_cooldown;
            let aim = held.0.aim_radians();
            let (s, c) = aim.sin_cos();
            let muzzle = rules.player_radius + 6.0;
            shots.push((
                Body {
                    x: body.x + c * muzzle,
                    y: body.y + s * muzzle,
                    angle: aim,
                },
                Shot { owner: card.owner },
                Flight {
                    vx: c * rules.shot_speed,
                    vy: s * rules.shot_speed,
                    ttl: rules.shot_ttl,
                },
            ));
        }
    }
    for (body, shot, flight) in shots {
        world.spawn((ctx.new_id(), body, shot, flight));
    }
}

/// Moves projectiles, despawns spent ones, and resolves hits.
pub fn fly(world: &mut World, rules: &Rules, ctx: &mut Ctx<'_, DemoEvent>, rng: &mut SmallRng) {
    let (w, h) = rules.size;
    let targets: Vec<(Entity, f32, f32, f32, Option<PlayerId>)> = world
        .query::<(Entity, &Body, Option<(&Player, &Pilot)>, Option<&Orb>)>()
        .iter()
        .filter_map(|(e, b, avatar, orb)| match (avatar, orb) {
            (Some((card, pilot)), _) if pilot.shielded <= 0.0 => {
                Some((e, b.x, b.y, rules.player_radius, Some(card.owner)))
            }
            (None, Some(_)) => Some((e, b.x, b.y, rules.orb_radius, None)),
            _ => None,
        })
        .collect();
    let mut spent = Vec::new();
    let mut hits: Vec<(PlayerId, Entity)> = Vec::new();
    for (e, body, shot, flight) in world.query_mut::<(Entity, &mut Body, &Shot, &mut Flight)>() {
        flight.ttl -= ctx.dt;
        body.x += flight.vx * ctx.dt;
        body.y += flight.vy * ctx.dt;
        if flight.ttl <= 0.0 || body.x < 0.0 || body.y < 0.0 || body.x > w || body.y > h {
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
        resolve_hit(world, rules, ctx, rng, shooter, target);
    }
}

fn resolve_hit(
    world: &mut World,
    rules: &Rules,
    ctx: &mut Ctx<'_, DemoEvent>,
    rng: &mut SmallRng,
    shooter: PlayerId,
    target: Entity,
) {
    let mut points = 0;
    let orb_hp = world.get::<&mut Orb>(target).ok().map(|mut orb| {
        orb.hp = (orb.hp - 1).max(0);
        orb.hp
    });
    if let Some(hp) = orb_hp {
        if hp == 0 {
            points = rules.orb_points;
            let _ = world.despawn(target);
            spawn_orb(world, rules, ctx.new_id(), rng);
        }
    } else if let Ok((card, pilot, body)) =
        world.query_one_mut::<(&mut Player, &mut Pilot, &mut Body)>(target)
    {
        card.hp = (card.hp - 1).max(0);
        if card.hp == 0 {
            points = rules.knockout_points;
            ctx.emit(DemoEvent::Knockout {
                by: shooter,
                victim: card.owner,
            });
            card.hp = rules.player_hp;
            pilot.shielded = rules.shield_secs;
            body.x = rng.random_range(0.0..rules.size.0);
            body.y = rng.random_range(0.0..rules.size.1);
        }
    }
    if points != 0 {
        for card in world.query_mut::<&mut Player>() {
            if card.owner == shooter {
                card.score = card.score.saturating_add(points);
            }
        }
    }
}
