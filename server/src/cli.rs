//! The engine's command line: flags (each with a `TICKWIRE_*` environment variable)
//! layered over the config file over the built-in defaults. Any game's binary takes them
//! (`Cli`, or `EngineArgs` flattened into its own parser); `--game-set KEY=VALUE` sets a
//! key of the game's own `[game]` settings.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Parser};

use crate::config::{Config, ConfigError, DEFAULT_CONFIG_TOML};

/// A Tickwire game server.
///
/// Settings come from the built-in defaults (assets/tickwire.toml), then --config FILE,
/// then the flags below. Every flag can also be given as an environment variable, e.g.
/// TICKWIRE_PORT=9000.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub struct Cli {
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The engine's settings.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The engine's flags, for any game's command line: `--config FILE`, `--game-set
/// KEY=VALUE`, and one flag per `Config` field (with its `TICKWIRE_*` variable), all
/// generated from `Config` itself. Only the flags given are applied, over the file.
#[derive(Debug, Clone, Default)]
pub struct EngineArgs {
    /// A TOML config file; keys it leaves out keep their defaults.
    pub config: Option<PathBuf>,
    /// Keys of the game's own settings, each a TOML value.
    pub game_set: Vec<(String, toml::Value)>,
    /// The parsed command line, from which the given `Config` flags are applied.
    matches: ArgMatches,
}

/// The environment variable of a flag: `TICKWIRE_` and the setting's name in capitals.
fn env_name(id: &str) -> String {
    format!("TICKWIRE_{}", id.to_ascii_uppercase())
}

impl clap::Args for EngineArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let defaults: toml::Table = toml::from_str(DEFAULT_CONFIG_TOML).unwrap_or_default();
        // Every `Config` field as an optional flag (no clap default: a flag not given
        // leaves the file's value alone), with its environment variable and, in the help,
        // the default from assets/tickwire.toml.
        let cmd = Config::augment_args_for_update(cmd).mut_args(|arg| {
            let id = arg.get_id().as_str().to_owned();
            let arg = arg.env(env_name(&id));
            match (defaults.get(&id), arg.get_help().map(ToString::to_string)) {
                (Some(value), Some(help)) => arg.help(format!("{help} [default: {value}]")),
                _ => arg,
            }
        });
        cmd.arg(
            Arg::new("config")
                .long("config")
                .env("TICKWIRE_CONFIG")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("A TOML config file; keys it leaves out keep their defaults"),
        )
        .arg(
            Arg::new("game_set")
                .long("game-set")
                .env("TICKWIRE_GAME_SET")
                .value_name("KEY=VALUE")
                .value_delimiter(';')
                .action(ArgAction::Append)
                .value_parser(parse_game_set)
                .help(
                    "Sets one key of the game's own settings (the config file's [game] \
                     table), as a TOML value: --game-set width=800 --game-set \
                     name='\"blue\"' (repeatable)",
                ),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        EngineArgs::augment_args(cmd)
    }
}

impl clap::FromArgMatches for EngineArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<EngineArgs, clap::Error> {
        Ok(EngineArgs {
            config: matches.get_one::<PathBuf>("config").cloned(),
            game_set: matches
                .get_many::<(String, toml::Value)>("game_set")
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
            matches: matches.clone(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = EngineArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Mint a join token for a server run with --auth-secret, and print it.
    Token {
        /// The server's auth secret (the same value as its --auth-secret).
        #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
        secret: String,
        /// The player name the token grants.
        #[arg(long)]
        name: String,
        /// How long the token is valid, e.g. 90s, 30m, 12h, 7d or "1h 30m".
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
    },
    /// Replay a match recorded with --record: serve it to browsers (the same page, with
    /// play, pause, seek and speed), or with --verify check it headless and exit.
    Replay(ReplayArgs),
}

/// What to replay, and how.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The recording (a .twrec file from --record DIR).
    pub file: PathBuf,
    /// Replay every tick headless, compare each with the recording (checksums, and
    /// keyframes entity by entity), print the result and exit: 0 when all are equal.
    #[arg(long)]
    pub verify: bool,
}

/// `KEY=VALUE` with a TOML value; a bare word that is not TOML is taken as a string.
fn parse_game_set(s: &str) -> Result<(String, toml::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("no key in {s:?}"));
    }
    let v = v.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(v.to_owned()));
    Ok((k.to_owned(), value))
}

/// `WIDTHxHEIGHT`, as two numbers.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let w = w
        .trim()
        .parse()
        .map_err(|e| format!("bad width {w:?}: {e}"))?;
    let h = h
        .trim()
        .parse()
        .map_err(|e| format!("bad height {h:?}: {e}"))?;
    Ok((w, h))
}

