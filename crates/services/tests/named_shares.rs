//! Session windows and named shares, against a real OpenSSH sshd, the real
//! session clock, SQLite and (for email) a real SMTP server process: the
//! owner schedules a session and adds colleagues by name; they see it on
//! My Sessions, are notified, and View it live once the clock starts it.
//! Only the owner extends, stops, cancels or shares it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod postgres;
mod smtp;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use domain::{
    AuditKind, AuditOutcome, AuditQuery, AuditRecord, HostAccountId, MemberRecord, OmSessionId,
    SessionStatus, SessionUse, UserId,
};
use protocol::{Panel, ServerEvent, ServerMsg};
use services::{Actor, Admin, Attachment, Config, HostForm, NamedShare, ServiceError, Services};
use test_sshd::{Sshd, TEST_PASSWORD, TEST_USER};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The longest any one wait for the clock, the shell or the mail may take.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

fn admin() -> Admin {
    Admin::command_line()
}

fn password_of(name: &str) -> String {
    format!("{name}-password")
}

/// A Tandem with two projects on one real sshd, and its users:
/// - olivia, who owns the sessions, and peter hold grants in "web";
/// - xavier holds a grant in "billing" only: outside the sessions' project;
/// - nora holds no grant at all and has no email address.
struct Fixture {
    services: Services,
    /// The account on "web-1" that olivia's sessions use.
    account: HostAccountId,
    owner: Actor,
    peter: Actor,
    xavier: Actor,
    nora: Actor,
    _sshd: Sshd,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            admin_password: Some("first-admin-pw".to_owned()),
            ..Config::with_data_dir(dir.path())
        };
        adjust(&mut config);
        let (services, _) = Services::start(config).await.unwrap();
        let account = test_account(&services, &sshd, "web").await;
        let billing = test_account(&services, &sshd, "billing").await;
        let owner = user(&services, "olivia", "Olivia Owner", Some(account)).await;
        let peter = user(&services, "peter", "Peter Parker", Some(account)).await;
        let xavier = user(&services, "xavier", "Xavier Outsider", Some(billing)).await;
        let nora = user(&services, "nora", "Nora Nobody", None).await;
        services
            .set_user_email(admin(), peter.id, "peter.parker@example.com")
            .await
            .unwrap();
        services
            .set_user_email(admin(), xavier.id, "xavier@example.org")
            .await
            .unwrap();
        Self {
            services,
            account,
            owner,
            peter,
            xavier,
            nora,
            _sshd: sshd,
            _dir: dir,
        }
    }

    /// A session of olivia's on "web-1", scheduled to start at `start`.
    async fn schedule(&self, title: &str, start: DateTime<Utc>, length: Duration) -> OmSessionId {
        self.services
            .schedule_session(&self.owner, self.account, title, start, length)
            .await
            .unwrap()
    }

    /// A NamedShare of `users` with a note and nothing else.
    fn share(users: &[&Actor], note: &str) -> NamedShare {
        NamedShare {
            users: users.iter().map(|user| user.id).collect(),
            note: note.to_owned(),
            session_use: None,
            password: String::new(),
        }
    }

    /// The same, for users outside the project: with a Session Use answer
    /// and the owner's password.
    fn share_outside(users: &[&Actor], note: &str, password: &str) -> NamedShare {
        NamedShare {
            session_use: Some(session_use()),
            password: password.to_owned(),
            ..Self::share(users, note)
        }
    }

    async fn audit(&self, query: AuditQuery) -> Vec<AuditRecord> {
        self.services
            .audit_rows(admin(), &query, 500)
            .await
            .unwrap()
    }

    async fn audit_of_session(&self, id: OmSessionId, kind: AuditKind) -> Vec<AuditRecord> {
        self.audit(AuditQuery {
            session: Some(id),
            kind: Some(kind),
            ..AuditQuery::default()
        })
        .await
    }
}

fn session_use() -> SessionUse {
    SessionUse::parse("Customer demo", "Acme Corp", "quarterly review").unwrap()
}

/// A project named `name` with host `name-1` on the test sshd and an
/// account for its test user, as server/tests/support's add_test_host.
async fn test_account(services: &Services, sshd: &Sshd, name: &str) -> HostAccountId {
    let project = services.create_project(admin(), name, "").await.unwrap();
    let port = sshd.port.to_string();
    let host = services
        .create_host(
            admin(),
            HostForm {
                project_id: project,
                name: &format!("{name}-1"),
                address: "127.0.0.1",
                port: &port,
                host_key: &sshd.host_key_fingerprint,
            },
        )
        .await
        .unwrap();
    services
        .create_host_account(admin(), host, TEST_USER, "password", TEST_PASSWORD)
        .await
        .unwrap()
}

