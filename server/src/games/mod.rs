//! The games that ship with Tickwire, each written against the engine's public API only
//! (`Game`, `Replicate`, `Ctx`, the shared types), exactly as a game developer writes
//! theirs: the playable `demo`, and the benchmark scenarios `arena` (and `crowd`, the same
//! rules at scale with interest management) and `cubes`. The `tickwire` binary serves
//! them all as room types of those names; `--scenario` picks the default one (the
//! standing room's, and a quick match's when no type is asked for).

pub mod arena;
pub mod avatars;
pub mod components;
pub mod controls;
pub mod cubes;
pub mod demo;
pub mod field;

use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;

use crate::app::ServerError;
use crate::cli::{Command, EngineArgs, ReplayArgs, parse_size};
use crate::config::Config;
use crate::game::Game;
use crate::launch;
use crate::rooms::RoomTypes;

/// Which built-in game to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// The playable demo game: move, aim, shoot orbs and each other.
    Demo,
    /// Cross-framework benchmark: 1000×1000, K random-walking NPCs, full view, 30 Hz.
    Arena,
    /// Scale benchmark: 4000×4000, 1000 NPCs, interest management (view radius 600).
    Crowd,
    /// Bandwidth benchmark: 901 cubes, 10–20% of them moving, 60 Hz, full view.
    Cubes,
}

impl Scenario {
    /// The scenario's name in logs and tools.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Demo => "demo",
            Scenario::Arena => "arena",
            Scenario::Crowd => "crowd",
            Scenario::Cubes => "cubes",
        }
    }

    /// Applies the scenario's defining engine settings (tick rate, view) and game
    /// settings (world size, NPC count) on top of `config`; explicit flags come after.
    pub fn apply_defaults(self, config: &mut Config) {
        let (tick_hz, view, size, npcs) = match self {
            Scenario::Demo => return,
            Scenario::Arena => (30, 0, 1000, 500),
            Scenario::Crowd => (30, 600, 4000, 1000),
            Scenario::Cubes => (60, 0, 1000, 901),
        };
        config.tick_hz = tick_hz;
        config.view_radius = view;
        for (k, v) in [("width", size), ("height", size), ("npcs", npcs)] {
            config.game.insert(k.to_owned(), toml::Value::Integer(v));
        }
    }
}

