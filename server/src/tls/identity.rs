//! The server's TLS identity: its certificate chain and private key, read from PEM files,
//! checked against each other, and made into a rustls `ServerConfig` that speaks HTTP/1.1.
//!
//! Everything here runs once at start, before any thread or task is spawned, so a bad
//! file stops the server with an error that names the file and what is wrong with it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio_rustls::rustls::{self, InconsistentKeys, ServerConfig};

use crate::config::Config;

/// Largest PEM file read. A certificate chain is a few KiB; the cap stops a flag pointed
/// at something huge or endless (`/dev/zero`) from eating memory.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The only ALPN protocol offered: WebSocket upgrades need HTTP/1.1, and the server is
/// built without HTTP/2.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Why the certificate or key could not be used. Each message names the file.
#[derive(Debug, Error)]
pub enum TlsError {
    /// The file could not be opened or read (missing, unreadable, a directory).
    #[error("cannot read the TLS {what} file {}: {source}", .path.display())]
    Read {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is far larger than any PEM certificate or key.
    #[error(
        "the TLS {what} file {} is larger than {MAX_PEM_BYTES} bytes: not a PEM file",
        .path.display()
    )]
    TooLarge {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The file has a PEM block that does not parse (bad base64, no END line, ...).
    #[error("the TLS {what} file {} is not valid PEM: {source}", .path.display())]
    BadPem {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        source: pem::Error,
    },
    /// The certificate file parses but holds no certificate.
    #[error(
        "the TLS certificate file {} holds no certificate (expected a \
         `-----BEGIN CERTIFICATE-----` block; were the certificate and key swapped?)",
        .path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file parses but holds no private key rustls can read.
    #[error(
        "the TLS key file {} holds no private key (expected an unencrypted `PRIVATE KEY`, \
         `RSA PRIVATE KEY` or `EC PRIVATE KEY` block; encrypted keys are not supported)",
        .path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is of a type or size the crypto provider cannot sign with.
    #[error(
        "the private key in {} is not supported: {source} (supported: RSA of 2048 to 8192 \
         bits, ECDSA P-256 or P-384, Ed25519)",
        .path.display()
    )]
    UnsupportedKey {
        /// The key file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The first certificate of the chain is not a usable X.509 certificate.
    #[error("the certificate in {} is unusable: {source}", .path.display())]
    BadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// The key is fine but belongs to another certificate.
    #[error(
        "the private key in {} does not belong to the certificate in {}",
        .key.display(),
        .cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the protocol setup (not expected with the built-in defaults).
    #[error("cannot set up TLS: {0}")]
    Setup(rustls::Error),
}

/// The TLS config `config` asks for: `None` when it sets no certificate (plain HTTP),
/// otherwise the loaded identity. `Config::validate` has already made sure that the
/// certificate and key are set together.
pub fn load_from_config(config: &Config) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => load_server_config(cert, key).map(Some),
        _ => Ok(None),
    }
}

/// Reads the PEM certificate chain at `cert` (leaf first) and the PEM private key at
/// `key`, checks that they belong together, and builds a server config offering TLS 1.2
/// and 1.3 with ALPN `http/1.1`.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(cert)?;
    let key_der = read_key(key)?;
    let provider = Arc::new(ring::default_provider());
    let certified = certify(&provider, chain, key_der, cert, key)?;
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    server.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(server))
}

/// Every certificate in the PEM file at `path`, in file order.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_pem("certificate", path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::BadPem {
            what: "certificate",
            path: path.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

/// The first private key in the PEM file at `path`.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_pem("key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_owned(),
        },
        source => TlsError::BadPem {
            what: "key",
            path: path.to_owned(),
            source,
        },
    })
}

