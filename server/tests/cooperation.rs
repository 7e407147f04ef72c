//! Sharing a live session over real WebSockets against a real OpenSSH
//! sshd: invitations, entering, control handover and its enforcement, being
//! forced out, and a stalled viewer who must not hold anyone up.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

#[path = "../../crates/services/tests/postgres/mod.rs"]
mod postgres;
mod support;

use std::time::Duration;

use futures::StreamExt;
use protocol::{ClientMsg, Panel, ServerEvent, ServerMsg};
use serde_json::Value;
use support::{
    Browser, Socket, TestServer, connect, ended, id_where, next, operator, output_until, send,
    signed_in_admin, type_line,
};
use test_sshd::{Sshd, kill_frozen};

/// A Tandem with the test sshd as a host; the admin (the creator) has a
/// session open and a socket on it; Alice and Bob hold the grant, Carol
/// does not.
struct Shared {
    server: TestServer,
    creator: Browser,
    creator_socket: Socket,
    session: i64,
    alice: Browser,
    bob: Browser,
    carol: Browser,
    sshd: Sshd,
    _dir: tempfile::TempDir,
}

impl Shared {
    async fn open(adjust: impl FnOnce(&mut services::Config)) -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(dir.path(), adjust).await;
        let creator = signed_in_admin(&server).await;
        let account = creator
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let mut users = Vec::new();
        for (name, granted) in [("alice", true), ("bob", true), ("carol", false)] {
            users.push(operator(&server, &creator, name, granted.then_some(account)).await);
        }
        let session = creator.start_session(account).await.unwrap();
        let mut creator_socket = connect(&creator, session).await;
        type_line(&mut creator_socket, "echo before-$((20+1))").await;
        output_until(&mut creator_socket, "before-21").await;
        let [alice, bob, carol] = <[Browser; 3]>::try_from(users).ok().unwrap();
        Self {
            server,
            creator,
            creator_socket,
            session,
            alice,
            bob,
            carol,
            sshd,
            _dir: dir,
        }
    }

    fn id(&self) -> String {
        self.session.to_string()
    }

    /// Invite friends, as the creator: the invitation code.
    async fn share(&self, password: &str) -> String {
        let share = self
            .creator
            .ok(
                "create_share",
                &[
                    ("id", &self.id()),
                    ("validity", "1h"),
                    ("password", password),
                ],
            )
            .await;
        let code = share["code"].as_str().unwrap().to_owned();
        assert_eq!(
            share["url"],
            format!("http://127.0.0.1:3000/invite/{code}"),
            "{share}"
        );
        code
    }
}

/// The refusal code of a failed server function call.
/// The refusal's code, checked to come with its documented status.
async fn refusal(browser: &Browser, endpoint: &str, form: &[(&str, &str)]) -> String {
    let (status, body) = browser.call(endpoint, form).await;
    let code = body["Refused"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not a refusal: {status} {body}"));
    let refusal = domain::JoinRefusal::from_code(code).unwrap();
    assert_eq!(status.as_u16(), refusal.http_status(), "{code}");
    code.to_owned()
}

async fn enter(browser: &Browser, code: &str, password: &str) {
    browser
        .ok("enter_share", &[("code", code), ("password", password)])
        .await;
}

/// The next panel on a socket, skipping output.
async fn panel(socket: &mut Socket) -> Panel {
    loop {
        if let ServerMsg::Event(ServerEvent::Panel(panel)) = next(socket).await {
            return panel;
        }
    }
}

/// Reads panels until one satisfies `test`.
async fn panel_where(socket: &mut Socket, test: impl Fn(&Panel) -> bool) -> Panel {
    loop {
        let panel = panel(socket).await;
        if test(&panel) {
            return panel;
        }
    }
}

/// Reads notices until one contains `needle`.
async fn notice(socket: &mut Socket, needle: &str) {
    loop {
        if let ServerMsg::Event(ServerEvent::Notice { message }) = next(socket).await
            && message.contains(needle)
        {
            return;
        }
    }
}

/// Reads until the server says this viewer is out, and the socket closes:
/// the message, and whether the page may offer Enter again.
async fn left(socket: &mut Socket) -> (String, bool) {
    loop {
        if let ServerMsg::Event(ServerEvent::Left {
            message,
            may_enter_again,
        }) = next(socket).await
        {
            let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .unwrap();
            assert!(
                matches!(
                    closed,
                    None | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
                ),
                "{closed:?}"
            );
            return (message, may_enter_again);
        }
    }
}

fn user_id(panel: &Panel, name: &str) -> i64 {
    panel
        .participants
        .iter()
        .find(|participant| participant.name == name)
        .unwrap_or_else(|| panic!("{name} is not in {panel:?}"))
        .id
}

#[tokio::test]
async fn invited_users_enter_take_turns_in_control_and_are_forced_out() {
    invited_users_journey(Shared::open(|_| {}).await).await;
}

#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn the_invited_users_journey_runs_on_postgresql() {
    postgres::with_database("tandem_cooperation", |url| async move {
        invited_users_journey(Shared::open(|config| config.database_url = Some(url)).await).await;
    })
    .await;
}

