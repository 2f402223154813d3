//! Tag, a whole game on Tickwire in one file, written against the public API only.
//!
//! Players run around a field; one of them is "it". Touching another player passes "it"
//! on (no tag-backs for a second) and scores a point for the tagger. Play it in the
//! browser (the page draws it with its generic renderer) or with bots:
//!
//! ```sh
//! cargo run --release -p tickwire-server --example tag -- --port 0
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use hecs::{Entity, World};
use serde::{Deserialize, Serialize};
use tickwire_server::shared::{
    Encoding, EventDef, FieldDef, FieldReader, FieldWriter, PlayerId, Prim, Replicated,
};
use tickwire_server::{Ctx, Game, PlayerInfo, Replicate};

/// Where a runner is (replicated: world units in 1/16 steps).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// X, world units.
    pub x: f32,
    /// Y, world units (down on screen).
    pub y: f32,
}

impl Replicated for Position {
    const NAME: &'static str = "Position";
    fn fields() -> Vec<FieldDef> {
        let e = Encoding::fixed(16.0, 0.0, 10_000.0);
        vec![FieldDef::new("x", e.clone()), FieldDef::new("y", e)]
    }
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.f32(self.x);
        w.f32(self.y);
    }
    fn read(r: &mut FieldReader<'_>) -> Self {
        Position {
            x: r.f32(),
            y: r.f32(),
        }
    }
}

/// Who a runner is, whether they are "it", and their score (replicated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runner {
    /// The player running.
    pub owner: PlayerId,
    /// Their name.
    pub name: Arc<str>,
    /// Whether they are "it".
    pub it: bool,
    /// Tags made.
    pub score: i32,
}

impl Replicated for Runner {
    const NAME: &'static str = "Runner";
    fn fields() -> Vec<FieldDef> {
        vec![
            FieldDef::new("owner", Encoding::Player),
            FieldDef::new("name", Encoding::string(32)),
            FieldDef::new("it", Encoding::Bool),
            FieldDef::new("score", Encoding::int(0, i32::MAX)),
        ]
    }
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.player(Some(self.owner));
        w.str(&self.name);
        w.bool(self.it);
        w.int(i64::from(self.score));
    }
    fn read(r: &mut FieldReader<'_>) -> Self {
        Runner {
            owner: r.player().unwrap_or(PlayerId(0)),
            name: r.str(),
            it: r.bool(),
            score: r.int() as i32,
        }
    }
}

/// The input: keys held (1 up, 2 down, 4 left, 8 right).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    /// The key bits.
    pub buttons: u8,
}

/// What happens: someone tagged someone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagEvent {
    /// Someone touched someone.
    Tagged {
        /// The tagger (no longer "it").
        by: PlayerId,
        /// The one touched, "it" now.
        it: PlayerId,
    },
}

/// The settings (`[game]` table, or `--game-set width=…`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TagConfig {
    /// Field width, units.
    pub width: f32,
    /// Field height, units.
    pub height: f32,
    /// Running speed, units per second.
    pub speed: f32,
}

impl Default for TagConfig {
    fn default() -> TagConfig {
        TagConfig {
            width: 1200.0,
            height: 800.0,
            speed: 200.0,
        }
    }
}

/// Runners closer than this touch.
pub const REACH: f32 = 40.0;
/// Seconds the new "it" may not tag back the one who tagged them.
pub const NO_TAG_BACKS: f32 = 1.0;

/// The game's state beside the world.
pub struct Tag {
    config: TagConfig,
    runners: HashMap<PlayerId, (Entity, Keys)>,
    /// The last tagger, and seconds before "it" may tag them back.
    grace: Option<(PlayerId, f32)>,
}

impl Tag {
    fn it(&self, world: &World) -> Option<PlayerId> {
        let mut q = world.query::<&Runner>();
        q.iter().find(|r| r.it).map(|r| r.owner)
    }
}

impl Game for Tag {
    type Config = TagConfig;
    type Input = Keys;
    type Event = TagEvent;
    const NAME: &'static str = "tag";

