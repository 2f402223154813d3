//! What a bot presses: one input decision per send, for each behavior.
//!
//! The behaviors play the built-in games' input convention (a game whose input has a
//! `buttons` key bitmask, u8: 1 up, 2 down, 4 left, 8 right, 16 fire, and optionally an
//! `aim`, u16, 65536 steps per turn): the demo, the benchmark scenarios, and games such as
//! the `tag` example that follow it. Pure functions of the bot's RNG and (for `chase`) its
//! mirrored view, so every rule is unit-tested without a socket.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand::rngs::SmallRng;
use tickwire_shared::layout::Value;
use tickwire_shared::{Encoding, LayoutField, Mirror, NetId};

/// Key bits of the `buttons` field.
pub const UP: u8 = 1;
/// Move down (+y).
pub const DOWN: u8 = 2;
/// Move left (−x).
pub const LEFT: u8 = 4;
/// Move right (+x).
pub const RIGHT: u8 = 8;
/// Fire.
pub const FIRE: u8 = 16;

/// How a bot plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Behavior {
    /// The `arena` scenario's client rules (server/docs/architecture.md), exactly: a key
    /// bitmask sent at the input rate with a random phase, a new one from `ARENA_MASKS`
    /// every 10th send.
    #[default]
    Arena,
    /// Roams: changes direction every second or two, turns its aim, fires now and then.
    Wander,
    /// Heads for the nearest other player and fires at it (needs a decoding bot;
    /// count-only bots wander instead).
    Chase,
    /// Connects, acks and pings, sends no input.
    Idle,
    /// Plays like `arena`, but leaves after a random while and rejoins after a pause
    /// (half the time resuming its player with the resume token).
    Churn,
}

impl Behavior {
    /// Every behavior, in the order the CLI lists them.
    pub const ALL: [Behavior; 5] = [
        Behavior::Arena,
        Behavior::Wander,
        Behavior::Chase,
        Behavior::Idle,
        Behavior::Churn,
    ];

    /// The CLI name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Arena => "arena",
            Behavior::Wander => "wander",
            Behavior::Chase => "chase",
            Behavior::Idle => "idle",
            Behavior::Churn => "churn",
        }
    }

    /// Whether bots of this behavior send inputs at all.
    #[must_use]
    pub fn sends_input(self) -> bool {
        self != Behavior::Idle
    }
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Behavior {
    type Err = String;

    fn from_str(s: &str) -> Result<Behavior, String> {
        Behavior::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown behavior {s:?} (arena, wander, chase, idle, churn)"))
    }
}

/// The masks an `arena` client picks from (server/docs/architecture.md): none, each
/// single direction, and the four diagonals.
pub const ARENA_MASKS: [u8; 9] = [0, 1, 2, 4, 8, 5, 9, 6, 10];

/// Every 10th send picks a new arena mask.
pub const ARENA_SENDS_PER_MASK: u64 = 10;

/// One input to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Press {
    /// Key bits (`UP`, `DOWN`, `LEFT`, `RIGHT`, `FIRE`).
    pub buttons: u8,
    /// Aim, 65536 steps per turn.
    pub aim: u16,
}

impl Press {
    /// The input fields to send for a game whose input layout is `layout`: `buttons`, and
    /// `aim` if the game has it. `None` if the game's input has no `buttons`.
    #[must_use]
    pub fn fields(self, layout: &[LayoutField]) -> Option<Vec<(&'static str, Value)>> {
        let has = |name: &str| layout.iter().any(|f| f.name == name);
        if !has("buttons") {
            return None;
        }
        let mut out = vec![("buttons", Value::Int(i64::from(self.buttons)))];
        if has("aim") {
            out.push(("aim", Value::Int(i64::from(self.aim))));
        }
        Some(out)
    }
}

/// A bot's input state between sends.
#[derive(Clone, Debug)]
pub struct Pilot {
    /// The behavior being played.
    behavior: Behavior,
    /// Sends made so far this session (the arena rule counts them).
    sends: u64,
    /// The held direction bits.
    mask: u8,
    /// The aim.
    aim: u16,
    /// Sends left before `wander` changes direction.
    hold: u32,
}

