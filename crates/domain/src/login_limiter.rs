//! Rate limiting of failed logins, per account and per source address.
//!
//! A sliding window: once an account (or an address) has `max` failures
//! within `window`, further attempts are refused until the oldest of them
//! leaves the window. The caller answers a refused attempt exactly as it
//! answers a wrong password, so the limiter reveals nothing.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed per account within the window.
    pub per_account: usize,
    /// Failures allowed per source address within the window; higher than
    /// per account, since colleagues behind one NAT share an address.
    pub per_address: usize,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(300),
        }
    }
}

/// Failure history, bounded: at most `max` instants per key, and keys whose
/// failures all left the window are dropped once the map grows.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    accounts: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<String, VecDeque<Instant>>,
}

/// Above this many tracked keys, expired ones are swept on the next failure.
const SWEEP_THRESHOLD: usize = 10_000;

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            accounts: HashMap::new(),
            addresses: HashMap::new(),
        }
    }

    /// Whether a login attempt for `account` from `address` may be checked
    /// at all at `now`.
    pub fn allows(&self, account: &str, address: &str, now: Instant) -> bool {
        let window = self.limits.window;
        recent(&self.accounts, account, now, window) < self.limits.per_account
            && recent(&self.addresses, address, now, window) < self.limits.per_address
    }

    pub fn record_failure(&mut self, account: &str, address: &str, now: Instant) {
        let window = self.limits.window;
        push(&mut self.accounts, account, now, self.limits.per_account);
        push(&mut self.addresses, address, now, self.limits.per_address);
        for map in [&mut self.accounts, &mut self.addresses] {
            if map.len() > SWEEP_THRESHOLD {
                map.retain(|_, failures| {
                    failures
                        .back()
                        .is_some_and(|last| now.duration_since(*last) < window)
                });
            }
        }
    }

    /// A successful login forgets the account's failures; the address keeps
    /// its own, so one good password does not unlock guessing at others.
    pub fn record_success(&mut self, account: &str) {
        self.accounts.remove(account);
    }
}

fn recent(
    map: &HashMap<String, VecDeque<Instant>>,
    key: &str,
    now: Instant,
    window: Duration,
) -> usize {
    map.get(key).map_or(0, |failures| {
        failures
            .iter()
            .filter(|at| now.duration_since(**at) < window)
            .count()
    })
}

fn push(map: &mut HashMap<String, VecDeque<Instant>>, key: &str, now: Instant, max: usize) {
    let failures = map.entry(key.to_owned()).or_default();
    failures.push_back(now);
    while failures.len() > max.max(1) {
        failures.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            per_account: 3,
            per_address: 5,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_account_is_blocked_after_its_limit_until_the_window_passes() {
        let mut limiter = limiter();
        let start = Instant::now();
        for second in 0..3 {
            assert!(limiter.allows("alice", "127.0.0.1", start));
            limiter.record_failure("alice", "127.0.0.1", start + Duration::from_secs(second));
        }
        let later = start + Duration::from_secs(10);
        assert!(!limiter.allows("alice", "127.0.0.2", later));
        assert!(limiter.allows("bob", "127.0.0.2", later));
        // The first failure leaves the window 60 s after it happened.
        assert!(limiter.allows("alice", "127.0.0.2", start + Duration::from_secs(60)));
    }

    #[test]
    fn an_address_is_blocked_across_accounts() {
        let mut limiter = limiter();
        let now = Instant::now();
        for name in ["a", "b", "c", "d", "e"] {
            limiter.record_failure(name, "127.0.0.9", now);
        }
        assert!(!limiter.allows("f", "127.0.0.9", now));
        assert!(limiter.allows("f", "127.0.0.8", now));
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut limiter = limiter();
        let now = Instant::now();
        for _ in 0..3 {
            limiter.record_failure("alice", "127.0.0.1", now);
        }
        limiter.record_success("alice");
        assert!(limiter.allows("alice", "127.0.0.3", now));
        limiter.record_failure("alice", "127.0.0.1", now);
        limiter.record_failure("alice", "127.0.0.1", now);
        assert!(!limiter.allows("zed", "127.0.0.1", now));
    }

    #[test]
    fn memory_stays_bounded_per_key() {
        let mut limiter = limiter();
        let now = Instant::now();
        for _ in 0..1000 {
            limiter.record_failure("alice", "127.0.0.1", now);
        }
        assert_eq!(limiter.accounts["alice"].len(), 3);
        assert_eq!(limiter.addresses["127.0.0.1"].len(), 5);
    }

    /// A spray of names cannot grow the limiter without bound: once it
    /// holds more than the threshold, keys whose failures all left the
    /// window are dropped, and those still inside it (by a millisecond)
    /// are kept.
    #[test]
    fn keys_whose_failures_left_the_window_are_swept() {
        let mut limiter = limiter();
        let window = limiter.limits.window;
        let start = Instant::now();
        for n in 0..SWEEP_THRESHOLD - 2 {
            limiter.record_failure(&format!("old-{n}"), &format!("address-{n}"), start);
        }
        let recent = start + Duration::from_millis(1);
        limiter.record_failure("recent", "address-recent", recent);
        // Exactly one window after the old failures: they are out of it,
        // but at the threshold nothing is swept yet.
        let later = start + window;
        limiter.record_failure("new", "address-new", later);
        assert_eq!(limiter.accounts.len(), SWEEP_THRESHOLD);
        assert_eq!(limiter.addresses.len(), SWEEP_THRESHOLD);

        limiter.record_failure("newer", "address-newer", later);
        let kept = |map: &HashMap<String, VecDeque<Instant>>| {
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort_unstable();
            keys
        };
        assert_eq!(kept(&limiter.accounts), ["new", "newer", "recent"]);
        assert_eq!(
            kept(&limiter.addresses),
            ["address-new", "address-newer", "address-recent"]
        );
    }

    #[test]
    fn a_failure_counts_until_exactly_one_window_later() {
        let mut limiter = limiter();
        let window = limiter.limits.window;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.record_failure("alice", "127.0.0.1", start);
        }
        let just_inside = start + window - Duration::from_millis(1);
        assert!(!limiter.allows("alice", "127.0.0.2", just_inside));
        assert!(limiter.allows("alice", "127.0.0.2", start + window));
    }
}