    fn replicate(config: &TagConfig) -> Replicate {
        Replicate::new()
            .component::<Position>()
            .component::<Runner>()
            .position::<Position>("x", "y")
            .input(&[("buttons", Prim::U8)])
            .events(vec![EventDef::new(
                "Tagged",
                &[("by", Prim::U32), ("it", Prim::U32)],
            )])
            .param("width", f64::from(config.width))
            .param("height", f64::from(config.height))
    }

    fn new(config: &TagConfig, _: &mut World, _: &mut Ctx<'_, TagEvent>) -> Tag {
        Tag {
            config: config.clone(),
            runners: HashMap::new(),
            grace: None,
        }
    }

    fn join(&mut self, world: &mut World, _: &mut Ctx<'_, TagEvent>, p: &PlayerInfo) {
        // Newcomers line up along the top; the first one in is "it".
        let n = self.runners.len() as f32;
        let at = Position {
            x: (60.0 + n * 90.0) % self.config.width,
            y: 60.0,
        };
        let it = self.it(world).is_none();
        let runner = Runner {
            owner: p.id,
            name: p.name.clone(),
            it,
            score: 0,
        };
        let e = world.spawn((p.entity, at, runner));
        self.runners.insert(p.id, (e, Keys::default()));
    }

    fn leave(&mut self, world: &mut World, _: &mut Ctx<'_, TagEvent>, player: PlayerId) {
        if let Some((e, _)) = self.runners.remove(&player) {
            let was_it = world.get::<&Runner>(e).is_ok_and(|r| r.it);
            let _ = world.despawn(e);
            // Someone must be "it": the next runner takes over.
            if let Some((next, _)) = self.runners.values().next().filter(|_| was_it)
                && let Ok(mut r) = world.get::<&mut Runner>(*next)
            {
                r.it = true;
            }
        }
    }

    fn score(&self, world: &World, player: PlayerId) -> Option<i64> {
        let (e, _) = self.runners.get(&player)?;
        world.get::<&Runner>(*e).ok().map(|r| i64::from(r.score))
    }

    fn input(&mut self, _: &mut World, _: &mut Ctx<'_, TagEvent>, player: PlayerId, keys: Keys) {
        if let Some(slot) = self.runners.get_mut(&player) {
            slot.1 = keys;
        }
    }

    fn step(&mut self, world: &mut World, ctx: &mut Ctx<'_, TagEvent>) {
        let c = &self.config;
        for (e, keys) in self.runners.values() {
            let b = keys.buttons;
            let dx = f32::from(u8::from(b & 8 != 0)) - f32::from(u8::from(b & 4 != 0));
            let dy = f32::from(u8::from(b & 2 != 0)) - f32::from(u8::from(b & 1 != 0));
            let len = dx.hypot(dy).max(1.0);
            if let Ok(mut p) = world.get::<&mut Position>(*e) {
                p.x = (p.x + dx / len * c.speed * ctx.dt).clamp(0.0, c.width);
                p.y = (p.y + dy / len * c.speed * ctx.dt).clamp(0.0, c.height);
            }
        }
        self.grace = self
            .grace
            .and_then(|(p, t)| (t > ctx.dt).then_some((p, t - ctx.dt)));
        let runners: Vec<(Entity, PlayerId, bool, Position)> = world
            .query::<(Entity, &Runner, &Position)>()
            .iter()
            .map(|(e, r, p)| (e, r.owner, r.it, *p))
            .collect();
        let Some(&(it_e, it, _, at)) = runners.iter().find(|r| r.2) else {
            return;
        };
        let touched = runners.iter().find(|(_, who, _, p)| {
            *who != it
                && self.grace.is_none_or(|(back, _)| back != *who)
                && (p.x - at.x).hypot(p.y - at.y) < REACH
        });
        if let Some(&(e, who, _, _)) = touched {
            if let Ok(mut r) = world.get::<&mut Runner>(it_e) {
                r.it = false;
                r.score += 1;
            }
            if let Ok(mut r) = world.get::<&mut Runner>(e) {
                r.it = true;
            }
            self.grace = Some((it, NO_TAG_BACKS));
            ctx.emit(TagEvent::Tagged { by: it, it: who });
        }
    }
}

fn main() -> std::process::ExitCode {
    tickwire_server::launch::main::<Tag>()
}
