//! The terminal WebSocket against a real OpenSSH sshd: what the session page
//! does, done by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::time::{Duration, Instant};

use domain::SessionEnd;
use futures::{SinkExt, StreamExt};
use protocol::{ClientMsg, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerEvent, ServerMsg};
use reqwest::StatusCode;
use serde_json::Value;
use serde_json::json;
use support::{
    Browser, FINGERPRINT, Socket, TestServer, connect, ended, output_until, send, signed_in_admin,
    type_line,
};
use test_sshd::{GarbleListener, SilentListener, Sshd, TEST_PASSWORD, TEST_USER, closed_port};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

/// A Tandem with the test sshd as a host, and a session open on it.
struct Fixture {
    server: TestServer,
    admin: Browser,
    session: i64,
    _sshd: Sshd,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn open(adjust: impl FnOnce(&mut services::Config)) -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(dir.path(), adjust).await;
        let admin = signed_in_admin(&server).await;
        let account = admin
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let session = admin.start_session(account).await.unwrap();
        Self {
            server,
            admin,
            session,
            _sshd: sshd,
            _dir: dir,
        }
    }
}

#[tokio::test]
async fn a_shell_through_the_socket_types_resizes_and_survives_a_reload() {
    let Fixture {
        server: _server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|_| {}).await;

    let mut socket = connect(&admin, session).await;
    send(
        &mut socket,
        ClientMsg::Resize {
            cols: 100,
            rows: 30,
        },
    )
    .await;
    type_line(&mut socket, "echo $((6*7))").await;
    output_until(&mut socket, "42").await;
    type_line(&mut socket, "stty size; export MARK=kept").await;
    output_until(&mut socket, "30 100").await;

    // A reload: the socket goes, a new one comes within the grace period,
    // starts from the current screen and reaches the same shell.
    socket.close(None).await.unwrap();
    drop(socket);
    let mut again = connect(&admin, session).await;
    let screen = output_until(&mut again, "30 100").await;
    assert!(screen.contains("42"), "the current screen: {screen:?}");
    type_line(&mut again, "echo $MARK").await;
    output_until(&mut again, "kept").await;

    // Exit session ends it for good and says why.
    admin
        .ok("exit_session", &[("id", &session.to_string())])
        .await;
    assert_eq!(ended(&mut again).await, "S_200");
    let record = admin.ok("session", &[("id", &session.to_string())]).await;
    assert_eq!(record["ended"][0], "S_200");
}

/// What a page counts of the session's output: the offset of the last
/// Reset, then the length of every output after the screen that follows it.
#[derive(Default)]
struct Page {
    offset: u64,
    redrawing: bool,
    output: String,
    resets: usize,
}

impl Page {
    async fn read_until(&mut self, socket: &mut Socket, needle: &str) {
        while !self.output.contains(needle) {
            match support::next(socket).await {
                ServerMsg::Event(ServerEvent::Reset { offset, .. }) => {
                    (self.offset, self.redrawing) = (offset, true);
                    self.resets += 1;
                }
                ServerMsg::Output(_) if self.redrawing => self.redrawing = false,
                ServerMsg::Output(bytes) => {
                    self.offset += bytes.len() as u64;
                    self.output.push_str(&String::from_utf8_lossy(&bytes));
                }
                ServerMsg::Event(_) => {}
            }
        }
    }
}

#[tokio::test]
async fn a_page_that_reconnects_within_the_kept_output_gets_what_it_missed_without_a_redraw() {
    let fixture = Fixture::open(|_| {}).await;
    let (admin, session) = (&fixture.admin, fixture.session);
    let mut first = connect(admin, session).await;
    let mut page = Page::default();
    type_line(&mut first, "echo one-$((1+1))").await;
    page.read_until(&mut first, "one-2").await;
    let (shown, redraws) = (page.offset, page.resets);
    first.close(None).await.unwrap();
    drop(first);

    // While it is away, the session goes on (typed from another tab).
    let mut other = connect(admin, session).await;
    type_line(&mut other, "echo two-$((2+2))").await;
    output_until(&mut other, "two-4").await;

    let mut again = support::reconnect(admin, session, Some(shown)).await;
    page.output.clear();
    page.read_until(&mut again, "two-4").await;
    assert_eq!(page.resets, redraws, "no redraw");
    assert!(
        !page.output.contains("one-2"),
        "nothing it had: {:?}",
        page.output
    );

    // A page that claims more than the session printed is redrawn.
    let mut confused = support::reconnect(admin, session, Some(1 << 40)).await;
    loop {
        if let ServerMsg::Event(ServerEvent::Reset { offset, .. }) =
            support::next(&mut confused).await
        {
            assert!(offset >= page.offset, "{offset} < {}", page.offset);
            break;
        }
    }
}

