//! The simulation: a hecs `World` plus the rules and RNG that advance it one tick at a
//! time. Owned by the tick thread alone; everything here is plain synchronous code,
//! deterministic given the seed and the sequence of joins, leaves and controls.

pub mod capture;
pub mod combat;
pub mod components;
pub mod movement;
pub mod npc;
pub mod rules;

use std::collections::HashMap;
use std::f32::consts::PI;
use std::sync::Arc;

use hecs::{Entity, World};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tickwire_shared::{
    EntityKind, GameEvent, NetId, PlayerId, Tick, WorldSnapshot, buttons, quant,
};

use crate::config::{Config, Scenario};
use crate::net_ids::NetIds;
use components::{Avatar, Body, Controls, Cube, Net, Wanderer};
use rules::Rules;

/// The game world and everything needed to step it.
pub struct Game {
    /// The ECS world holding every entity.
    world: World,
    /// Gameplay constants.
    rules: Rules,
    /// The simulation's only source of randomness, seeded from the config.
    rng: SmallRng,
    /// Net id allocator, shared with sessions.
    ids: NetIds,
    /// Each present player's avatar entity.
    avatars: HashMap<PlayerId, Entity>,
    /// The tick most recently completed.
    tick: Tick,
    /// Simulated seconds since start.
    time: f32,
    /// One shared empty name for nameless entities, so capture never allocates for them.
    empty_name: Arc<str>,
    /// Events raised since the last drain.
    events: Vec<GameEvent>,
}

impl Game {
    /// A new world for `config`'s scenario, with its NPCs spawned.
    #[must_use]
    pub fn new(config: &Config, ids: NetIds) -> Game {
        let rules = Rules::from_config(config);
        let mut game = Game {
            world: World::new(),
            rng: SmallRng::seed_from_u64(config.seed),
            rules,
            ids,
            avatars: HashMap::new(),
            tick: Tick(0),
            time: 0.0,
            empty_name: Arc::from(""),
            events: Vec::new(),
        };
        for _ in 0..config.npcs {
            game.spawn_npc();
        }
        game
    }

    fn spawn_npc(&mut self) {
        let r = &self.rules;
        match r.scenario {
            Scenario::Cubes => {
                let n = self.world.query::<&Cube>().iter().count() as u32;
                let cols = 30u32;
                let (cx, cy) = (n % cols, n / cols);
                let body = Body {
                    x: (cx as f32 + 0.5) * r.width / cols as f32,
                    y: ((cy % cols) as f32 + 0.5) * r.height / cols as f32,
                    angle: 0.0,
                };
                let cube = Cube {
                    vx: 0.0,
                    vy: 0.0,
                    moving_for: 0.0,
                };
                self.world.spawn((
                    Net {
                        id: self.ids.next(),
                        kind: EntityKind::Cube,
                    },
                    body,
                    cube,
                ));
            }
            Scenario::Demo => combat::spawn_orb(&mut self.world, r, &self.ids, &mut self.rng),
            Scenario::Arena | Scenario::Crowd => {
                let body = Body {
                    x: self.rng.random_range(0.0..r.width),
                    y: self.rng.random_range(0.0..r.height),
                    angle: self.rng.random_range(-PI..PI),
                };
                self.world.spawn((
                    Net {
                        id: self.ids.next(),
                        kind: EntityKind::Orb,
                    },
                    body,
                    Wanderer { hp: 1 },
                ));
            }
        }
    }

    /// The gameplay constants.
    #[must_use]
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The tick most recently completed.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// How many entities exist.
    #[must_use]
    pub fn entity_count(&self) -> usize {
        self.world.len() as usize
    }