impl EngineArgs {
    /// The configuration file's settings (or the built-in defaults), before any flag.
    pub fn base_config(&self) -> Result<Config, ConfigError> {
        match &self.config {
            Some(path) => Config::from_file(path),
            None => Config::builtin(),
        }
    }

    /// Builds the configuration: defaults, then the file, then the flags.
    pub fn to_config(&self) -> Result<Config, ConfigError> {
        self.apply(self.base_config()?)
    }

    /// Applies the flags on top of `c` (a base config a launcher may have adjusted) and
    /// validates the result.
    pub fn apply(&self, mut c: Config) -> Result<Config, ConfigError> {
        use clap::FromArgMatches as _;
        if self.matches.ids().next().is_some() {
            c.update_from_arg_matches(&self.matches)
                .map_err(|e| ConfigError::Invalid {
                    field: "command line",
                    message: e.to_string(),
                })?;
        }
        // The flags replace the file's certificate and key as a pair, so one flag alone
        // fails validation instead of pairing with the other half from the file.
        let given = |id: &str| self.matches.try_contains_id(id).unwrap_or(false);
        if given("tls_cert") != given("tls_key") {
            if !given("tls_cert") {
                c.tls_cert = None;
            }
            if !given("tls_key") {
                c.tls_key = None;
            }
        }
        for (k, v) in &self.game_set {
            c.game.insert(k.clone(), v.clone());
        }
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_defaults_and_game_keys_reach_the_game_table() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "--tick-hz",
            "20",
            "--game-set",
            "width=300",
            "--game-set",
            "label=blue",
        ])
        .unwrap();
        let c = cli.engine.to_config().unwrap();
        assert_eq!(c.tick_hz, 20);
        assert_eq!(c.game.get("width"), Some(&toml::Value::Integer(300)));
        assert_eq!(
            c.game.get("label"),
            Some(&toml::Value::String("blue".into()))
        );
        assert!(Cli::try_parse_from(["tickwire", "--game-set", "novalue"]).is_err());
        let bad = Cli::try_parse_from(["tickwire", "--tick-hz", "0"]).unwrap();
        assert!(bad.engine.to_config().is_err());
        assert_eq!(parse_size("300x200"), Ok((300, 200)));
        assert!(parse_size("big").is_err());
    }

    #[test]
    fn every_setting_is_a_flag_with_an_env_var_and_only_given_flags_apply() {
        use clap::CommandFactory as _;
        let cmd = Cli::command();
        let defaults: toml::Table = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
        for key in defaults.keys().filter(|k| *k != "game") {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == key.as_str())
                .unwrap_or_else(|| panic!("setting {key} has no flag"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(env_name(key).as_str())
            );
        }
        let base = Config {
            port: 9,
            ..Config::default()
        };
        let cli = Cli::try_parse_from(["tickwire", "--tick-hz", "20"]).unwrap();
        let c = cli.engine.apply(base.clone()).unwrap();
        assert_eq!((c.port, c.tick_hz), (9, 20));
        let none = Cli::try_parse_from(["tickwire"]).unwrap();
        assert_eq!(none.engine.apply(base.clone()).unwrap(), base);
        assert_eq!(EngineArgs::default().apply(base.clone()).unwrap(), base);
    }

    #[test]
    fn every_hardening_flag_reaches_the_config() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "--input-rate-hz=11",
            "--input-burst=12",
            "--chat-per-minute=13",
            "--chat-burst=14",
            "--idle-timeout-ms=15",
            "--max-connections-per-ip=16",
            "--limit-loopback=true",
            "--resume-grace-secs=17",
            "--allow-origin=https://a.example,https://b.example",
            "--auth-secret=0123456789abcdef0123",
        ])
        .unwrap();
        let c = cli.engine.to_config().unwrap();
        assert_eq!(
            (
                c.input_rate_hz,
                c.input_burst,
                c.chat_per_minute,
                c.chat_burst,
                c.idle_timeout_ms
            ),
            (11, 12, 13, 14, 15)
        );
        assert_eq!(
            (
                c.max_connections_per_ip,
                c.limit_loopback,
                c.resume_grace_secs
            ),
            (16, true, 17)
        );
        assert_eq!(
            c.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.auth_secret.as_deref(), Some("0123456789abcdef0123"));
    }

    #[test]
    fn token_subcommand_and_durations_parse() {
        let cli = Cli::try_parse_from([
            "tickwire",
            "token",
            "--secret",
            "0123456789abcdef",
            "--name",
            "ann",
            "--ttl",
            "30m",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Token { ttl, .. }) if ttl.as_secs() == 1800
        ));
        assert!(
            Cli::try_parse_from([
                "tickwire",
                "token",
                "--secret",
                "s",
                "--name",
                "a",
                "--ttl",
                "5 parsecs"
            ])
            .is_err()
        );
    }
}