#[tokio::test]
async fn a_shell_that_exits_ends_the_session() {
    let Fixture {
        server: _server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|_| {}).await;
    let mut socket = connect(&admin, session).await;
    type_line(&mut socket, "exit").await;
    assert_eq!(ended(&mut socket).await, "S_210");
    // An ended session's socket is refused with 410.
    let request = admin.terminal_request(session, Some(&admin.base));
    assert_eq!(refusal_status(request).await, StatusCode::GONE);
}

/// Every way a connection fails ends the session with its own code and
/// message, which the page's socket hears (or, when the failure came
/// first, is refused with 410 and the message) and the session keeps.
#[tokio::test]
async fn each_connection_failure_has_its_code_and_message() {
    let sshd = Sshd::start();
    let silent = SilentListener::start();
    let garble = GarbleListener::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |config| {
        config.connect_timeout = Duration::from_secs(1)
    })
    .await;
    let admin = signed_in_admin(&server).await;
    let pinned = sshd.host_key_fingerprint.as_str();
    let cases = [
        (
            "mismatch",
            sshd.port,
            FINGERPRINT,
            TEST_PASSWORD,
            SessionEnd::HostKeyMismatch,
        ),
        (
            "wrong-password",
            sshd.port,
            pinned,
            "not-the-password",
            SessionEnd::AuthenticationRejected,
        ),
        (
            "closed",
            closed_port(),
            FINGERPRINT,
            TEST_PASSWORD,
            SessionEnd::HostUnreachable,
        ),
        (
            "silent",
            silent.port,
            FINGERPRINT,
            TEST_PASSWORD,
            SessionEnd::HostTimeout,
        ),
        (
            "garbled",
            garble.port,
            FINGERPRINT,
            TEST_PASSWORD,
            SessionEnd::ConnectionFailed,
        ),
    ];
    for (name, port, fingerprint, password, end) in cases {
        let account = admin
            .add_host_with_password(name, port, fingerprint, password)
            .await;
        let session = admin.start_session(account).await.unwrap();
        match tokio_tungstenite::connect_async(
            admin.terminal_request(session, Some(&server.url(""))),
        )
        .await
        {
            Ok((mut socket, _)) => {
                send(
                    &mut socket,
                    ClientMsg::Hello {
                        version: PROTOCOL_VERSION,
                        resume_from: None,
                    },
                )
                .await;
                assert_eq!(ended(&mut socket).await, end.code(), "{name}");
            }
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::GONE, "{name}");
                let body = response.body().as_deref().unwrap_or_default();
                assert_eq!(String::from_utf8_lossy(body), end.message(), "{name}");
            }
            Err(error) => panic!("{name}: {error}"),
        }
        assert_eq!(stored_end(&admin, session).await, end.code(), "{name}");
        let record = admin.ok("session", &[("id", &session.to_string())]).await;
        assert_eq!(
            record["ended"],
            json!([end.code(), end.message()]),
            "{name}"
        );
        if end == SessionEnd::HostKeyMismatch {
            // The host key is checked before any credential is sent: the
            // sshd saw no authentication request at all.
            let log = sshd.log();
            assert!(!log.contains(TEST_USER), "{log}");
        }
    }
    // Against the same sshd, a login that was tried shows in its log.
    assert!(
        sshd.log()
            .contains(&format!("Failed password for {TEST_USER}")),
        "{}",
        sshd.log()
    );
}