async fn invited_users_journey(mut shared: Shared) {
    let id = shared.id();
    let code = shared.share("").await;
    // Opening the dialog again shows the same invitation.
    let again = shared.creator.ok("session_share", &[("id", &id)]).await;
    assert_eq!(again["code"], code.as_str());

    // Carol holds no grant: refused, and it is recorded.
    assert_eq!(
        refusal(&shared.carol, "invitation", &[("code", &code)]).await,
        "J_403"
    );
    assert_eq!(
        refusal(
            &shared.carol,
            "enter_share",
            &[("code", &code), ("password", "")]
        )
        .await,
        "J_403"
    );

    let invitation = shared.alice.ok("invitation", &[("code", &code)]).await;
    assert_eq!(invitation["inviter"], "Administrator");
    assert_eq!(invitation["login"], test_sshd::TEST_USER);
    assert_eq!(invitation["participants"][0], "Administrator");
    assert_eq!(invitation["needs_password"], false);
    enter(&shared.alice, &code, "").await;

    // Alice sees the current screen at once, and the panel.
    let mut alice = connect(&shared.alice, shared.session).await;
    output_until(&mut alice, "before-21").await;
    let seen = panel_where(&mut shared.creator_socket, |panel| {
        panel.participants.len() == 2
    })
    .await;
    let alice_id = user_id(&seen, "ALICE");
    assert_eq!(seen.controller, seen.creator);

    // Her keystrokes and resizes, sent by hand, never reach the host.
    type_line(&mut alice, "echo typed-by-$((1+1))-alice").await;
    send(&mut alice, ClientMsg::Resize { cols: 33, rows: 11 }).await;
    type_line(
        &mut shared.creator_socket,
        "stty size; echo marker-$((3*3))",
    )
    .await;
    let screen = output_until(&mut shared.creator_socket, "marker-9").await;
    assert!(!screen.contains("typed-by-2"), "{screen}");
    assert!(!screen.contains("11 33"), "{screen}");

    // Apply for control, Refuse; apply again, Agree.
    shared.alice.ok("request_control", &[("id", &id)]).await;
    let (status, _) = shared.alice.call("request_control", &[("id", &id)]).await;
    assert!(!status.is_success(), "one pending request per user");
    panel_where(&mut shared.creator_socket, |panel| {
        panel.requests == [alice_id]
    })
    .await;
    let alice_id_text = alice_id.to_string();
    let answer = [("id", id.as_str()), ("requester", alice_id_text.as_str())];
    shared.creator.ok("refuse_control", &answer).await;
    notice(&mut alice, "refused").await;
    shared.alice.ok("request_control", &[("id", &id)]).await;
    shared.creator.ok("agree_control", &answer).await;
    notice(&mut alice, "you have control").await;
    // Agreeing twice hands over nothing more.
    let (status, _) = shared.creator.call("agree_control", &answer).await;
    assert!(!status.is_success());

    // Now Alice types and the creator sees it; the creator's input is dropped.
    type_line(&mut shared.creator_socket, "echo creator-$((5+5))").await;
    type_line(&mut alice, "echo alice-$((6*7))").await;
    let screen = output_until(&mut shared.creator_socket, "alice-42").await;
    assert!(!screen.contains("creator-10"), "{screen}");

    // Release control: back to the creator.
    shared.alice.ok("release_control", &[("id", &id)]).await;
    panel_where(&mut shared.creator_socket, |panel| {
        panel.controller == panel.creator
    })
    .await;

    // Exit session, then Enter again while the share lives.
    shared.alice.ok("exit_session", &[("id", &id)]).await;
    let (message, may_enter_again) = left(&mut alice).await;
    assert!(message.contains("You left the session"), "{message}");
    assert!(may_enter_again);
    let (status, _) = shared.alice.call("session", &[("id", &id)]).await;
    assert!(!status.is_success(), "out means out");
    enter(&shared.alice, &code, "").await;
    let mut alice = connect(&shared.alice, shared.session).await;
    enter(&shared.bob, &code, "").await;
    let mut bob = connect(&shared.bob, shared.session).await;
    panel(&mut bob).await;

    // Cancel share forces both out; the creator goes on; the URL is refused.
    shared.creator.ok("cancel_share", &[("id", &id)]).await;
    for socket in [&mut alice, &mut bob] {
        let (message, may_enter_again) = left(socket).await;
        assert!(message.contains("cancelled the share"), "{message}");
        assert!(
            !may_enter_again,
            "no Enter again after the share was cancelled"
        );
    }
    assert_eq!(
        refusal(&shared.alice, "invitation", &[("code", &code)]).await,
        "J_409"
    );
    assert!(
        tokio_tungstenite::connect_async(
            shared
                .alice
                .terminal_request(shared.session, Some(&shared.server.url("")))
        )
        .await
        .is_err()
    );
    type_line(&mut shared.creator_socket, "echo still-$((50+5))").await;
    output_until(&mut shared.creator_socket, "still-55").await;

    // A new share; the creator's Exit session ends it for everyone.
    let code = shared.share("").await;
    enter(&shared.bob, &code, "").await;
    let mut bob = connect(&shared.bob, shared.session).await;
    shared.creator.ok("exit_session", &[("id", &id)]).await;
    assert_eq!(ended(&mut bob).await, "S_200");
    assert_eq!(
        refusal(&shared.bob, "invitation", &[("code", &code)]).await,
        "J_440"
    );

    // The creator reads who came and who was refused.
    let records = shared.creator.ok("join_records", &[("id", &id)]).await;
    let outcomes: Vec<(String, Value)> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            (
                record["username"].as_str().unwrap().to_owned(),
                record["refusal"][0].clone(),
            )
        })
        .collect();
    let entries = |name: &str| {
        outcomes
            .iter()
            .filter(|(user, refusal)| user == name && refusal.is_null())
            .count()
    };
    assert_eq!(entries("alice"), 2, "{records}");
    assert_eq!(entries("bob"), 2, "{records}");
    assert!(outcomes.contains(&("carol".to_owned(), Value::from("J_403"))));
    assert!(outcomes.contains(&("alice".to_owned(), Value::from("J_409"))));
    assert!(outcomes.contains(&("bob".to_owned(), Value::from("J_440"))));
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .filter(|record| record["refusal"].is_null())
            .all(|record| record["left_at"].is_string()),
        "every entry has left: {records}"
    );
    // Others may not read them.
    let (status, _) = shared.alice.call("join_records", &[("id", &id)]).await;
    assert!(!status.is_success());
}