/// An operator, signed in, with a grant on `account` if given.
async fn user(
    services: &Services,
    name: &str,
    display_name: &str,
    account: Option<HostAccountId>,
) -> Actor {
    let id = services
        .create_user(admin(), name, display_name, "operator", &password_of(name))
        .await
        .unwrap();
    if let Some(account) = account {
        services.create_grant(admin(), id, account).await.unwrap();
    }
    // As the web layer loads a signed-in user for each request: signing
    // in (another argon2 hash, slow in debug builds) is tested elsewhere.
    services
        .actor(id)
        .await
        .unwrap()
        .unwrap()
        .with_address(LOCALHOST)
}

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|error| panic!("{rfc3339:?}: {error}"))
        .with_timezone(&Utc)
}

/// Asks `probe` every 50 ms until it answers, for at most PATIENCE.
async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A browser's view of a live session: the frames meant for one user.
struct Viewer {
    user: UserId,
    attachment: Attachment,
    /// The initial frames, not read yet.
    pending: std::collections::VecDeque<ServerMsg>,
    /// All terminal output seen so far.
    output: String,
}

impl Viewer {
    fn new(user: UserId, attachment: Attachment) -> Self {
        let pending = attachment
            .initial
            .iter()
            .filter(|frame| frame.is_for(user))
            .map(|frame| ServerMsg::decode(&frame.bytes).unwrap())
            .collect();
        Self {
            user,
            attachment,
            pending,
            output: String::new(),
        }
    }

    async fn attach(services: &Services, actor: &Actor, id: OmSessionId) -> Self {
        let (_, attachment) = services.attach_terminal(actor, id).await.unwrap();
        Self::new(actor.id, attachment)
    }

    /// The next message for this user; output is also kept in `output`.
    async fn next(&mut self) -> ServerMsg {
        let message = match self.pending.pop_front() {
            Some(message) => message,
            None => loop {
                let frame = tokio::time::timeout(PATIENCE, self.attachment.frames.recv())
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "no frame within {PATIENCE:?}; output so far: {}",
                            self.output
                        )
                    })
                    .unwrap();
                if frame.is_for(self.user) {
                    break ServerMsg::decode(&frame.bytes).unwrap();
                }
            },
        };
        if let ServerMsg::Output(bytes) = &message {
            self.output.push_str(&String::from_utf8_lossy(bytes));
        }
        message
    }

    async fn wait_for_output(&mut self, text: &str) {
        while !self.output.contains(text) {
            if let ServerMsg::Event(
                event @ (ServerEvent::Ended { .. } | ServerEvent::Left { .. }),
            ) = self.next().await
            {
                panic!(
                    "{event:?} before {text:?} was shown; output: {}",
                    self.output
                );
            }
        }
    }

    /// The next event that is not a panel (panels arrive on their own
    /// channel too, see `wait_for_panel`).
    async fn wait_for_event(&mut self, wanted: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
        loop {
            if let ServerMsg::Event(event) = self.next().await
                && wanted(&event)
            {
                return event;
            }
        }
    }

    /// The current panel once it satisfies `wanted`.
    async fn wait_for_panel(&mut self, what: &str, wanted: impl Fn(&Panel) -> bool) -> Panel {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let current = self.attachment.panel.borrow_and_update().bytes.clone();
            match ServerMsg::decode(&current).unwrap() {
                ServerMsg::Event(ServerEvent::Panel(panel)) if wanted(&panel) => return panel,
                _ => {}
            }
            let changed = tokio::time::timeout_at(deadline, self.attachment.panel.changed());
            changed
                .await
                .unwrap_or_else(|_| panic!("waited {PATIENCE:?} for a panel where {what}"))
                .unwrap();
        }
    }
}

fn participant_ids(panel: &Panel) -> Vec<i64> {
    panel
        .participants
        .iter()
        .map(|participant| participant.id)
        .collect()
}