impl Pilot {
    /// A pilot for `behavior`, at its first send.
    #[must_use]
    pub fn new(behavior: Behavior) -> Pilot {
        Pilot {
            behavior,
            sends: 0,
            mask: 0,
            aim: 0,
            hold: 0,
        }
    }

    /// The input for the next send. `view` is the bot's mirror and own entity when it
    /// decodes (only `chase` uses it).
    pub fn next(&mut self, rng: &mut SmallRng, view: Option<(&Mirror, NetId)>) -> Press {
        let press = match self.behavior {
            Behavior::Arena | Behavior::Churn => self.arena(rng),
            Behavior::Idle => Press::default(),
            Behavior::Wander => self.wander(rng),
            Behavior::Chase => match view.and_then(|(m, me)| chase(m, me)) {
                Some(press) => {
                    let fire = if rng.random_bool(0.2) { FIRE } else { 0 };
                    Press {
                        buttons: press.buttons | fire,
                        aim: press.aim,
                    }
                }
                None => self.wander(rng),
            },
        };
        self.sends += 1;
        press
    }

    fn arena(&mut self, rng: &mut SmallRng) -> Press {
        if self.sends.is_multiple_of(ARENA_SENDS_PER_MASK) {
            self.mask = ARENA_MASKS[rng.random_range(0..ARENA_MASKS.len())];
        }
        Press {
            buttons: self.mask,
            aim: 0,
        }
    }

    fn wander(&mut self, rng: &mut SmallRng) -> Press {
        if self.hold == 0 {
            self.mask = ARENA_MASKS[rng.random_range(0..ARENA_MASKS.len())];
            self.hold = rng.random_range(15..45);
        }
        self.hold -= 1;
        self.aim = self.aim.wrapping_add(rng.random_range(0..2048));
        let fire = if rng.random_bool(0.05) { FIRE } else { 0 };
        Press {
            buttons: self.mask | fire,
            aim: self.aim,
        }
    }
}