#[tokio::test]
async fn passwords_codes_and_attempts_are_checked() {
    let shared = Shared::open(|_| {}).await;
    let code = shared.share("open-sesame").await;
    let invitation = shared.alice.ok("invitation", &[("code", &code)]).await;
    assert_eq!(invitation["needs_password"], true);
    assert_eq!(
        refusal(
            &shared.alice,
            "enter_share",
            &[("code", &code), ("password", "nope")]
        )
        .await,
        "J_401"
    );
    enter(&shared.alice, &code.to_lowercase(), "open-sesame").await;
    // Guessing codes is limited per user: after five failures even the
    // right code is refused for a while.
    for guess in ["AAAAAAAA", "BBBBBBBB", "short", "CCCCCCCC", "DDDDDDDD"] {
        assert_eq!(
            refusal(&shared.bob, "invitation", &[("code", guess)]).await,
            "J_404"
        );
    }
    assert_eq!(
        refusal(&shared.bob, "invitation", &[("code", &code)]).await,
        "J_429"
    );
    // Wrong invitation passwords count the same way.
    let accounts = shared.creator.ok("admin/list_host_accounts", &[]).await;
    let account = id_where(&accounts, "host_name", "sshd");
    let dave = operator(&shared.server, &shared.creator, "dave", Some(account)).await;
    for password in ["guess", "guess", "guess", "guess", "guess", "open-sesame"] {
        let expected = if password == "guess" {
            "J_401"
        } else {
            "J_429"
        };
        let form = [("code", code.as_str()), ("password", password)];
        assert_eq!(refusal(&dave, "enter_share", &form).await, expected);
    }
}