#[tokio::test]
async fn a_scheduled_session_shared_by_name_goes_live_for_the_added_user() {
    let f = Fixture::start().await;
    let services = &f.services;
    let start = Utc::now() + Duration::seconds(3);
    let id = f.schedule("Fix nginx", start, Duration::minutes(30)).await;

    let mine = services.my_sessions(&f.owner).await.unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let row = &mine[0];
    assert_eq!(
        (row.id, row.status, row.title.as_str(), row.viewer_is_owner),
        (id, SessionStatus::Scheduled, "Fix nginx", true)
    );
    assert_eq!(
        (row.host_name.as_str(), row.login.as_str()),
        ("web-1", TEST_USER)
    );
    assert_eq!(row.owner, "olivia");
    assert_eq!(time(&row.start), start);
    assert_eq!(
        time(row.end.as_deref().unwrap()),
        start + Duration::minutes(30)
    );
    assert!(row.members.is_empty() && row.failure.is_none());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    // Nothing runs yet, so there is nothing to View.
    assert!(matches!(
        services.view_session(&f.owner, id, LOCALHOST).await,
        Err(ServiceError::NotFound("live session"))
    ));

    // Peter holds a grant in the project: no Session Use, no password.
    let note = "Please look at the error log with me.";
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], note))
        .await
        .unwrap();
    let members = &services.my_sessions(&f.owner).await.unwrap()[0].members;
    assert_eq!(
        members,
        &[MemberRecord {
            user: f.peter.id,
            username: "peter".to_owned(),
            display_name: "Peter Parker".to_owned(),
        }]
    );
    let shared = services.my_sessions(&f.peter).await.unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    let row = &shared[0];
    assert_eq!(
        (row.id, row.status, row.title.as_str(), row.viewer_is_owner),
        (
            id,
            SessionStatus::Scheduled,
            "Fix nginx (shared by olivia)",
            false
        )
    );
    assert_eq!(row.owner, "olivia");
    assert!(row.members.is_empty(), "only the owner sees who else is in");
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 1);
    assert_eq!(
        notes[0].text,
        "olivia shared the session Fix nginx with you."
    );
    assert_eq!(
        (notes[0].link.as_str(), notes[0].read),
        ("/my-sessions", false)
    );
    // The session page opens for him before the start, too.
    let record = services.session_record(&f.peter, id).await.unwrap();
    assert_eq!(
        (record.title.as_str(), record.viewer_is_creator),
        ("Fix nginx", false)
    );
    assert!(
        Utc::now() < start,
        "the setup took longer than the 3 s before the start; the test proves nothing"
    );

    // The clock opens the shell at the start, not before.
    let active_at = eventually("the clock to start the session", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        (rows[0].status == SessionStatus::Active).then(Utc::now)
    })
    .await;
    assert!(active_at >= start, "active at {active_at}, before {start}");
    assert_eq!(
        services.my_sessions(&f.peter).await.unwrap()[0].status,
        SessionStatus::Active
    );
    let notes = eventually("the notification that it is active", async || {
        let (notes, unread) = services.notifications(&f.peter).await.unwrap();
        (unread == 2).then_some(notes)
    })
    .await;
    assert_eq!(
        notes[0].text,
        "Fix nginx (olivia) is active: View it on My Sessions."
    );
    services.mark_notifications_read(&f.peter).await.unwrap();
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 0);
    assert!(notes.iter().all(|note| note.read));

    let (session, attachment) = services.attach_terminal(&f.owner, id).await.unwrap();
    let mut olivia = Viewer::new(f.owner.id, attachment);
    // Peter is not in until he Views it; then he is a participant.
    assert!(matches!(
        services.attach_terminal(&f.peter, id).await,
        Err(ServiceError::Forbidden)
    ));
    services
        .view_session(&f.peter, id, LOCALHOST)
        .await
        .unwrap();
    let mut peter = Viewer::attach(services, &f.peter, id).await;
    let panel = peter
        .wait_for_panel("peter is in", |panel| {
            participant_ids(panel) == [f.owner.id.0, f.peter.id.0]
        })
        .await;
    assert_eq!(panel.creator, f.owner.id.0);
    assert_eq!(
        time(panel.ends_at.as_deref().unwrap()),
        start + Duration::minutes(30)
    );
    assert!(!panel.ending_soon, "30 minutes are left");
    let joined = f.audit_of_session(id, AuditKind::Joined).await;
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!(
        (joined[0].actor.as_str(), joined[0].detail.as_str()),
        ("peter", "named share")
    );

    // He sees what the owner types, live, from the real shell.
    assert!(session.input(f.owner.id, b"echo shared-$((6*7))\r".to_vec()));
    peter.wait_for_output("shared-42").await;
    // He works in it as the owner does once given control.
    assert!(!session.input(f.peter.id, b"echo no\r".to_vec()));
    services.request_control(&f.peter, id).await.unwrap();
    services
        .answer_control_request(&f.owner, id, f.peter.id, true)
        .await
        .unwrap();
    assert!(session.input(f.peter.id, b"echo member-$((2+3))\r".to_vec()));
    olivia.wait_for_output("member-5").await;
    peter.wait_for_output("member-5").await;

    // Cancelling an invitation forces out who came in through it, not
    // who the owner added by name.
    let ivan = user(services, "ivan", "Ivan Invited", Some(f.account)).await;
    let validity = domain::ShareValidity::TenMinutes;
    let invitation = services
        .create_share(&f.owner, id, validity, None)
        .await
        .unwrap();
    let entered = services
        .enter_share(&ivan, &invitation.code, "", LOCALHOST)
        .await
        .unwrap();
    assert_eq!(entered, id);
    peter
        .wait_for_panel("ivan came in", |panel| {
            participant_ids(panel) == [f.owner.id.0, f.peter.id.0, ivan.id.0]
        })
        .await;
    services.cancel_share(&f.owner, id).await.unwrap();
    let panel = peter
        .wait_for_panel("the invitation is closed", |panel| !panel.shared)
        .await;
    assert_eq!(participant_ids(&panel), [f.owner.id.0, f.peter.id.0]);
    assert_eq!(panel.controller, f.peter.id.0);
    assert!(!session.is_in(ivan.id));
    assert!(session.is_in(f.peter.id));
    assert!(session.input(f.peter.id, b"echo still-$((1+1))in\r".to_vec()));
    peter.wait_for_output("still-2in").await;
}

