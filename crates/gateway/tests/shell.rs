//! Shells on a real OpenSSH server, and each way of failing to get one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use domain::{Fingerprint, HostAddress, Port, SessionEnd, TerminalSize};
use gateway::{Credential, ShellCommand, ShellEvent, ShellTarget, Timeouts};
use test_sshd::{SilentListener, Sshd, TEST_PASSWORD, TEST_USER, closed_port, kill_frozen};
use tokio::sync::mpsc;

const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    keepalive_interval: Duration::from_secs(15),
    keepalive_max: 3,
};

fn target(port: u16, fingerprint: &str, credential: Credential) -> ShellTarget {
    ShellTarget {
        address: HostAddress::parse("127.0.0.1").unwrap(),
        port: Port::new(port).unwrap(),
        fingerprint: Fingerprint::parse(fingerprint).unwrap(),
        login: TEST_USER.to_owned(),
        credential,
    }
}

/// A shell being driven: commands in, events out.
struct Shell {
    commands: mpsc::UnboundedSender<ShellCommand>,
    events: mpsc::Receiver<ShellEvent>,
}

async fn open_shell(
    target: ShellTarget,
    size: TerminalSize,
    timeouts: Timeouts,
) -> Result<Shell, SessionEnd> {
    let (commands, queue) = mpsc::unbounded_channel();
    let events = gateway::open_shell(target, size, timeouts, queue).await?;
    Ok(Shell { commands, events })
}

fn password() -> Credential {
    Credential::Password(TEST_PASSWORD.to_owned())
}

/// Reads output until it contains `needle`; returns everything read.
async fn read_until(shell: &mut Shell, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        match tokio::time::timeout_at(deadline, shell.events.recv()).await {
            Ok(Some(ShellEvent::Output(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("waiting for {needle:?}, got {other:?} after {seen:?}"),
        }
    }
    seen
}

fn type_line(shell: &Shell, line: &str) {
    shell
        .commands
        .send(ShellCommand::Input(format!("{line}\r").into_bytes()))
        .unwrap();
}

#[tokio::test]
async fn a_password_shell_runs_commands_and_follows_resizes() {
    let sshd = Sshd::start();
    let mut shell = open_shell(
        target(sshd.port, &sshd.host_key_fingerprint, password()),
        TerminalSize::INITIAL,
        TIMEOUTS,
    )
    .await
    .unwrap();
    type_line(&shell, "echo $((6*7))");
    read_until(&mut shell, "42").await;
    type_line(&shell, "stty size");
    read_until(&mut shell, "24 80").await;
    shell
        .commands
        .send(ShellCommand::Resize(
            TerminalSize::from_client(132, 43).unwrap(),
        ))
        .unwrap();
    type_line(&shell, "stty size");
    read_until(&mut shell, "43 132").await;
    type_line(&shell, "echo $TERM");
    read_until(&mut shell, "xterm-256color").await;

    type_line(&shell, "exit");
    loop {
        match shell.events.recv().await {
            Some(ShellEvent::Output(_)) => continue,
            Some(ShellEvent::Closed(end)) => {
                assert_eq!(end, Some(SessionEnd::ShellExited));
                break;
            }
            None => panic!("no Closed event"),
        }
    }
}

#[tokio::test]
async fn a_private_key_logs_in_too() {
    let sshd = Sshd::start();
    let key = Credential::PrivateKey(sshd.client_private_key.clone());
    let mut shell = open_shell(
        target(sshd.port, &sshd.host_key_fingerprint, key),
        TerminalSize::INITIAL,
        TIMEOUTS,
    )
    .await
    .unwrap();
    type_line(&shell, "echo key-$((40+2))");
    read_until(&mut shell, "key-42").await;
}

#[tokio::test]
async fn another_host_key_is_refused_before_authenticating() {
    let sshd = Sshd::start();
    let wrong = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";
    assert_ne!(wrong, sshd.host_key_fingerprint);
    let result = open_shell(
        target(sshd.port, wrong, password()),
        TerminalSize::INITIAL,
        TIMEOUTS,
    )
    .await;
    assert_eq!(result.err(), Some(SessionEnd::HostKeyMismatch));
    // Nothing was sent: sshd logged no authentication request (it logs
    // every one, with its user, as the next test's wrong password shows).
    let log = sshd.log();
    assert!(log.contains("Connection from 127.0.0.1"), "{log}");
    assert!(!log.contains(TEST_USER), "{log}");
}

#[tokio::test]
async fn a_wrong_password_is_rejected_by_the_host() {
    let sshd = Sshd::start();
    let wrong = Credential::Password("not-the-password".to_owned());
    let result = open_shell(
        target(sshd.port, &sshd.host_key_fingerprint, wrong),
        TerminalSize::INITIAL,
        TIMEOUTS,
    )
    .await;
    assert_eq!(result.err(), Some(SessionEnd::AuthenticationRejected));
    let log = sshd.log();
    assert!(
        log.contains(&format!("Failed password for {TEST_USER}")),
        "{log}"
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let any = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";
    let result = open_shell(
        target(closed_port(), any, password()),
        TerminalSize::INITIAL,
        TIMEOUTS,
    )
    .await;
    assert_eq!(result.err(), Some(SessionEnd::HostUnreachable));
}

#[tokio::test]
async fn a_silent_peer_is_t_514_after_the_connect_timeout() {
    let silent = SilentListener::start();
    let any = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";
    let timeouts = Timeouts {
        connect: Duration::from_millis(800),
        ..TIMEOUTS
    };
    // Only the connect timeout can end this: a bound well beyond it turns
    // a missing timeout into a failure instead of a hang.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        open_shell(
            target(silent.port, any, password()),
            TerminalSize::INITIAL,
            timeouts,
        ),
    )
    .await
    .expect("the connect timeout did not end the attempt");
    assert_eq!(result.err(), Some(SessionEnd::HostTimeout));
}

#[tokio::test]
async fn a_host_that_stops_answering_is_t_514_after_the_keepalives() {
    let sshd = Sshd::start();
    let timeouts = Timeouts {
        keepalive_interval: Duration::from_millis(500),
        keepalive_max: 2,
        ..TIMEOUTS
    };
    let mut shell = open_shell(
        target(sshd.port, &sshd.host_key_fingerprint, password()),
        TerminalSize::INITIAL,
        timeouts,
    )
    .await
    .unwrap();
    type_line(&shell, "echo alive-$((1+1))");
    read_until(&mut shell, "alive-2").await;
    let frozen = sshd.freeze_connections();
    assert!(!frozen.is_empty());
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(15), shell.events.recv()).await {
            Ok(Some(ShellEvent::Output(_))) => continue,
            Ok(Some(ShellEvent::Closed(end))) => break end,
            other => panic!("expected the shell to close, got {other:?}"),
        }
    };
    kill_frozen(&frozen);
    assert_eq!(end, Some(SessionEnd::HostTimeout));
}
