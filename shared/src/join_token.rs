//! Join tokens: with an auth secret configured, the server requires Hello to carry a
//! token signed with it.
//!
//! A token is `v1.<expiry unix seconds>.<player name, hex>.<HMAC-SHA256, hex>`, the MAC
//! taken over a domain tag, the name and the expiry. The name in the token is the name the
//! player gets. `tickwire token` mints one; a game's login service would do the same.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// Separates this use of the secret from any other.
const DOMAIN: &[u8] = b"tickwire-join-v1";

/// Why a join token was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    /// The server requires a token and Hello carried none.
    #[error("this server requires a join token")]
    Missing,
    /// The token is not of the `v1.expiry.name.mac` form.
    #[error("the join token is malformed")]
    Malformed,
    /// The token's expiry has passed.
    #[error("the join token expired at {expired_at} (unix seconds)")]
    Expired {
        /// When it expired.
        expired_at: u64,
    },
    /// The signature does not match: forged, altered, or signed with another secret.
    #[error("the join token's signature is invalid")]
    BadSignature,
}

fn mac(secret: &str, name: &str, expires: u64) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(DOMAIN);
    m.update(&(name.len() as u64).to_le_bytes());
    m.update(name.as_bytes());
    m.update(&expires.to_le_bytes());
    m
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 1024 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Seconds since the Unix epoch, now (0 for a clock set before it): the time base of
/// token expiries.
#[must_use]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Mints a token for `name`, valid until `expires` (unix seconds).
#[must_use]
pub fn mint(secret: &str, name: &str, expires: u64) -> String {
    let sig = mac(secret, name, expires).finalize().into_bytes();
    format!("v1.{expires}.{}.{}", to_hex(name.as_bytes()), to_hex(&sig))
}

/// Checks `token` at time `now` (unix seconds); returns the player name it grants.
pub fn verify(secret: &str, token: Option<&str>, now: u64) -> Result<String, AuthError> {
    let token = token.ok_or(AuthError::Missing)?;
    let mut parts = token.split('.');
    let (Some("v1"), Some(expiry), Some(name_hex), Some(sig_hex), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(AuthError::Malformed);
    };
    let expires: u64 = expiry.parse().map_err(|_| AuthError::Malformed)?;
    let name = from_hex(name_hex)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(AuthError::Malformed)?;
    let sig = from_hex(sig_hex).ok_or(AuthError::Malformed)?;
    // Check the signature before the expiry, so an altered expiry reads as forged.
    mac(secret, &name, expires)
        .verify_slice(&sig)
        .map_err(|_| AuthError::BadSignature)?;
    if now >= expires {
        return Err(AuthError::Expired {
            expired_at: expires,
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "correct horse battery staple";

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let t = mint(SECRET, "ann.b", 1_000);
        assert_eq!(verify(SECRET, Some(&t), 999), Ok("ann.b".to_owned()));
        assert_eq!(
            verify(SECRET, Some(&t), 1_000),
            Err(AuthError::Expired { expired_at: 1_000 })
        );
    }

    #[test]
    fn forged_altered_missing_and_malformed_tokens_are_refused() {
        let t = mint(SECRET, "ann", 1_000);
        assert_eq!(
            verify("another secret entirely", Some(&t), 1),
            Err(AuthError::BadSignature)
        );
        let longer = t.replacen("v1.1000.", "v1.9000.", 1);
        assert_eq!(
            verify(SECRET, Some(&longer), 1),
            Err(AuthError::BadSignature)
        );
        let renamed = mint(SECRET, "bob", 1_000)
            .split('.')
            .take(3)
            .collect::<Vec<_>>()
            .join(".")
            + "."
            + t.rsplit('.').next().unwrap();
        assert_eq!(
            verify(SECRET, Some(&renamed), 1),
            Err(AuthError::BadSignature)
        );
        assert_eq!(verify(SECRET, None, 1), Err(AuthError::Missing));
        for junk in [
            "",
            "v1",
            "v2.1.00.00",
            "v1.x.00.00",
            "v1.1.zz.00",
            "v1.1.00.00.00",
            "v1.1.0.00",
        ] {
            assert_eq!(
                verify(SECRET, Some(junk), 1),
                Err(AuthError::Malformed),
                "{junk}"
            );
        }
    }
}