#[tokio::test]
async fn only_the_owner_extends_stops_cancels_or_shares_a_session() {
    // Five minutes, the shortest window: the clock warns at once.
    let f = Fixture::start_with(|config| {
        config.session_length = std::time::Duration::from_secs(5 * 60);
    })
    .await;
    let services = &f.services;
    let before = Utc::now();
    let id = services.start_session(&f.owner, f.account).await.unwrap();
    let row = services.my_sessions(&f.owner).await.unwrap().remove(0);
    assert_eq!((row.id, row.status), (id, SessionStatus::Active));
    assert_eq!(row.title, format!("{TEST_USER}@web-1"));
    let (start, end) = (time(&row.start), time(row.end.as_deref().unwrap()));
    assert!(start >= before && start <= Utc::now());
    assert_eq!(end - start, Duration::minutes(5));

    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    services
        .view_session(&f.peter, id, LOCALHOST)
        .await
        .unwrap();
    let mut peter = Viewer::attach(services, &f.peter, id).await;
    let warned = peter
        .wait_for_panel("the end is near", |panel| panel.ending_soon)
        .await;
    assert_eq!(time(warned.ends_at.as_deref().unwrap()), end);

    // Peter may view it, but none of the owner's actions are his.
    let by = Duration::minutes(30);
    let refusals = [
        services.extend_session(&f.peter, id, by).await,
        services.stop_session(&f.peter, id).await,
        services.cancel_session(&f.peter, id).await,
        services
            .share_with_users(&f.peter, id, Fixture::share(&[&f.nora], ""))
            .await,
        services
            .search_users(&f.peter, id, "", None)
            .await
            .map(|_| ()),
        services.remove_member(&f.peter, id, f.peter.id).await,
    ];
    for refusal in refusals {
        assert!(
            matches!(refusal, Err(ServiceError::NotCreator)),
            "{refusal:?}"
        );
    }
    let denied = f
        .audit(AuditQuery {
            user: Some("peter".to_owned()),
            kind: Some(AuditKind::AccessDenied),
            ..AuditQuery::default()
        })
        .await;
    assert_eq!(denied.len(), 6, "{denied:?}");
    for row in &denied {
        assert_eq!(row.object, format!("session:{id}"));
        assert_eq!(row.outcome, AuditOutcome::Denied);
    }
    assert!(services.session_record(&f.peter, id).await.is_ok());
    let row = services.my_sessions(&f.peter).await.unwrap().remove(0);
    assert_eq!(
        (row.status, time(row.end.as_deref().unwrap())),
        (SessionStatus::Active, end)
    );
    let members = &services.my_sessions(&f.owner).await.unwrap()[0].members;
    assert_eq!(members.len(), 1);

    // The owner: an active session is stopped, not cancelled, and is
    // extended within a day in all.
    assert!(matches!(
        services.cancel_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
    for too_short_or_long in [Duration::zero(), Duration::hours(24)] {
        match services
            .extend_session(&f.owner, id, too_short_or_long)
            .await
        {
            Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "by"),
            other => panic!("extending by {too_short_or_long}: {other:?}"),
        }
    }
    services.extend_session(&f.owner, id, by).await.unwrap();
    for actor in [&f.owner, &f.peter] {
        let row = services.my_sessions(actor).await.unwrap().remove(0);
        assert_eq!(
            time(row.end.as_deref().unwrap()),
            end + by,
            "{}",
            actor.username
        );
    }
    let extended = peter
        .wait_for_panel("the new end is shown", |panel| {
            panel.ends_at.as_deref().map(time) == Some(end + by)
        })
        .await;
    assert!(!extended.ending_soon, "35 minutes are left now");
    let audited = f.audit_of_session(id, AuditKind::SessionExtended).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(time(&audited[0].detail), end + by);
    // The clock, ticking on, does not warn again.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let current = peter.wait_for_panel("any", |_| true).await;
    assert!(!current.ending_soon);

    // Stop ends it for everyone and takes it off every My Sessions.
    services.stop_session(&f.owner, id).await.unwrap();
    let ended = peter
        .wait_for_event(|event| matches!(event, ServerEvent::Ended { .. }))
        .await;
    assert!(matches!(ended, ServerEvent::Ended { code, .. } if code == "S_200"));
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    let record = services.session_record(&f.owner, id).await.unwrap();
    assert_eq!(record.ended.unwrap().0, "S_200");
    for again in [
        services.stop_session(&f.owner, id).await,
        services.extend_session(&f.owner, id, by).await,
        services
            .share_with_users(&f.owner, id, Fixture::share(&[&f.nora], ""))
            .await,
    ] {
        assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");
    }
}

#[tokio::test]
async fn a_cancelled_session_never_starts_and_an_active_one_cannot_be_cancelled() {
    let f = Fixture::start().await;
    let services = &f.services;
    let start = Utc::now() + Duration::seconds(2);
    let id = f
        .schedule("Patch kernel", start, Duration::minutes(5))
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    // Stop is for active sessions.
    assert!(matches!(
        services.stop_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
    services.cancel_session(&f.owner, id).await.unwrap();
    assert!(
        Utc::now() < start,
        "cancelled after the start; the test proves nothing"
    );
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    let (notes, _) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(notes[0].text, "Patch kernel (olivia) was cancelled.");
    assert_eq!(
        f.audit_of_session(id, AuditKind::SessionCancelled)
            .await
            .len(),
        1
    );
    assert!(matches!(
        services.cancel_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));

    // Two ticks past its start, it still has not started.
    let waited = (start + Duration::milliseconds(2500) - Utc::now()).to_std();
    tokio::time::sleep(waited.unwrap_or_default()).await;
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(matches!(
        services.attach_terminal(&f.owner, id).await,
        Err(ServiceError::NotFound("live session"))
    ));
    assert!(
        f.audit_of_session(id, AuditKind::SessionStarted)
            .await
            .is_empty()
    );
    let (notes, _) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(
        notes.len(),
        2,
        "shared and cancelled, never active: {notes:?}"
    );

    // An active session is stopped, not cancelled.
    let active = services.start_session(&f.owner, f.account).await.unwrap();
    match services.cancel_session(&f.owner, active).await {
        Err(ServiceError::Conflict(message)) => {
            assert_eq!(message, "the session is active, so it cannot be cancelled")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        services.my_sessions(&f.owner).await.unwrap()[0].status,
        SessionStatus::Active
    );
}

/// The search of Share Session: within the project, or everyone after the
/// owner's password; a wrong password is refused, and guessing locked out.
async fn search_scope(f: &Fixture) {
    let services = &f.services;
    let id = f
        .schedule(
            "Search",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    let names = |found: &[domain::UserMatch]| -> Vec<(String, bool)> {
        found
            .iter()
            .map(|user| (user.username.clone(), user.in_project))
            .collect()
    };
    let pair = |name: &str, in_project| (name.to_owned(), in_project);

    // Without the password: only who holds a grant in the project, never
    // the owner.
    let found = services.search_users(&f.owner, id, "", None).await.unwrap();
    assert_eq!(names(&found), [pair("peter", true)]);
    assert_eq!(found[0].id, f.peter.id);
    assert_eq!(found[0].display_name, "Peter Parker");
    for query in ["PARKER", "parker@example", "pet"] {
        let found = services
            .search_users(&f.owner, id, query, None)
            .await
            .unwrap();
        assert_eq!(names(&found), [pair("peter", true)], "{query}");
    }
    assert!(
        services
            .search_users(&f.owner, id, "xavier", None)
            .await
            .unwrap()
            .is_empty()
    );

    // With it: everyone enabled, by user ID, name or email.
    let password = password_of("olivia");
    let everyone = Some(password.as_str());
    let found = services
        .search_users(&f.owner, id, "", everyone)
        .await
        .unwrap();
    assert_eq!(
        names(&found),
        [
            pair("admin", false),
            pair("nora", false),
            pair("peter", true),
            pair("xavier", false)
        ]
    );
    for query in ["Outsider", "example.org", "xav"] {
        let found = services
            .search_users(&f.owner, id, query, everyone)
            .await
            .unwrap();
        assert_eq!(names(&found), [pair("xavier", false)], "{query}");
    }
    let admin_id = services.user_id_by_name("admin").await.unwrap();
    let admin_actor = services.actor(admin_id).await.unwrap().unwrap();
    services
        .set_user_disabled(admin(), &admin_actor, f.nora.id, true)
        .await
        .unwrap();
    let found = services
        .search_users(&f.owner, id, "nora", everyone)
        .await
        .unwrap();
    assert!(found.is_empty(), "disabled users are not found: {found:?}");
    let widened = f.audit_of_session(id, AuditKind::UserSearchWidened).await;
    assert_eq!(
        widened.len(),
        5,
        "each widened search is audited: {widened:?}"
    );

    // A wrong password: refused, audited, and after five of them even the
    // right one is, for a while (as signing in is).
    for _ in 0..5 {
        match services.search_users(&f.owner, id, "", Some("guess")).await {
            Err(ServiceError::Invalid(error)) => {
                assert_eq!(
                    (error.field, error.message.as_str()),
                    ("password", "is not your password")
                )
            }
            other => panic!("{other:?}"),
        }
    }
    match services.search_users(&f.owner, id, "", everyone).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(
            (error.field, error.message.as_str()),
            ("password", "too many wrong attempts; try again later")
        ),
        other => panic!("the right password after five wrong ones: {other:?}"),
    }
    let failed = f
        .audit(AuditQuery {
            user: Some("olivia".to_owned()),
            kind: Some(AuditKind::UserSearchWidened),
            ..AuditQuery::default()
        })
        .await;
    let denied = failed
        .iter()
        .filter(|row| row.outcome == AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 6);
    // The project search needs no password and still works.
    let found = services.search_users(&f.owner, id, "", None).await.unwrap();
    assert_eq!(names(&found), [pair("peter", true)]);
}

#[tokio::test]
async fn the_owner_searches_the_project_or_everyone_with_their_password() {
    search_scope(&Fixture::start().await).await;
}

/// The search is SQL (LIKE) and so the one part of this layer whose answer
/// could differ by database: the same on PostgreSQL.
#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn the_search_is_the_same_on_postgresql() {
    postgres::with_database("tandem_named_shares", |url| async move {
        let fixture = Fixture::start_with(|config| config.database_url = Some(url)).await;
        search_scope(&fixture).await;
    })
    .await;
}

#[tokio::test]
async fn users_outside_the_project_need_a_session_use_answer_and_the_password() {
    let f = Fixture::start().await;
    let services = &f.services;
    let id = services.start_session(&f.owner, f.account).await.unwrap();
    let password = password_of("olivia");

    let no_answer = Fixture::share(&[&f.peter, &f.xavier], "");
    match services.share_with_users(&f.owner, id, no_answer).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "purpose"),
        other => panic!("{other:?}"),
    }
    let wrong_password = Fixture::share_outside(&[&f.xavier], "", "not-my-password");
    match services
        .share_with_users(&f.owner, id, wrong_password)
        .await
    {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "password"),
        other => panic!("{other:?}"),
    }
    // Refused shares add nobody and notify nobody.
    assert!(
        services.my_sessions(&f.owner).await.unwrap()[0]
            .members
            .is_empty()
    );
    assert!(services.my_sessions(&f.xavier).await.unwrap().is_empty());
    assert_eq!(services.notifications(&f.xavier).await.unwrap().1, 0);
    assert_eq!(services.notifications(&f.peter).await.unwrap().1, 0);

    let note = "Join the demo for Acme.";
    let both = Fixture::share_outside(&[&f.peter, &f.xavier], note, &password);
    services.share_with_users(&f.owner, id, both).await.unwrap();
    let members: Vec<UserId> = services.my_sessions(&f.owner).await.unwrap()[0]
        .members
        .iter()
        .map(|member| member.user)
        .collect();
    assert_eq!(members, [f.peter.id, f.xavier.id]);
    // The answer is recorded for the user it concerns only.
    let mut shared = f.audit_of_session(id, AuditKind::SessionSharedWith).await;
    shared.sort_by_key(|row| row.id);
    let rows: Vec<(&str, &str, &str)> = shared
        .iter()
        .map(|row| (row.actor.as_str(), row.object.as_str(), row.detail.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "olivia",
                format!("user:{}", f.peter.id).as_str(),
                "in project"
            ),
            (
                "olivia",
                format!("user:{}", f.xavier.id).as_str(),
                "session use: Customer demo; Acme Corp; quarterly review"
            ),
        ]
    );
    // Sharing again with the same users adds nobody twice.
    let again = Fixture::share_outside(&[&f.xavier], "", &password);
    services
        .share_with_users(&f.owner, id, again)
        .await
        .unwrap();
    assert_eq!(
        services.my_sessions(&f.owner).await.unwrap()[0]
            .members
            .len(),
        2
    );
    assert_eq!(services.notifications(&f.xavier).await.unwrap().1, 1);

    // Xavier has no grant on the account, yet works in the session.
    let granted = services.granted_accounts(&f.xavier).await.unwrap();
    assert!(
        granted
            .iter()
            .all(|account| account.host_account_id != f.account)
    );
    let record = services.session_record(&f.xavier, id).await.unwrap();
    assert_eq!(record.account.host_account_id, f.account);
    assert_eq!(record.creator, "olivia");
    let row = services.my_sessions(&f.xavier).await.unwrap().remove(0);
    assert_eq!(row.title, format!("{TEST_USER}@web-1 (shared by olivia)"));
    services
        .view_session(&f.xavier, id, LOCALHOST)
        .await
        .unwrap();
    let (session, _) = services.attach_terminal(&f.owner, id).await.unwrap();
    let mut xavier = Viewer::attach(services, &f.xavier, id).await;
    assert!(session.input(f.owner.id, b"echo outside-$((3*3))\r".to_vec()));
    xavier.wait_for_output("outside-9").await;

    // Someone nobody added may not View it.
    assert!(matches!(
        services.view_session(&f.nora, id, LOCALHOST).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        services.session_record(&f.nora, id).await,
        Err(ServiceError::Forbidden)
    ));

    // Removed, he is forced out and cannot come back.
    services
        .remove_member(&f.owner, id, f.xavier.id)
        .await
        .unwrap();
    let left = xavier
        .wait_for_event(|event| matches!(event, ServerEvent::Left { .. }))
        .await;
    assert_eq!(
        left,
        ServerEvent::Left {
            message: "The owner removed you from this session.".to_owned(),
            may_enter_again: false,
        }
    );
    assert!(!session.is_in(f.xavier.id));
    assert!(matches!(
        services.view_session(&f.xavier, id, LOCALHOST).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        services.session_record(&f.xavier, id).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(services.my_sessions(&f.xavier).await.unwrap().is_empty());
    assert!(matches!(
        services.remove_member(&f.owner, id, f.xavier.id).await,
        Err(ServiceError::NotFound("member"))
    ));
    assert_eq!(
        f.audit_of_session(id, AuditKind::MemberRemoved).await.len(),
        1
    );
    // Peter, still a member, is still in.
    assert_eq!(
        services.my_sessions(&f.peter).await.unwrap()[0].status,
        SessionStatus::Active
    );
}

#[tokio::test]
async fn added_users_with_an_email_address_get_an_email_through_smtp() {
    let smtp = smtp::SmtpServer::start();
    let f = Fixture::start_with(|config| {
        config.smtp_url = Some(smtp.url());
        config.public_url = "https://tandem.example.test/".to_owned();
    })
    .await;
    let services = &f.services;
    let start = Utc::now() + Duration::hours(2);
    let id = f
        .schedule("Rotate TLS certs", start, Duration::hours(1))
        .await;
    let note = "Bring the change ticket CHG-1234, please.";
    // Nora has no email address: she is notified in the app only.
    let password = password_of("olivia");
    let share = Fixture::share_outside(&[&f.nora, &f.peter], note, &password);
    services
        .share_with_users(&f.owner, id, share)
        .await
        .unwrap();

    let messages = smtp.wait_for_messages(1, PATIENCE).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let email = &messages[0];
    assert_eq!(email.header("To"), Some("peter.parker@example.com"));
    assert_eq!(email.header("X-RcptTo"), Some("peter.parker@example.com"));
    assert!(
        email.header("From").unwrap().contains("<tandem@localhost>"),
        "{email:?}"
    );
    assert_eq!(
        email.header("Subject"),
        Some("olivia shared the session Rotate TLS certs with you")
    );
    let body = &email.body;
    for expected in [
        "olivia shared a session with you on Tandem.",
        "Session: Rotate TLS certs",
        &format!("Host: {TEST_USER}@web-1"),
        &format!("Start: {}", start.format("%Y-%m-%d %H:%M UTC")),
        &format!(
            "End: {}",
            (start + Duration::hours(1)).format("%Y-%m-%d %H:%M UTC")
        ),
        "Note from olivia:\nBring the change ticket CHG-1234, please.",
        "https://tandem.example.test/my-sessions",
    ] {
        assert!(body.contains(expected), "{expected:?} is not in:\n{body}");
    }
    for actor in [&f.nora, &f.peter] {
        let (notes, unread) = services.notifications(actor).await.unwrap();
        assert_eq!(unread, 1, "{}", actor.username);
        assert_eq!(
            notes[0].text,
            "olivia shared the session Rotate TLS certs with you."
        );
    }
}

#[tokio::test]
async fn a_mail_server_that_is_down_loses_only_the_email() {
    let f = Fixture::start_with(|config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{}", test_sshd::closed_port()));
    })
    .await;
    let services = &f.services;
    let id = f
        .schedule(
            "Nobody mails",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], "hi"))
        .await
        .unwrap();
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 1);
    assert_eq!(
        notes[0].text,
        "olivia shared the session Nobody mails with you."
    );
    assert_eq!(services.my_sessions(&f.peter).await.unwrap().len(), 1);
}

