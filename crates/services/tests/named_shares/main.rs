//! Session windows and named shares, against a real OpenSSH sshd, the real
//! session clock, SQLite and (for email) a real SMTP server process: the
//! owner schedules a session and adds colleagues by name; they see it on
//! My Sessions, are notified, and View it live once the clock starts it.
//! Only the owner extends, stops, cancels or shares it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

#[path = "../postgres/mod.rs"]
mod postgres;
#[path = "../smtp/mod.rs"]
mod smtp;

mod email;
mod scheduling;
mod search;
mod windows;

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
    attachment: Attachment,
    /// Frames received, not read yet.
    pending: std::collections::VecDeque<ServerMsg>,
    /// All terminal output seen so far.
    output: String,
    /// The last panel received.
    panel: Option<Panel>,
}

impl Viewer {
    fn new(attachment: Attachment) -> Self {
        Self {
            attachment,
            pending: std::collections::VecDeque::new(),
            output: String::new(),
            panel: None,
        }
    }

    async fn attach(services: &Services, actor: &Actor, id: OmSessionId) -> Self {
        Self::new(services.attach_terminal(actor, id).await.unwrap())
    }

    /// Types `text` in this browser; only the controller's reaches the host.
    fn type_text(&self, text: &str) {
        self.attachment.input(text.as_bytes().to_vec());
    }

    /// The next message for this user; output is also kept in `output`,
    /// and the panel in `panel`.
    async fn next(&mut self) -> ServerMsg {
        while self.pending.is_empty() {
            let frames = tokio::time::timeout(PATIENCE, self.attachment.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no frame within {PATIENCE:?}; output so far: {}",
                        self.output
                    )
                })
                .expect("the socket was closed");
            let messages = frames
                .iter()
                .map(|frame| ServerMsg::decode(&frame.bytes).unwrap());
            self.pending.extend(messages);
        }
        let message = self.pending.pop_front().unwrap();
        match &message {
            ServerMsg::Output(bytes) => self.output.push_str(&String::from_utf8_lossy(bytes)),
            ServerMsg::Event(ServerEvent::Panel(panel)) => self.panel = Some(panel.clone()),
            ServerMsg::Event(_) => {}
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

    /// The next event that is not a panel.
    async fn wait_for_event(&mut self, wanted: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
        loop {
            if let ServerMsg::Event(event) = self.next().await
                && !matches!(event, ServerEvent::Panel(_))
                && wanted(&event)
            {
                return event;
            }
        }
    }

    /// The latest panel once it satisfies `wanted`.
    async fn wait_for_panel(&mut self, what: &str, wanted: impl Fn(&Panel) -> bool) -> Panel {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(panel) = self.panel.as_ref().filter(|panel| wanted(panel)) {
                return panel.clone();
            }
            tokio::time::timeout_at(deadline, self.next())
                .await
                .unwrap_or_else(|_| panic!("waited {PATIENCE:?} for a panel where {what}"));
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