/// Steers toward the nearest other player in `mirror` (an entity with the built-in
/// games' `Player` component, at the schema's position); `None` if there is none (or the
/// bot's own entity is not in view).
#[must_use]
pub fn chase(mirror: &Mirror, me: NetId) -> Option<Press> {
    let schema = mirror.schema();
    let player = schema.component_index("Player")?;
    let pos = |e: &tickwire_shared::Entity| schema.position_of(e.components, &e.nums);
    let (x, y) = pos(mirror.entity(me)?)?;
    let (x, y) = (i64::from(x), i64::from(y));
    let (tx, ty) = mirror
        .entities()
        .iter()
        .filter(|e| e.id != me && e.components & (1 << player) != 0)
        .filter_map(pos)
        .min_by_key(|&(ex, ey)| {
            let (dx, dy) = (i64::from(ex) - x, i64::from(ey) - y);
            dx * dx + dy * dy
        })?;
    let (dx, dy) = (i64::from(tx) - x, i64::from(ty) - y);
    // Move along each axis that is clearly off; diagonal moves cover the rest.
    let dead = (dx.abs().max(dy.abs()) / 4).max(1);
    let mut buttons = 0;
    if dx > dead {
        buttons |= RIGHT;
    } else if dx < -dead {
        buttons |= LEFT;
    }
    if dy > dead {
        buttons |= DOWN;
    } else if dy < -dead {
        buttons |= UP;
    }
    Some(Press {
        buttons,
        aim: Encoding::angle(16).quantize((dy as f32).atan2(dx as f32)) as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::sync::Arc;
    use tickwire_shared::{
        ComponentDef, Entity, FieldDef, LayoutField, Prim, Schema, SchemaDef, Tick,
    };

    #[test]
    fn arena_picks_a_new_allowed_mask_exactly_every_tenth_send() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut pilot = Pilot::new(Behavior::Arena);
        let presses: Vec<Press> = (0..1000).map(|_| pilot.next(&mut rng, None)).collect();
        for block in presses.chunks(10) {
            assert!(ARENA_MASKS.contains(&block[0].buttons));
            assert!(block.iter().all(|p| *p == block[0]), "{block:?}");
        }
        // Uniform over the nine masks: each appears in roughly 1/9 of 100 blocks.
        for mask in ARENA_MASKS {
            let n = presses.chunks(10).filter(|b| b[0].buttons == mask).count();
            assert!((3..=25).contains(&n), "mask {mask} picked {n} times");
        }
    }

    #[test]
    fn idle_presses_nothing_and_wander_stays_within_defined_bits() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut idle = Pilot::new(Behavior::Idle);
        assert_eq!(idle.next(&mut rng, None), Press::default());
        assert!(!Behavior::Idle.sends_input());
        let mut wander = Pilot::new(Behavior::Wander);
        for _ in 0..500 {
            let p = wander.next(&mut rng, None);
            assert_eq!(p.buttons & !(UP | DOWN | LEFT | RIGHT | FIRE), 0);
            assert_ne!(p.buttons & (UP | DOWN), UP | DOWN);
        }
    }

    /// The built-in games' shape: a body (position) and a player card.
    fn schema() -> Arc<Schema> {
        let int = || Encoding::int(-100_000, 100_000);
        Arc::new(
            Schema::new(SchemaDef {
                game: "t".into(),
                components: vec![
                    ComponentDef {
                        name: "Body".into(),
                        fields: vec![FieldDef::new("x", int()), FieldDef::new("y", int())],
                    },
                    ComponentDef {
                        name: "Player".into(),
                        fields: vec![FieldDef::new("owner", Encoding::Player)],
                    },
                ],
                position: Some(tickwire_shared::PositionDef {
                    component: "Body".into(),
                    x: "x".into(),
                    y: "y".into(),
                }),
                ..SchemaDef::default()
            })
            .unwrap(),
        )
    }

    fn player(id: u32, owner: u32, x: i32, y: i32) -> Entity {
        Entity {
            id: NetId(id),
            components: 0b11,
            nums: tickwire_shared::Nums::from_slice(&[x, y, owner as i32 + 1]),
            strs: tickwire_shared::Strs::new(),
        }
    }

    #[test]
    fn presses_fill_the_fields_the_game_has() {
        let press = Press { buttons: 5, aim: 7 };
        let both = [
            LayoutField::new("buttons", Prim::U8),
            LayoutField::new("aim", Prim::U16),
        ];
        assert_eq!(press.fields(&both).map(|f| f.len()), Some(2));
        assert_eq!(press.fields(&both[..1]).map(|f| f.len()), Some(1));
        assert!(press.fields(&both[1..]).is_none());
    }

    #[test]
    fn chase_heads_for_the_nearest_other_player() {
        let m = Mirror::from_entities(
            schema(),
            Tick(1),
            vec![
                player(1, 1, 0, 0),
                player(2, 2, 1000, 10),
                player(3, 3, -5000, -5000),
            ],
        );
        let p = chase(&m, NetId(1)).unwrap();
        assert_eq!(p.buttons, RIGHT);
        assert!(p.aim < 1000, "aim {}", p.aim);
        let p = chase(&m, NetId(3)).unwrap();
        // From (-5000,-5000) the nearest is (0,0): down and right.
        assert_eq!(p.buttons, RIGHT | DOWN);
        assert!(
            chase(
                &Mirror::from_entities(schema(), Tick(1), vec![player(1, 1, 0, 0)]),
                NetId(1)
            )
            .is_none()
        );
        assert!(chase(&m, NetId(9)).is_none());
    }

    #[test]
    fn behaviors_parse_from_their_names() {
        for b in Behavior::ALL {
            assert_eq!(b.name().parse::<Behavior>(), Ok(b));
        }
        assert!("sprint".parse::<Behavior>().is_err());
    }
}
