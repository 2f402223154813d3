//! Shooting: players fire along their aim (with a cooldown), projectiles fly and hit orbs
//! and other players; orbs pop and respawn, knocked-out players respawn shielded.
//!
//! Shots are lag-compensated: a shot remembers how far behind the present its shooter
//! was looking (`Ctx::view_tick`), and tests its hits against where each target was
//! that many ticks ago (`Ctx::rewound`), so what the shooter aimed at is what it hits.

use hecs::{Entity, World};
use rand::Rng;
use rand::rngs::SmallRng;

use super::{DemoEvent, Pilot, Rules, random_body};
use crate::game::Ctx;
use crate::games::avatars::Held;
use crate::games::components::{Body, Flight, Orb, Player, Shot};
use crate::games::controls::FIRE;
use crate::shared::{NetId, PlayerId, Tick};

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
        let lag = ctx.tick.since(ctx.view_tick(card.owner));
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
                    lag,
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
    let targets: Vec<Target> = world
        .query::<(
            Entity,
            &NetId,
            &Body,
            Option<(&Player, &Pilot)>,
            Option<&Orb>,
        )>()
        .iter()
        .filter_map(|(e, &id, &body, avatar, orb)| {
            let (radius, owner) = match (avatar, orb) {
                (Some((card, pilot)), _) if pilot.shielded <= 0.0 => {
                    (rules.player_radius, Some(card.owner))
                }
                (None, Some(_)) => (rules.orb_radius, None),
                _ => return None,
            };
            Some(Target {
                e,
                id,
                body,
                radius,
                owner,
            })
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
        // The shot meets the world of its shooter's view: `lag` ticks ago.
        let seen = Tick(ctx.tick.0.saturating_sub(flight.lag));
        let hit = targets.iter().find(|t| {
            let at = if flight.lag == 0 {
                Some(t.body)
            } else {
                // A target that did not exist then was not there to be aimed at.
                ctx.rewound::<Body>(t.id, seen)
            };
            t.e != e
                && t.owner != Some(shot.owner)
                && at.is_some_and(|at| {
                    (body.x - at.x).powi(2) + (body.y - at.y).powi(2) <= t.radius * t.radius
                })
        });
        if let Some(target) = hit {
            if !hits.iter().any(|(_, t)| *t == target.e) {
                hits.push((shot.owner, target.e));
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

/// Something a shot can hit, as it is now.
struct Target {
    /// Its entity.
    e: Entity,
    /// Its net id (to look it up in the past).
    id: NetId,
    /// Where it is now.
    body: Body,
    /// Its hit radius.
    radius: f32,
    /// Its player, for an avatar (nobody hits their own).
    owner: Option<PlayerId>,
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
