//! The numbers that define the game for a scenario: world size, speeds, radii, timings.

use crate::config::{Config, Scenario};

/// Gameplay constants derived once from the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// Which scenario these rules are for.
    pub scenario: Scenario,
    /// World width in units.
    pub width: f32,
    /// World height in units.
    pub height: f32,
    /// Seconds per tick.
    pub dt: f32,
    /// Player speed, units per second.
    pub player_speed: f32,
    /// Player collision radius.
    pub player_radius: f32,
    /// Player hit points at spawn.
    pub player_hp: u8,
    /// NPC walk speed, units per second.
    pub npc_speed: f32,
    /// NPC turn per tick is uniform in ±this many radians.
    pub npc_turn: f32,
    /// Orb collision radius.
    pub orb_radius: f32,
    /// Whether players can shoot (the demo only).
    pub shooting: bool,
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
    /// The rules for `config`'s scenario and sizes.
    #[must_use]
    pub fn from_config(config: &Config) -> Rules {
        let demo = config.scenario == Scenario::Demo;
        Rules {
            scenario: config.scenario,
            width: config.arena_width as f32,
            height: config.arena_height as f32,
            dt: 1.0 / config.tick_hz as f32,
            player_speed: if demo { 240.0 } else { 100.0 },
            player_radius: 18.0,
            player_hp: 3,
            npc_speed: 50.0,
            npc_turn: 0.25,
            orb_radius: 14.0,
            shooting: demo,
            fire_cooldown: 0.2,
            shot_speed: 700.0,
            shot_ttl: 1.1,
            orb_points: 1,
            knockout_points: 5,
            shield_secs: 1.5,
        }
    }
}
