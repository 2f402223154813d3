//! The command-line flags that get a fleet into a locked-down server: the auth secret
//! the bots mint their join tokens with, and the CA file to trust on `wss://`/`https://`.
//! Shared by `bots` and `soak`.

use std::path::PathBuf;

use crate::tls::{TlsTrust, TlsTrustError};

/// `--auth-secret` and `--ca-cert`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AccessArgs {
    /// The server's auth secret, for a server run with --auth-secret: each bot mints its
    /// own join token (for its name, bot-N) with it.
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// A PEM file of CA certificates to trust for wss:// and https:// URLs, besides the
    /// system's: a private CA, or a self-signed server's own certificate.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
}

impl AccessArgs {
    /// The trust `--ca-cert` asks for; `None` (the system's CA certificates) without it.
    pub fn trust(&self) -> Result<Option<TlsTrust>, TlsTrustError> {
        self.ca_cert
            .as_deref()
            .map(TlsTrust::with_ca_file)
            .transpose()
    }
}