/// Loads the key with `provider` and checks it against the leaf certificate.
fn certify(
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key_der: PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<CertifiedKey, TlsError> {
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|source| TlsError::UnsupportedKey {
            path: key_path.to_owned(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // `Unknown`: the key cannot name its public half, so there is nothing to compare.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
            })
        }
        Err(source) => Err(TlsError::BadCertificate {
            path: cert_path.to_owned(),
            source,
        }),
    }
}

/// The bytes of the file at `path`, at most `MAX_PEM_BYTES` of them.
fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsError::TooLarge {
            what,
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("tickwire-tls-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("scratch dir: {e}"));
            Scratch(dir)
        }

        fn write(&self, file: &str, contents: &str) -> PathBuf {
            let path = self.0.join(file);
            std::fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {file}: {e}"));
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh self-signed certificate for `localhost` and its key, as PEM.
    fn self_signed() -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .unwrap_or_else(|e| panic!("rcgen: {e}"));
        (c.cert.pem(), c.signing_key.serialize_pem())
    }

    fn err(cert: &Path, key: &Path) -> TlsError {
        match load_server_config(cert, key) {
            Ok(_) => panic!(
                "expected {} / {} to be refused",
                cert.display(),
                key.display()
            ),
            Err(e) => e,
        }
    }

    #[test]
    fn a_matching_pair_loads_and_offers_http11() {
        let dir = Scratch::new("ok");
        let (cert, key) = self_signed();
        let config = load_server_config(&dir.write("c.pem", &cert), &dir.write("k.pem", &key))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = Scratch::new("missing");
        let (_, key) = self_signed();
        let cert = dir.0.join("nope.pem");
        let e = err(&cert, &dir.write("k.pem", &key));
        assert!(
            matches!(
                e,
                TlsError::Read {
                    what: "certificate",
                    ..
                }
            ),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains("nope.pem") && text.contains("certificate"),
            "{text}"
        );
    }

    #[test]
    fn swapped_files_say_what_is_missing() {
        let dir = Scratch::new("swapped");
        let (cert, key) = self_signed();
        let (c, k) = (dir.write("c.pem", &cert), dir.write("k.pem", &key));
        let e = err(&k, &c);
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
        assert!(e.to_string().contains("k.pem"), "{e}");
        // With a real certificate but the certificate again as the key:
        let e = err(&c, &c);
        assert!(matches!(e, TlsError::NoKey { .. }), "{e:?}");
    }

    #[test]
    fn an_empty_file_has_no_certificate() {
        let dir = Scratch::new("empty");
        let (_, key) = self_signed();
        let e = err(&dir.write("c.pem", ""), &dir.write("k.pem", &key));
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
    }

    #[test]
    fn broken_pem_is_reported_as_such() {
        let dir = Scratch::new("broken");
        let (_, key) = self_signed();
        let cert = "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n";
        let e = err(&dir.write("c.pem", cert), &dir.write("k.pem", &key));
        assert!(matches!(e, TlsError::BadPem { .. }), "{e:?}");
    }

    #[test]
    fn a_certificate_that_is_not_x509_is_refused() {
        let dir = Scratch::new("notx509");
        let (_, key) = self_signed();
        // Valid PEM and base64, but the DER inside is three bytes of nothing.
        let cert = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let e = err(&dir.write("c.pem", cert), &dir.write("k.pem", &key));
        assert!(matches!(e, TlsError::BadCertificate { .. }), "{e:?}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let dir = Scratch::new("mismatch");
        let (cert, _) = self_signed();
        let (_, other_key) = self_signed();
        let e = err(&dir.write("c.pem", &cert), &dir.write("k.pem", &other_key));
        assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e:?}");
    }

    #[test]
    fn an_unusable_key_is_refused() {
        let dir = Scratch::new("badkey");
        let (cert, _) = self_signed();
        // A well-formed PKCS#8 block whose contents are no key at all.
        let key = "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n";
        let e = err(&dir.write("c.pem", &cert), &dir.write("k.pem", key));
        assert!(matches!(e, TlsError::UnsupportedKey { .. }), "{e:?}");
    }
}