#[tokio::test]
async fn the_socket_refuses_strangers_and_bad_frames_harm_nothing_else() {
    let Fixture {
        server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|_| {}).await;

    // Another site's page, no Origin, no sign-in or no such session:
    // refused before upgrading, each with its own status.
    let this_site = server.url("");
    for (request, status) in [
        (
            admin.terminal_request(session, Some("http://evil.example")),
            StatusCode::FORBIDDEN,
        ),
        (admin.terminal_request(session, None), StatusCode::FORBIDDEN),
        (
            server.browser().terminal_request(session, Some(&this_site)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            admin.terminal_request(session + 1000, Some(&this_site)),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(refusal_status(request).await, status);
    }

    // The first message must be Hello with this protocol version.
    let mut silent_about_itself = raw_socket(&admin, session).await;
    send(&mut silent_about_itself, ClientMsg::Input(b"ls\n".to_vec())).await;
    assert_close(
        &mut silent_about_itself,
        CloseCode::Protocol,
        "the first message must be hello",
    )
    .await;
    let mut outdated = raw_socket(&admin, session).await;
    send(
        &mut outdated,
        ClientMsg::Hello {
            version: 4,
            resume_from: None,
        },
    )
    .await;
    assert_close(
        &mut outdated,
        CloseCode::Protocol,
        "protocol version 4 is not supported",
    )
    .await;
    // Someone else's session: 403.
    admin
        .ok(
            "admin/create_user",
            &[
                ("username", "bob"),
                ("display_name", "Bob"),
                ("role", "operator"),
                ("password", "bob-password"),
            ],
        )
        .await;
    let bob = server.browser();
    bob.log_in("bob", "bob-password").await;
    match tokio_tungstenite::connect_async(bob.terminal_request(session, Some(&server.url(""))))
        .await
    {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }

    let mut healthy = connect(&admin, session).await;
    let mut oversized = connect(&admin, session).await;
    let mut huge = vec![0u8; MAX_FRAME_BYTES + 100];
    huge[0] = 0;
    oversized.send(Message::binary(huge)).await.unwrap();
    assert_close(&mut oversized, CloseCode::Size, "exceeds the limit").await;
    let mut malformed = connect(&admin, session).await;
    malformed
        .send(Message::binary(vec![1u8, b'{']))
        .await
        .unwrap();
    assert_close(&mut malformed, CloseCode::Invalid, "malformed message").await;
    let mut texty = connect(&admin, session).await;
    texty.send(Message::text("ls")).await.unwrap();
    assert_close(&mut texty, CloseCode::Unsupported, "binary frames only").await;

    type_line(&mut healthy, "echo still-$((40+2))").await;
    output_until(&mut healthy, "still-42").await;
}

/// The status of a terminal socket request refused before upgrading.
async fn refusal_status(request: tungstenite::handshake::client::Request) -> StatusCode {
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => response.status(),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

/// A terminal socket of this site that has sent nothing yet.
async fn raw_socket(browser: &Browser, session: i64) -> Socket {
    let request = browser.terminal_request(session, Some(&browser.base));
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn assert_close(socket: &mut Socket, code: CloseCode, reason: &str) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, code);
                assert!(frame.reason.contains(reason), "{}", frame.reason);
                return;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_creator_who_does_not_come_back_ends_the_session() {
    let Fixture {
        server: _server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|config| config.reconnect_grace = Duration::from_secs(2)).await;
    let mut socket = connect(&admin, session).await;
    type_line(&mut socket, "echo hi").await;
    output_until(&mut socket, "hi").await;
    drop(socket);
    assert_eq!(stored_end(&admin, session).await, "S_408");
}

/// Waits until the stored session has ended, and returns its end code.
async fn stored_end(admin: &Browser, session: i64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let record: Value = admin.ok("session", &[("id", &session.to_string())]).await;
        if let Some(code) = record["ended"][0].as_str() {
            return code.to_owned();
        }
        assert!(Instant::now() < deadline, "still live: {record}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_creator_who_never_attaches_ends_the_session() {
    let Fixture {
        server: _server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|config| config.reconnect_grace = Duration::from_millis(300)).await;
    assert_eq!(stored_end(&admin, session).await, "S_408");
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_number_of_active_sessions() {
    let Fixture {
        server: _server,
        admin,
        session: _first,
        _sshd,
        _dir,
    } = Fixture::open(|config| config.max_live_sessions_per_user = 2).await;
    // Another host account: the cap counts sessions, whatever they are on.
    let account = admin
        .add_test_host("sshd-2", _sshd.port, &_sshd.host_key_fingerprint)
        .await;
    let second = admin.start_session(account).await.unwrap();
    let (status, body) = admin
        .call(
            "start_session",
            &[("host_account_id", &account.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"Conflict": "you already have 2 active sessions, the most allowed: \
            exit one before opening another"})
    );
    // Ending one makes room for another.
    admin
        .ok("exit_session", &[("id", &second.to_string())])
        .await;
    assert_eq!(stored_end(&admin, second).await, "S_200");
    admin.start_session(account).await.unwrap();
}

#[tokio::test]
async fn terminal_sizes_are_bounded() {
    let Fixture {
        server: _server,
        admin,
        session,
        _sshd,
        _dir,
    } = Fixture::open(|_| {}).await;
    let mut socket = connect(&admin, session).await;
    // Larger than the maximum: the host gets the maximum.
    send(
        &mut socket,
        ClientMsg::Resize {
            cols: domain::MAX_COLS + 100,
            rows: domain::MAX_ROWS + 100,
        },
    )
    .await;
    type_line(&mut socket, "stty size").await;
    output_until(&mut socket, "200 500").await;
    // Absurd: refused with a reason, and the shell goes on at its size.
    send(
        &mut socket,
        ClientMsg::Resize {
            cols: u16::MAX,
            rows: u16::MAX,
        },
    )
    .await;
    assert_close(
        &mut socket,
        CloseCode::Policy,
        "terminal size 65535x65535 is out of range: each side must be from 1 to 10000",
    )
    .await;
    let mut again = connect(&admin, session).await;
    type_line(&mut again, "stty size").await;
    output_until(&mut again, "200 500").await;
}
