//! Who may open a WebSocket at all: the per-IP connection cap and the allowed web
//! Origins. Checked at the HTTP upgrade, before a session exists.

use std::net::IpAddr;
use std::sync::Arc;

use dashmap::DashMap;

/// Counts open connections per IP address.
#[derive(Debug, Default)]
pub struct IpLimiter {
    /// Open connections by address; entries are removed when they reach zero.
    open: DashMap<IpAddr, usize>,
}

/// One counted connection; dropping it gives the slot back.
#[derive(Debug)]
pub struct IpSlot {
    /// The limiter it came from.
    limiter: Arc<IpLimiter>,
    /// The address it counts against.
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        self.limiter.open.remove_if_mut(&self.ip, |_, n| {
            *n -= 1;
            *n == 0
        });
    }
}

impl IpLimiter {
    /// Takes a slot for `ip` if it has fewer than `max` open; loopback is not counted
    /// unless `limit_loopback`. `None` means the address is at its cap.
    pub fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        max: usize,
        limit_loopback: bool,
    ) -> Option<Option<IpSlot>> {
        if ip.is_loopback() && !limit_loopback {
            return Some(None);
        }
        let mut n = self.open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        drop(n);
        Some(Some(IpSlot {
            limiter: self.clone(),
            ip,
        }))
    }

    /// Open connections from `ip`.
    #[cfg(test)]
    #[must_use]
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open.get(&ip).map_or(0, |n| *n)
    }
}

/// Whether a WebSocket request from a page at `origin` may connect to a server reached
/// as `host`. No Origin (a native client), the server's own page, a listed origin, or a
/// `*` in the list are allowed.
#[must_use]
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_per_address_and_frees_on_drop() {
        let l = Arc::new(IpLimiter::default());
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let a = l.admit(ip, 2, false).unwrap();
        let b = l.admit(ip, 2, false).unwrap();
        assert!(l.admit(ip, 2, false).is_none());
        drop(a);
        assert_eq!(l.open_from(ip), 1);
        assert!(l.admit(ip, 2, false).is_some());
        drop(b);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!((0..10).all(|_| matches!(l.admit(lo, 1, false), Some(None))));
        let held = l.admit(lo, 1, true).unwrap();
        assert!(l.admit(lo, 1, true).is_none());
        drop(held);
    }

    #[test]
    fn origins_own_page_listed_or_none_are_allowed() {
        let none: Vec<String> = vec![];
        assert!(origin_allowed(None, Some("a:1"), &none));
        assert!(origin_allowed(
            Some("http://127.0.0.1:7777"),
            Some("127.0.0.1:7777"),
            &none
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("127.0.0.1:7777"),
            &none
        ));
        let listed = vec!["https://game.example.com/".to_owned()];
        assert!(origin_allowed(
            Some("https://game.example.com"),
            Some("x"),
            &listed
        ));
        assert!(origin_allowed(
            Some("https://anything"),
            None,
            &["*".to_owned()]
        ));
    }
}
