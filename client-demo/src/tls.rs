//! Whom a client trusts on `wss://`: the system's certificate authorities by default,
//! plus the certificates of a PEM file for a private CA or a self-signed server.
//!
//! One `TlsTrust` is built once and shared (cloning is an `Arc` bump), so a fleet of a
//! thousand bots reads the system's roots once, not once per connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use thiserror::Error;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_tungstenite::Connector;

/// Why a `TlsTrust` could not be built.
#[derive(Debug, Error)]
pub enum TlsTrustError {
    /// The system has no usable CA certificates (on Debian: install `ca-certificates`).
    #[error("no system CA certificates could be loaded{}", detail(.0))]
    NoSystemRoots(Vec<String>),
    /// The CA file could not be read.
    #[error("reading the CA file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file is not PEM, or holds no certificate.
    #[error("the CA file {path} holds no PEM certificate: {reason}")]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        reason: String,
    },
    /// A certificate in the CA file cannot serve as a trust anchor.
    #[error("a certificate in {path} is not a usable CA certificate: {source}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The TLS library refused the configuration.
    #[error("TLS setup: {0}")]
    Setup(rustls::Error),
}

fn detail(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}

/// The certificate authorities a client trusts for `wss://` URLs.
#[derive(Clone, Debug)]
pub struct TlsTrust {
    config: Arc<ClientConfig>,
}

impl TlsTrust {
    /// The system's CA certificates (e.g. `/etc/ssl/certs` on Debian), read once per
    /// process: what a client uses for `wss://` unless told otherwise.
    pub fn system() -> Result<TlsTrust, TlsTrustError> {
        static SYSTEM: Mutex<Option<TlsTrust>> = Mutex::new(None);
        let mut cached = SYSTEM.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(trust) = cached.as_ref() {
            return Ok(trust.clone());
        }
        let roots = system_roots()?;
        let trust = TlsTrust::from_roots(roots)?;
        *cached = Some(trust.clone());
        Ok(trust)
    }

    /// The certificates in the PEM file at `path` (a private CA, or a self-signed
    /// server's own certificate), plus the system's CA certificates if it has any.
    pub fn with_ca_file(path: &Path) -> Result<TlsTrust, TlsTrustError> {
        let bytes = std::fs::read(path).map_err(|source| TlsTrustError::Read {
            path: path.to_owned(),
            source,
        })?;
        let no_cert = |reason: String| TlsTrustError::NoCertificate {
            path: path.to_owned(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, pem::Error>>()
            .map_err(|e| no_cert(e.to_string()))?;
        if certs.is_empty() {
            return Err(no_cert("no CERTIFICATE block found".into()));
        }
        let mut roots = system_roots().unwrap_or_else(|_| RootCertStore::empty());
        for cert in certs {
            roots
                .add(cert)
                .map_err(|source| TlsTrustError::BadCertificate {
                    path: path.to_owned(),
                    source,
                })?;
        }
        TlsTrust::from_roots(roots)
    }

    /// A caller-built rustls configuration, used as it is.
    #[must_use]
    pub fn from_config(config: Arc<ClientConfig>) -> TlsTrust {
        TlsTrust { config }
    }

    /// A configuration trusting exactly `roots`, with the ring provider.
    fn from_roots(roots: RootCertStore) -> Result<TlsTrust, TlsTrustError> {
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsTrustError::Setup)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsTrust {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration, for other TLS connections (an HTTPS scrape).
    pub fn config(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }

    /// The connector tokio-tungstenite uses for `wss://`.
    pub(crate) fn connector(&self) -> Connector {
        Connector::Rustls(self.config.clone())
    }
}

/// The system's CA certificates as a root store.
fn system_roots() -> Result<RootCertStore, TlsTrustError> {
    let found = rustls_native_certs::load_native_certs();
    let mut errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        if ignored > 0 {
            errors.push(format!("{ignored} certificates could not be parsed"));
        }
        return Err(TlsTrustError::NoSystemRoots(errors));
    }
    Ok(roots)
}

/// Whether `url` asks for TLS.
pub(crate) fn is_secure(url: &str) -> bool {
    url.get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickwire-tls-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_ca_file_with_a_certificate_is_trusted() {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let path = scratch("good.pem", made.cert.pem().as_bytes());
        let trust = TlsTrust::with_ca_file(&path).unwrap();
        assert!(matches!(trust.connector(), Connector::Rustls(_)));
    }

    #[test]
    fn bad_ca_files_say_what_is_wrong() {
        let missing = std::env::temp_dir().join("tickwire-no-such-ca.pem");
        let err = TlsTrust::with_ca_file(&missing).unwrap_err();
        assert!(matches!(err, TlsTrustError::Read { .. }), "{err}");
        assert!(err.to_string().contains("tickwire-no-such-ca.pem"), "{err}");

        let path = scratch("empty.pem", b"not a certificate\n");
        let err = TlsTrust::with_ca_file(&path).unwrap_err();
        assert!(matches!(err, TlsTrustError::NoCertificate { .. }), "{err}");

        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key_only = scratch("key.pem", made.signing_key.serialize_pem().as_bytes());
        let err = TlsTrust::with_ca_file(&key_only).unwrap_err();
        assert!(matches!(err, TlsTrustError::NoCertificate { .. }), "{err}");
    }

    #[test]
    fn only_wss_urls_are_secure() {
        assert!(is_secure("wss://example.com/ws"));
        assert!(is_secure("WSS://example.com/ws"));
        assert!(!is_secure("ws://127.0.0.1:7777/ws"));
        assert!(!is_secure("ws"));
    }
}