/// Tickwire: an authoritative multiplayer game-state sync server, running one of its
/// built-in games.
///
/// Settings come from the built-in defaults (assets/tickwire.toml), then --config FILE,
/// then --scenario's defining values, then the flags below. Every flag can also be given
/// as an environment variable, e.g. TICKWIRE_PORT=9000.
#[derive(Debug, Parser)]
#[command(name = "tickwire", version, about, long_about)]
pub struct BuiltinCli {
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// What to run: the playable demo (default), or a benchmark scenario (arena:
    /// 1000×1000, 500 NPCs, full view; crowd: 4000×4000, 1000 NPCs, view radius 600;
    /// cubes: 901 cubes at 60 Hz).
    #[arg(long, env = "TICKWIRE_SCENARIO", value_enum, default_value = "demo")]
    pub scenario: Scenario,
    /// World size in units, WIDTHxHEIGHT (the game's width and height settings).
    #[arg(long, env = "TICKWIRE_ARENA", value_parser = parse_size, value_name = "WxH")]
    pub arena: Option<(u32, u32)>,
    /// NPC count: orbs in the demo (default 24), NPCs or cubes in the scenarios.
    #[arg(long, env = "TICKWIRE_NPCS")]
    pub npcs: Option<u32>,
    /// Seed of the game's random numbers (default 1): same seed and inputs, same game.
    #[arg(long, env = "TICKWIRE_SEED")]
    pub seed: Option<u64>,
    /// The engine's settings.
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl BuiltinCli {
    /// The configuration: defaults, the file, the scenario, the game flags, the engine
    /// flags.
    pub fn to_config(&self) -> Result<Config, ServerError> {
        self.config_for(self.scenario)
    }

    /// The configuration rooms of `scenario` run with: defaults, the file, the
    /// scenario's defining values, the game flags, the engine flags.
    pub fn config_for(&self, scenario: Scenario) -> Result<Config, ServerError> {
        let mut c = self.engine.base_config()?;
        scenario.apply_defaults(&mut c);
        let mut set = |k: &str, v: i64| {
            c.game.insert(k.to_owned(), toml::Value::Integer(v));
        };
        if let Some((w, h)) = self.arena {
            set("width", i64::from(w));
            set("height", i64::from(h));
        }
        if let Some(n) = self.npcs {
            set("npcs", i64::from(n));
        }
        if let Some(seed) = self.seed {
            set("seed", seed as i64);
        }
        Ok(self.engine.apply(c)?)
    }
}

/// The `tickwire` binary: runs the chosen built-in game.
#[must_use]
pub fn main() -> ExitCode {
    let cli = BuiltinCli::parse();
    match &cli.command {
        // A recording says which built-in game it is of.
        Some(Command::Replay(args)) => return replay(&cli.engine, args),
        Some(command) => return launch::run_command::<demo::Demo>(command, &cli.engine),
        None => {}
    }
    launch::exit(
        room_types(&cli)
            .and_then(|(config, types)| launch::serve_rooms(config, types, cli.scenario.name())),
    )
}

/// Every built-in game as a room type, the chosen scenario's first (the default), and
/// the server's configuration.
fn room_types(cli: &BuiltinCli) -> Result<(Config, RoomTypes), ServerError> {
    let config = cli.to_config()?;
    let mut types = RoomTypes::new();
    let mut order = vec![cli.scenario];
    order.extend(
        [
            Scenario::Demo,
            Scenario::Arena,
            Scenario::Crowd,
            Scenario::Cubes,
        ]
        .into_iter()
        .filter(|s| *s != cli.scenario),
    );
    for scenario in order {
        let c = cli.config_for(scenario)?;
        types = match scenario {
            Scenario::Demo => add::<demo::Demo>(types, scenario, c)?,
            Scenario::Arena | Scenario::Crowd => add::<arena::Arena>(types, scenario, c)?,
            Scenario::Cubes => add::<cubes::Cubes>(types, scenario, c)?,
        };
    }
    Ok((config, types))
}

fn add<G: Game>(
    types: RoomTypes,
    scenario: Scenario,
    config: Config,
) -> Result<RoomTypes, ServerError> {
    let game = config.game_config::<G::Config>()?;
    Ok(types.add::<G>(scenario.name(), config, game))
}

/// Replays a recording of whichever built-in game made it.
fn replay(engine: &EngineArgs, args: &ReplayArgs) -> ExitCode {
    let game = match crate::record::read_header(&args.file) {
        Ok(header) => header.game,
        Err(e) => return launch::exit(Err(e.into())),
    };
    match game.as_str() {
        n if n == demo::Demo::NAME => {
            launch::run_command::<demo::Demo>(&Command::Replay(args.clone()), engine)
        }
        n if n == arena::Arena::NAME => {
            launch::run_command::<arena::Arena>(&Command::Replay(args.clone()), engine)
        }
        n if n == cubes::Cubes::NAME => {
            launch::run_command::<cubes::Cubes>(&Command::Replay(args.clone()), engine)
        }
        other => {
            eprintln!(
                "tickwire: error: the recording is of the game {other:?}, which is not built in (replay it with that game's own binary)"
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_scenario_which_overrides_defaults() {
        let cli = BuiltinCli::try_parse_from([
            "tickwire",
            "--scenario",
            "crowd",
            "--npcs",
            "7",
            "--arena",
            "300x200",
        ])
        .unwrap();
        let c = cli.to_config().unwrap();
        assert_eq!((c.tick_hz, c.view_radius), (30, 600));
        let game: field::FieldConfig = c.game_config().unwrap();
        assert_eq!((game.width, game.height, game.npcs), (300, 200, Some(7)));
        assert!(BuiltinCli::try_parse_from(["tickwire", "--arena", "big"]).is_err());
        let demo = BuiltinCli::try_parse_from(["tickwire"])
            .unwrap()
            .to_config()
            .unwrap();
        assert_eq!(
            demo.game_config::<demo::DemoConfig>().unwrap(),
            demo::DemoConfig::default()
        );
    }
}