#[tokio::test]
async fn an_unanswered_request_times_out() {
    let mut shared =
        Shared::open(|config| config.control_request_timeout = Duration::from_millis(300)).await;
    let id = shared.id();
    let code = shared.share("").await;
    enter(&shared.alice, &code, "").await;
    let mut alice = connect(&shared.alice, shared.session).await;
    shared.alice.ok("request_control", &[("id", &id)]).await;
    notice(&mut alice, "timed out").await;
    panel_where(&mut shared.creator_socket, |panel| {
        panel.requests.is_empty()
    })
    .await;
}

/// With the default timeout, which none of these steps can race.
#[tokio::test]
async fn a_leaving_controller_returns_control_and_the_creator_takes_it_back() {
    let mut shared = Shared::open(|_| {}).await;
    let id = shared.id();
    let code = shared.share("").await;
    enter(&shared.alice, &code, "").await;
    let alice = connect(&shared.alice, shared.session).await;

    // Alice gets control, then her connection drops: it returns to the
    // creator, whose input reaches the host again.
    shared.alice.ok("request_control", &[("id", &id)]).await;
    let waiting = panel_where(&mut shared.creator_socket, |panel| {
        !panel.requests.is_empty()
    })
    .await;
    let alice_id = user_id(&waiting, "ALICE").to_string();
    shared
        .creator
        .ok("agree_control", &[("id", &id), ("requester", &alice_id)])
        .await;
    drop(alice);
    panel_where(&mut shared.creator_socket, |panel| {
        panel.controller == panel.creator && panel.participants.iter().any(|p| !p.online)
    })
    .await;
    type_line(&mut shared.creator_socket, "echo back-$((7*11))").await;
    output_until(&mut shared.creator_socket, "back-77").await;
    // The creator may also take control back at any time.
    let mut alice = connect(&shared.alice, shared.session).await;
    shared.alice.ok("request_control", &[("id", &id)]).await;
    shared
        .creator
        .ok("agree_control", &[("id", &id), ("requester", &alice_id)])
        .await;
    shared.creator.ok("take_control_back", &[("id", &id)]).await;
    notice(&mut alice, "took control back").await;
}

#[tokio::test]
async fn a_stalled_viewer_holds_nobody_up_and_is_brought_back() {
    let mut shared = Shared::open(|_| {}).await;
    let code = shared.share("").await;
    enter(&shared.alice, &code, "").await;
    enter(&shared.bob, &code, "").await;
    // Alice's browser stops reading; Bob's keeps up.
    let mut stalled = connect(&shared.alice, shared.session).await;
    let mut bob = connect(&shared.bob, shared.session).await;
    type_line(
        &mut shared.creator_socket,
        "seq 1 3000000; echo flood-$((400+4))",
    )
    .await;
    output_until(&mut bob, "flood-404").await;
    output_until(&mut shared.creator_socket, "flood-404").await;
    // Reading again, Alice is brought back to the current screen.
    let mut reset = false;
    loop {
        match next(&mut stalled).await {
            ServerMsg::Event(ServerEvent::Reset { .. }) => reset = true,
            ServerMsg::Output(bytes)
                if reset && String::from_utf8_lossy(&bytes).contains("flood-404") =>
            {
                break;
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_host_that_goes_silent_ends_the_shared_session_for_everyone_as_t_514() {
    let mut shared = Shared::open(|config| {
        config.keepalive_interval = Duration::from_millis(500);
        config.keepalive_max = 2;
    })
    .await;
    let code = shared.share("").await;
    enter(&shared.alice, &code, "").await;
    let mut alice = connect(&shared.alice, shared.session).await;
    output_until(&mut alice, "before-21").await;
    let frozen = shared.sshd.freeze_connections();
    assert_eq!(ended(&mut shared.creator_socket).await, "T_514");
    assert_eq!(ended(&mut alice).await, "T_514");
    kill_frozen(&frozen);
    let (_, body) = shared.bob.call("invitation", &[("code", &code)]).await;
    assert_eq!(body["Refused"]["code"], "J_440", "{body}");
    let message = body["Refused"]["message"].as_str().unwrap();
    assert!(
        message.contains("Connection error (T_514): the server has not responded for a long time"),
        "{message}"
    );
}
