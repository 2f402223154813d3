//! How to connect: the player's name, resume and auth tokens, mirroring mode, TLS trust,
//! timeout.

use std::time::Duration;

use crate::tls::TlsTrust;

/// What the client does with snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Decode every snapshot, apply it to the mirror and verify the server's checksum.
    /// What tests, the demo and correctness bots use.
    #[default]
    Mirror,
    /// Read only each snapshot's header and ack it, without decoding the body: the
    /// cheapest client the server still treats as a full player. For load bots.
    CountOnly,
}

/// Options for `Client::connect`.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The display name sent in `Hello`.
    pub name: String,
    /// A resume token from an earlier `Welcome`, to take back a dropped player.
    pub resume: Option<String>,
    /// A signed join token, for servers that require one.
    pub auth: Option<String>,
    /// Mirror snapshots or only count them.
    pub mode: Mode,
    /// Whom to trust on `wss://` URLs; `None` trusts the system's CA certificates.
    pub tls: Option<TlsTrust>,
    /// How long the TCP connect, WebSocket upgrade and Hello/Welcome exchange may take
    /// together before `connect` gives up.
    pub timeout: Duration,
}

impl ConnectOptions {
    /// Options with this name and defaults for the rest (mirror mode, 5 s timeout).
    #[must_use]
    pub fn new(name: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            name: name.into(),
            ..ConnectOptions::default()
        }
    }

    /// Sets the mirroring mode.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> ConnectOptions {
        self.mode = mode;
        self
    }

    /// Sets the resume token.
    #[must_use]
    pub fn resume(mut self, token: impl Into<String>) -> ConnectOptions {
        self.resume = Some(token.into());
        self
    }

    /// Sets the join (auth) token.
    #[must_use]
    pub fn auth(mut self, token: impl Into<String>) -> ConnectOptions {
        self.auth = Some(token.into());
        self
    }

    /// Sets whom to trust on `wss://` URLs (see `TlsTrust`).
    #[must_use]
    pub fn tls(mut self, trust: TlsTrust) -> ConnectOptions {
        self.tls = Some(trust);
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.timeout = timeout;
        self
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            name: "player".into(),
            resume: None,
            auth: None,
            mode: Mode::Mirror,
            tls: None,
            timeout: Duration::from_secs(5),
        }
    }
}