    /// How many players are present.
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.avatars.len()
    }

    /// Spawns `player`'s avatar with the net id the session already told the client, at a
    /// uniformly random spot. Joining twice keeps the existing avatar.
    pub fn join(&mut self, player: PlayerId, id: NetId, name: Arc<str>) {
        if self.avatars.contains_key(&player) {
            return;
        }
        let body = Body {
            x: self.rng.random_range(0.0..self.rules.width),
            y: self.rng.random_range(0.0..self.rules.height),
            angle: 0.0,
        };
        let avatar = Avatar {
            player,
            name: name.clone(),
            score: 0,
            hp: self.rules.player_hp,
            cooldown: 0.0,
            shielded: self.rules.shield_secs,
            controls: Controls::default(),
        };
        let e = self.world.spawn((
            Net {
                id,
                kind: EntityKind::Player,
            },
            body,
            avatar,
        ));
        self.avatars.insert(player, e);
        self.events.push(GameEvent::Joined {
            player,
            name: name.to_string(),
        });
    }

    /// Removes `player`'s avatar; false when they had none.
    pub fn leave(&mut self, player: PlayerId) -> bool {
        let Some(e) = self.avatars.remove(&player) else {
            return false;
        };
        let name = self
            .world
            .get::<&Avatar>(e)
            .map(|a| a.name.to_string())
            .unwrap_or_default();
        let _ = self.world.despawn(e);
        self.events.push(GameEvent::Left { player, name });
        true
    }

    /// Sets the controls `player` holds. `fire_pressed` latches a shot even if the button
    /// is released again before the tick runs.
    pub fn set_controls(&mut self, player: PlayerId, held: u8, aim: u16, fire_pressed: bool) {
        let Some(&e) = self.avatars.get(&player) else {
            return;
        };
        if let Ok(mut avatar) = self.world.get::<&mut Avatar>(e) {
            avatar.controls.buttons = held & buttons::ALL;
            avatar.controls.aim = quant::aim_to_angle(aim);
            avatar.controls.fire_latched |= fire_pressed;
        }
    }

    /// Advances the world by one tick.
    pub fn step(&mut self) {
        let rules = &self.rules;
        movement::move_players(&mut self.world, rules);
        match rules.scenario {
            Scenario::Cubes => npc::slide_cubes(&mut self.world, rules, &mut self.rng, self.time),
            _ => npc::wander(&mut self.world, rules, &mut self.rng),
        }
        if rules.shooting {
            combat::fire(&mut self.world, rules, &self.ids);
            combat::fly(
                &mut self.world,
                rules,
                &self.ids,
                &mut self.rng,
                &mut self.events,
            );
        }
        self.time += rules.dt;
        self.tick = self.tick.next();
    }

    /// The quantized snapshot of the current tick.
    #[must_use]
    pub fn capture(&self) -> WorldSnapshot {
        capture::capture(&self.world, self.tick, &self.empty_name)
    }

    /// Takes the events raised since the last call.
    pub fn drain_events(&mut self) -> Vec<GameEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Game {
        Game::new(&Config::default(), NetIds::default())
    }

    #[test]
    fn join_move_and_leave_round_trip_through_snapshots() {
        let mut g = demo();
        let me = NetId(1_000_000);
        g.join(PlayerId(1), me, "ann".into());
        g.step();
        let before = g.capture().get(me).cloned().unwrap();
        assert_eq!(&*before.name, "ann");
        g.set_controls(PlayerId(1), buttons::RIGHT, 0, false);
        for _ in 0..5 {
            g.step();
        }
        let after = g.capture().get(me).cloned().unwrap();
        assert!(after.x > before.x || after.x == quant::pos_to_fixed(g.rules().width));
        assert!(g.leave(PlayerId(1)));
        assert!(g.capture().get(me).is_none());
        assert!(!g.leave(PlayerId(1)));
        let events = g.drain_events();
        assert!(matches!(events.first(), Some(GameEvent::Joined { .. })));
        assert!(matches!(events.last(), Some(GameEvent::Left { .. })));
    }

    #[test]
    fn a_tapped_fire_between_ticks_still_fires() {
        let mut g = demo();
        g.join(PlayerId(1), NetId(9_999), "ann".into());
        let shots_before = g
            .capture()
            .entities
            .iter()
            .filter(|e| e.state.kind == EntityKind::Projectile)
            .count();
        g.set_controls(PlayerId(1), buttons::FIRE, 0, true);
        g.set_controls(PlayerId(1), 0, 0, false);
        g.step();
        let shots = g
            .capture()
            .entities
            .iter()
            .filter(|e| e.state.kind == EntityKind::Projectile)
            .count();
        assert_eq!(shots, shots_before + 1);
    }

    #[test]
    fn the_same_seed_and_inputs_give_the_same_world() {
        let run = || {
            let mut g = demo();
            g.join(PlayerId(1), NetId(50_000), "a".into());
            for t in 0..200u32 {
                g.set_controls(
                    PlayerId(1),
                    (t % 16) as u8 | buttons::FIRE,
                    (t * 300) as u16,
                    false,
                );
                g.step();
            }
            g.capture()
        };
        assert_eq!(run(), run());
    }

    /// Bandwidth, as sizes: in the `arena` scenario (every field of every NPC changes
    /// every tick) a moving entity costs at most 6 bytes per update on average, and in
    /// `cubes` an entity at rest costs nothing.
    #[test]
    fn a_moving_entity_costs_at_most_six_bytes_and_a_resting_one_nothing() {
        use tickwire_shared::codec::encode_body;
        use tickwire_shared::{View, diff};
        let mut config = Config::default();
        Scenario::Arena.apply_defaults(&mut config);
        let mut g = Game::new(&config, NetIds::default());
        for p in 0..8 {
            g.join(PlayerId(p), NetId(100_000 + p), "bot".into());
        }
        let mut prev = g.capture();
        let (mut bytes, mut moved) = (0usize, 0usize);
        for t in 0..90u32 {
            for p in 0..8 {
                g.set_controls(
                    PlayerId(p),
                    [1, 2, 4, 8, 5, 9, 6, 10][((t / 10 + p) % 8) as usize],
                    0,
                    false,
                );
            }
            g.step();
            let next = g.capture();
            let body = diff(Some((&prev, View::All)), &next, View::All);
            assert!(body.spawns.is_empty() && body.despawns.is_empty());
            moved += body.updates.len();
            // Fixed per-message overhead (three list lengths, the checksum) is not the
            // entities' cost; it is at most 3 + 5 bytes.
            bytes += encode_body(&body).len() - 8;
            prev = next;
        }
        let per_entity = bytes as f64 / moved as f64;
        assert!(moved >= 90 * 500, "every NPC moves every tick ({moved})");
        assert!(
            per_entity <= 6.0,
            "a moving entity costs {per_entity:.2} bytes per update"
        );

        let mut config = Config::default();
        Scenario::Cubes.apply_defaults(&mut config);
        let mut g = Game::new(&config, NetIds::default());
        g.step();
        let mut prev = g.capture();
        for _ in 0..60 {
            g.step();
            let next = g.capture();
            let body = diff(Some((&prev, View::All)), &next, View::All);
            let resting = next.entities.len() - body.updates.len();
            assert!(resting > 700, "most cubes rest ({resting})");
            let moving_ids: std::collections::HashSet<_> =
                body.updates.iter().map(|u| u.id).collect();
            for e in &next.entities {
                if !moving_ids.contains(&e.id) {
                    assert_eq!(
                        prev.get(e.id),
                        Some(&e.state),
                        "a resting cube changed without an update"
                    );
                }
            }
            prev = next;
        }
    }

    #[test]
    fn scenarios_spawn_their_npcs() {
        for (s, n) in [
            (Scenario::Arena, 500),
            (Scenario::Crowd, 1000),
            (Scenario::Cubes, 901),
        ] {
            let mut c = Config::default();
            s.apply_defaults(&mut c);
            let mut g = Game::new(&c, NetIds::default());
            g.step();
            assert_eq!(g.capture().entities.len(), n, "{s:?}");
        }
    }
}