/// The clock's other end: a scheduled session whose whole window passed
/// while Tandem was not running ends without starting (S_410). The window
/// cannot be shorter than five minutes, so instead of waiting the test
/// moves the stored window into the past, as a long outage would have.
#[tokio::test]
async fn a_scheduled_session_whose_window_passed_ends_without_starting() {
    use db::entities::om_session;
    use db::sea_orm::{ActiveModelTrait, ActiveValue::Set, Database};

    let f = Fixture::start().await;
    let services = &f.services;
    let id = f
        .schedule(
            "Missed",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    let database = Database::connect(services.config().database_url())
        .await
        .unwrap();
    let now = Utc::now();
    om_session::ActiveModel {
        id: Set(id.0),
        started_at: Set(now - Duration::hours(2)),
        ends_at: Set(Some(now - Duration::hours(1))),
        ..Default::default()
    }
    .update(&database)
    .await
    .unwrap();

    let ended = eventually("the clock to end the session", async || {
        services.session_record(&f.owner, id).await.unwrap().ended
    })
    .await;
    assert_eq!(ended.0, "S_410");
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    assert!(matches!(
        services.attach_terminal(&f.owner, id).await,
        Err(ServiceError::Ended(domain::SessionEnd::WindowOver))
    ));
    assert!(
        f.audit_of_session(id, AuditKind::SessionStarted)
            .await
            .is_empty()
    );
    assert!(matches!(
        services
            .extend_session(&f.owner, id, Duration::minutes(30))
            .await,
        Err(ServiceError::Conflict(_))
    ));
}

#[tokio::test]
async fn a_scheduled_start_that_fails_stays_on_my_sessions_with_its_code() {
    let f = Fixture::start().await;
    let services = &f.services;
    let project = services.create_project(admin(), "down", "").await.unwrap();
    let port = test_sshd::closed_port().to_string();
    let host = services
        .create_host(
            admin(),
            HostForm {
                project_id: project,
                name: "down-1",
                address: "127.0.0.1",
                port: &port,
                host_key: &f._sshd.host_key_fingerprint,
            },
        )
        .await
        .unwrap();
    let account = services
        .create_host_account(admin(), host, TEST_USER, "password", TEST_PASSWORD)
        .await
        .unwrap();
    services
        .create_grant(admin(), f.owner.id, account)
        .await
        .unwrap();
    let id = services
        .schedule_session(
            &f.owner,
            account,
            "Unreachable",
            Utc::now() + Duration::seconds(1),
            Duration::hours(1),
        )
        .await
        .unwrap();

    let row = eventually("the start to fail", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        rows.into_iter()
            .find(|row| row.id == id && row.status == SessionStatus::Failed)
    })
    .await;
    let (code, message) = row.failure.unwrap();
    assert_eq!(code, "T_502");
    assert!(message.contains("could not be reached"), "{message}");
    // Nothing is left to stop or extend.
    assert!(matches!(
        services.stop_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
}
