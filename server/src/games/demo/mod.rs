//! The playable demo: a top-down arena where players move (keys), aim (mouse), and shoot
//! orbs and each other. Written against Tickwire's public API only, like any game.

mod combat;

use std::f32::consts::PI;

use hecs::World;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::avatars::{self, Avatars};
use super::components::{Body, Orb, Player, Shot};
use super::controls::{self, Controls};
use crate::game::{Ctx, Game, PlayerInfo};
use crate::replicate::Replicate;
use crate::shared::{EventDef, PlayerId, Prim};

/// The demo's settings: the `[game]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Arena width in world units.
    pub width: u32,
    /// Arena height in world units.
    pub height: u32,
    /// Orbs wandering the arena.
    pub npcs: u32,
    /// Seed of the game's random numbers: same seed and inputs, same game.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig {
            width: 2000,
            height: 1200,
            npcs: 24,
            seed: 1,
        }
    }
}

/// Something that happened in the demo, for the kill feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DemoEvent {
    /// One player knocked out another.
    Knockout {
        /// Who fired the shot.
        by: PlayerId,
        /// Who was knocked out.
        victim: PlayerId,
    },
}

/// Server-only state of an avatar's gun and shield.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pilot {
    /// A FIRE press seen since the last shot, so a tap is never lost to the cooldown.
    pub fire_latched: bool,
    /// Seconds until the next shot is allowed.
    pub cooldown: f32,
    /// Seconds of spawn protection left (shots pass through).
    pub shielded: f32,
}

/// Gameplay constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// World size in units.
    pub size: (f32, f32),
    /// Player speed, units per second.
    pub player_speed: f32,
    /// Player collision radius.
    pub player_radius: f32,
    /// Player hit points at spawn.
    pub player_hp: i32,
    /// Orb walk speed and turn per tick (radians, uniform in ±this).
    pub orb_walk: (f32, f32),
    /// Orb collision radius.
    pub orb_radius: f32,
    /// Seconds between shots.
    pub fire_cooldown: f32,
    /// Projectile speed, units per second.
    pub shot_speed: f32,
    /// Projectile life, seconds.
    pub shot_ttl: f32,
    /// Points for popping an orb.
    pub orb_points: i32,
    /// Points for knocking out a player.
    pub knockout_points: i32,
    /// Seconds of spawn protection.
    pub shield_secs: f32,
}

impl Rules {
    fn new(config: &DemoConfig) -> Rules {
        Rules {
            size: (config.width as f32, config.height as f32),
            player_speed: 240.0,
            player_radius: 18.0,
            player_hp: 3,
            orb_walk: (50.0, 0.25),
            orb_radius: 14.0,
            fire_cooldown: 0.2,
            shot_speed: 700.0,
            shot_ttl: 1.1,
            orb_points: 1,
            knockout_points: 5,
            shield_secs: 1.5,
        }
    }
}

/// The demo game.
pub struct Demo {
    /// Its constants.
    rules: Rules,
    /// Its only source of randomness.
    rng: SmallRng,
    /// Each present player's avatar.
    avatars: Avatars,
}

impl Game for Demo {
    type Config = DemoConfig;
    type Input = Controls;
    type Event = DemoEvent;
    const NAME: &'static str = "demo";

    fn replicate(config: &DemoConfig) -> Replicate {
        let rules = Rules::new(config);
        Replicate::new()
            .component::<Body>()
            .component::<Player>()
            .component::<Orb>()
            .component::<Shot>()
            .position::<Body>("x", "y")
            // Under a byte budget, other players and flying shots matter more than orbs.
            .priority::<Player>(4.0)
            .priority::<Shot>(2.0)
            .input(Controls::LAYOUT)
            .events(vec![EventDef::new(
                "Knockout",
                &[("by", Prim::U32), ("victim", Prim::U32)],
            )])
            .param("width", f64::from(config.width))
            .param("height", f64::from(config.height))
            .param("player_speed", f64::from(rules.player_speed))
            .param("player_radius", f64::from(rules.player_radius))
            .param("orb_radius", f64::from(rules.orb_radius))
    }

    fn new(config: &DemoConfig, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>) -> Demo {
        let mut demo = Demo {
            rules: Rules::new(config),
            rng: SmallRng::seed_from_u64(config.seed),
            avatars: Avatars::default(),
        };
        for _ in 0..config.npcs {
            combat::spawn_orb(world, &demo.rules, ctx.new_id(), &mut demo.rng);
        }
        demo
    }

    fn validate(input: Controls) -> Result<Controls, &'static str> {
        Ok(input.cleaned())
    }

    fn coalesce(pending: &mut Controls, newer: Controls) {
        pending.merge(newer);
    }

    fn join(&mut self, world: &mut World, _: &mut Ctx<'_, DemoEvent>, player: &PlayerInfo) {
        let body = avatars::spawn_point(self.rules.size, &mut self.rng);
        let pilot = Pilot {
            shielded: self.rules.shield_secs,
            ..Pilot::default()
        };
        self.avatars
            .spawn(world, player, body, self.rules.player_hp, (pilot,));
    }

    fn leave(&mut self, world: &mut World, _: &mut Ctx<'_, DemoEvent>, player: PlayerId) {
        self.avatars.despawn(world, player);
    }

    fn score(&self, world: &World, player: PlayerId) -> Option<i64> {
        let e = self.avatars.get(player)?;
        world
            .get::<&Player>(e)
            .ok()
            .map(|card| i64::from(card.score))
    }

    fn input(
        &mut self,
        world: &mut World,
        _: &mut Ctx<'_, DemoEvent>,
        player: PlayerId,
        input: Controls,
    ) {
        let Some(e) = self.avatars.get(player) else {
            return;
        };
        if let Ok(mut pilot) = world.get::<&mut Pilot>(e) {
            // A FIRE tap stays latched until a tick with the gun ready uses it.
            pilot.fire_latched |= input.fired();
        }
        self.avatars.hold(world, player, input);
    }

    fn step(&mut self, world: &mut World, ctx: &mut Ctx<'_, DemoEvent>) {
        let r = &self.rules;
        avatars::steer_all(world, r.player_speed, ctx.dt, r.size, false);
        for (body, _) in world.query_mut::<(&mut Body, &Orb)>() {
            controls::walk(
                body,
                r.orb_walk.0,
                r.orb_walk.1,
                ctx.dt,
                r.size,
                &mut self.rng,
            );
        }
        combat::fire(world, r, ctx);
        combat::fly(world, r, ctx, &mut self.rng);
    }
}

/// A random spot in the world with a random facing.
fn random_body(size: (f32, f32), rng: &mut SmallRng) -> Body {
    Body {
        x: rng.random_range(0.0..size.0),
        y: rng.random_range(0.0..size.1),
        angle: rng.random_range(-PI..PI),
    }
}

#[cfg(test)]
mod tests;
