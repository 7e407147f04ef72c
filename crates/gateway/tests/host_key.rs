//! Fetching host keys from a real OpenSSH server and from peers that fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::{Duration, Instant};

use domain::{HostAddress, Port};
use gateway::{FetchHostKeyError, fetch_host_key};
use test_sshd::{SilentListener, Sshd, closed_port};

fn loopback() -> HostAddress {
    HostAddress::parse("127.0.0.1").unwrap()
}

#[tokio::test]
async fn the_fetched_key_is_the_one_sshd_serves() {
    let sshd = Sshd::start();
    let key = fetch_host_key(
        &loopback(),
        Port::new(sshd.port).unwrap(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(key.algorithm, "ssh-ed25519");
    assert_eq!(key.fingerprint.as_str(), sshd.host_key_fingerprint);
}

#[tokio::test]
async fn a_closed_port_is_unreachable_not_a_timeout() {
    let result = fetch_host_key(
        &loopback(),
        Port::new(closed_port()).unwrap(),
        Duration::from_secs(5),
    )
    .await;
    assert!(
        matches!(result, Err(FetchHostKeyError::Unreachable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_silent_listener_times_out() {
    let silent = SilentListener::start();
    let started = Instant::now();
    let result = fetch_host_key(
        &loopback(),
        Port::new(silent.port).unwrap(),
        Duration::from_millis(700),
    )
    .await;
    assert!(
        matches!(result, Err(FetchHostKeyError::Timeout(_))),
        "{result:?}"
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
}
