//! The built-in demo host, reached with Tandem's own SSH client.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use domain::{HostAddress, Port, SessionEnd, TerminalSize};
use gateway::{Credential, ShellCommand, ShellEvent, ShellTarget, Timeouts, start_demo_host};
use tokio::sync::mpsc;

const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    keepalive_interval: Duration::from_secs(15),
    keepalive_max: 3,
};

/// Reads output until `needle` has been printed; returns all of it.
async fn read_until(events: &mut mpsc::Receiver<ShellEvent>, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(ShellEvent::Output(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("waiting for {needle:?}, got {other:?} after {seen:?}"),
        }
    }
    seen
}

#[tokio::test]
async fn the_demo_host_gives_a_login_shell_with_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo_host(dir.path(), 0).await.unwrap();
    let target = ShellTarget {
        address: HostAddress::parse("127.0.0.1").unwrap(),
        port: Port::new(demo.port).unwrap(),
        fingerprint: demo.fingerprint.clone(),
        login: demo.login.to_string(),
        credential: Credential::PrivateKey(demo.client_key.clone()),
    };
    let (commands, queue) = mpsc::unbounded_channel();
    let mut events = gateway::open_shell(target.clone(), TerminalSize::INITIAL, TIMEOUTS, queue)
        .await
        .unwrap();
    commands
        .send(ShellCommand::Input(b"echo demo-$((6*7)); tty\r".to_vec()))
        .unwrap();
    // Both lines may come in one chunk: read until the last.
    let printed = read_until(&mut events, "/dev/pts/").await;
    assert!(printed.contains("demo-42"), "{printed}");
    commands
        .send(ShellCommand::Resize(
            TerminalSize::from_client(101, 31).unwrap(),
        ))
        .unwrap();
    commands
        .send(ShellCommand::Input(b"stty size\r".to_vec()))
        .unwrap();
    read_until(&mut events, "31 101").await;
    commands
        .send(ShellCommand::Input(b"exit\r".to_vec()))
        .unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
        {
            Some(ShellEvent::Output(_)) => continue,
            Some(ShellEvent::Closed(end)) => {
                assert_eq!(end, Some(SessionEnd::ShellExited));
                break;
            }
            None => panic!("no Closed event"),
        }
    }

    // Its keys live in the data directory: a restart keeps the pinned key,
    // and a key other than Tandem's is refused.
    drop(commands);
    let again = start_demo_host(dir.path(), 0).await.unwrap();
    assert_eq!(again.fingerprint, demo.fingerprint);
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = start_demo_host(other_dir.path(), 0).await.unwrap();
    let refused = ShellTarget {
        port: Port::new(again.port).unwrap(),
        credential: Credential::PrivateKey(stranger.client_key),
        ..target
    };
    let (_commands, queue) = mpsc::unbounded_channel();
    let result = gateway::open_shell(refused, TerminalSize::INITIAL, TIMEOUTS, queue).await;
    assert_eq!(result.err(), Some(SessionEnd::AuthenticationRejected));
}
