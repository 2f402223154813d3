//! Players' avatars in the built-in games: who owns which entity, spawning one with the
//! id Welcome named, and steering them all by their held keys.

use std::collections::HashMap;

use hecs::{DynamicBundle, Entity, World};
use rand::Rng;
use rand::rngs::SmallRng;

use super::components::{Body, Player};
use super::controls::{self, Controls};
use crate::game::PlayerInfo;
use crate::shared::PlayerId;

/// The avatar's held controls, as last received (server-only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held(pub Controls);

/// Each present player's avatar entity.
#[derive(Debug, Default)]
pub struct Avatars {
    /// Avatar by player.
    by_player: HashMap<PlayerId, Entity>,
}

impl Avatars {
    /// Spawns `player`'s avatar at `body` with a fresh card (`hp` hit points), plus
    /// `extra` components.
    pub fn spawn(
        &mut self,
        world: &mut World,
        player: &PlayerInfo,
        body: Body,
        hp: i32,
        extra: impl DynamicBundle,
    ) -> Entity {
        let card = Player {
            owner: player.id,
            name: player.name.clone(),
            score: 0,
            hp,
        };
        let e = world.spawn((player.entity, body, card, Held::default()));
        let _ = world.insert(e, extra);
        self.by_player.insert(player.id, e);
        e
    }

    /// Removes `player`'s avatar, if any.
    pub fn despawn(&mut self, world: &mut World, player: PlayerId) {
        if let Some(e) = self.by_player.remove(&player) {
            let _ = world.despawn(e);
        }
    }

    /// `player`'s avatar.
    #[must_use]
    pub fn get(&self, player: PlayerId) -> Option<Entity> {
        self.by_player.get(&player).copied()
    }

    /// Records the controls `player` holds now.
    pub fn hold(&self, world: &mut World, player: PlayerId, input: Controls) {
        if let Some(e) = self.get(player)
            && let Ok(mut held) = world.get::<&mut Held>(e)
        {
            held.0 = input;
        }
    }
}

/// Where a new avatar appears: a uniformly random spot in a `size` world, facing +x.
pub fn spawn_point(size: (f32, f32), rng: &mut SmallRng) -> Body {
    Body {
        x: rng.random_range(0.0..size.0),
        y: rng.random_range(0.0..size.1),
        angle: 0.0,
    }
}

/// Moves every avatar one tick along its held keys at `speed` in a `size` world; with
/// `face_motion`, a moving avatar faces where it goes (`atan2(dy, dx)`), otherwise it
/// faces its aim.
pub fn steer_all(world: &mut World, speed: f32, dt: f32, size: (f32, f32), face_motion: bool) {
    for (body, held) in world.query_mut::<(&mut Body, &Held)>() {
        let (dx, dy) = controls::steer(body, held.0.buttons, speed, dt, size);
        if !face_motion {
            body.angle = held.0.aim_radians();
        } else if dx != 0.0 || dy != 0.0 {
            body.angle = dy.atan2(dx);
        }
    }
}
