//! Recordings against a real sshd, read back by the real asciinema CLI
//! (`asciinema cat`, from PyPI, as scripts/test installs it): a shared
//! session with a handover, and a Tandem killed mid-session.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::Value;
use support::{
    ADMIN_PASSWORD, Browser, TestServer, connect, ended, id_where, operator, output_until,
    serve_process, signed_in_admin, type_line,
};
use test_sshd::{Sshd, TEST_USER};

/// The asciinema CLI: `TANDEM_ASCIINEMA`, else `asciinema` on the PATH.
fn asciinema_cat(recording: &Path) -> String {
    let program = std::env::var("TANDEM_ASCIINEMA").unwrap_or_else(|_| "asciinema".to_owned());
    let output = Command::new(&program)
        .arg("cat")
        .arg(recording)
        .output()
        .unwrap_or_else(|error| {
            panic!("running {program} (pip install asciinema==2.4.0, or scripts/test): {error}")
        });
    assert!(
        output.status.success(),
        "asciinema cat failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The only recording in a data directory (its keyframes aside).
fn the_recording(data_dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(data_dir.join("recordings"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "cast")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

/// The events of a recording: `(code, data)`, header left out.
fn events(recording: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(recording)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            (
                event[1].as_str().unwrap().to_owned(),
                event[2].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The control marker in force when the input containing `typed` was
/// recorded.
fn controller_when(events: &[(String, String)], typed: &str) -> String {
    let at = events
        .iter()
        .position(|(code, data)| code == "i" && data.contains(typed))
        .unwrap_or_else(|| panic!("no input {typed:?} in {events:?}"));
    events[..at]
        .iter()
        .rev()
        .find_map(|(code, data)| {
            (code == "m")
                .then(|| data.strip_prefix("control: "))
                .flatten()
        })
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_shared_session_with_a_handover_is_recorded_and_plays_in_asciinema() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("rec", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let alice = operator(&server, &admin, "alice", Some(account)).await;
    let alice_id = id_where(
        &admin.ok("admin/list_users", &[]).await,
        "username",
        "alice",
    );
    let session = admin.start_session(account).await.unwrap();
    let id = session.to_string();
    let mut creator = connect(&admin, session).await;
    type_line(&mut creator, "echo creator-$((1+1))").await;
    output_until(&mut creator, "creator-2").await;

    let share = admin
        .ok(
            "create_share",
            &[("id", &id), ("validity", "1h"), ("password", "")],
        )
        .await;
    let code = share["code"].as_str().unwrap();
    alice
        .ok("enter_share", &[("code", code), ("password", "")])
        .await;
    let mut invited = connect(&alice, session).await;
    alice.ok("request_control", &[("id", &id)]).await;
    let requester = alice_id.to_string();
    admin
        .ok("agree_control", &[("id", &id), ("requester", &requester)])
        .await;
    type_line(&mut invited, "echo alice-$((2+2))").await;
    output_until(&mut creator, "alice-4").await;
    alice.ok("release_control", &[("id", &id)]).await;
    admin.ok("exit_session", &[("id", &id)]).await;
    assert_eq!(ended(&mut creator).await, "S_200");

    let recording = the_recording(dir.path());
    let played = asciinema_cat(&recording);
    assert!(played.contains("creator-2"), "{played}");
    assert!(played.contains("alice-4"), "{played}");

    let events = events(&recording);
    assert_eq!(controller_when(&events, "echo creator"), "Administrator");
    assert_eq!(controller_when(&events, "echo alice"), "ALICE");
    let markers: Vec<&str> = events
        .iter()
        .filter(|(code, _)| code == "m")
        .map(|(_, label)| label.as_str())
        .collect();
    assert_eq!(
        markers,
        [
            "control: Administrator",
            "share created",
            "ALICE entered",
            "control: ALICE",
            "control: Administrator",
            "session ended (S_200)",
        ]
    );

    // The session row knows where its recording is and how big it is.
    let url = services::Config::with_data_dir(dir.path()).database_url();
    let db = db::connect_and_migrate(&url).await.unwrap();
    let row = wait_for_summary(&db, session).await;
    let stored = dir.path().join(row.recording_path.unwrap());
    assert_eq!(stored, recording);
    assert_eq!(
        row.recording_size.unwrap(),
        i64::try_from(std::fs::metadata(&recording).unwrap().len()).unwrap()
    );
    assert!(row.recording_duration_ms.unwrap() > 0);
}

/// The session's row once the recording's size is stored (just after the
/// session ends).
async fn wait_for_summary(
    db: &sea_orm::DatabaseConnection,
    session: i64,
) -> db::entities::om_session::Model {
    for _ in 0..50 {
        let row = db::entities::om_session::Entity::find_by_id(session)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        if row.recording_size.is_some() {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the recording's size was never stored");
}

#[tokio::test]
async fn a_tandem_killed_mid_session_leaves_a_recording_that_plays() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let Served {
        mut tandem,
        session,
        mut socket,
        ..
    } = Served::start(&sshd, dir.path(), "").await;
    type_line(&mut socket, "echo before-crash-$((6*7))").await;
    output_until(&mut socket, "before-crash-42").await;
    // The recording is flushed on its own, without more output or an end;
    // then the server gets no chance to flush or close anything.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(the_recording(dir.path()))
        .unwrap()
        .contains("before-crash-42")
    {
        assert!(std::time::Instant::now() < deadline, "never flushed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tandem.kill().unwrap();
    tandem.wait().unwrap();

    let recording = the_recording(dir.path());
    let played = asciinema_cat(&recording);
    assert!(played.contains("before-crash-42"), "{played}");

    // The killed server stored neither the size nor the duration; the next
    // start reads them from the file.
    let config = services::Config::with_data_dir(dir.path());
    let db = db::connect_and_migrate(&config.database_url())
        .await
        .unwrap();
    let row = db::entities::om_session::Entity::find_by_id(session)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.recording_size, row.recording_duration_ms),
        (None, None)
    );
    services::Services::start(config).await.unwrap();
    let row = db::entities::om_session::Entity::find_by_id(session)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("S_503"));
    assert_eq!(
        row.recording_size.unwrap(),
        i64::try_from(std::fs::metadata(&recording).unwrap().len()).unwrap()
    );
    assert!(row.recording_duration_ms.unwrap() > 0, "{row:?}");
}

/// Writing the recording fails mid-session (here the file outgrows the
/// server's file size limit, as it would on a full disk): that session
/// ends for everyone with R_507, and Tandem goes on serving.
#[tokio::test]
async fn a_recording_that_cannot_be_written_ends_its_session() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    // 2 MiB: the database stays well below it, a recording of the output
    // below goes past it.
    let Served {
        mut tandem,
        admin,
        account,
        session,
        mut socket,
    } = Served::start(&sshd, dir.path(), "ulimit -f 2048;").await;
    type_line(&mut socket, "seq -f 'line %07g' 1 400000").await;
    assert_eq!(ended(&mut socket).await, "R_507");
    let record = admin.ok("session", &[("id", &session.to_string())]).await;
    let failed = domain::SessionEnd::RecordingFailed;
    assert_eq!(record["ended"][1], failed.message());

    // The server lives on: another session starts (and is recorded, with
    // little output, within the limit).
    let next = admin.start_session(account).await.unwrap();
    let mut socket = connect(&admin, next).await;
    type_line(&mut socket, "echo still-$((6*7))").await;
    output_until(&mut socket, "still-42").await;
    tandem.kill().unwrap();
    tandem.wait().unwrap();
}

/// A recording that cannot be created means no session: it ends before it
/// starts, with R_500, and the host is never reached.
#[tokio::test]
async fn a_session_whose_recording_cannot_be_opened_does_not_start() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("unrecorded", sshd.port, &sshd.host_key_fingerprint)
        .await;
    // Where the recordings go, a file: nothing can be created there.
    let recordings = dir.path().join("recordings");
    let _ = std::fs::remove_dir_all(&recordings);
    std::fs::write(&recordings, "not a directory").unwrap();

    let unavailable = domain::SessionEnd::RecordingUnavailable;
    let refused = admin.start_session(account).await.unwrap_err();
    assert_eq!(
        refused,
        serde_json::json!({"Ended": {"code": "R_500", "message": unavailable.message()}})
    );
    assert!(!sshd.log().contains(TEST_USER), "{}", sshd.log());
}

/// `tandem serve` as a process of its own (after `before` in its shell),
/// the admin signed in, the test sshd added as a host, and a session open
/// on it with its socket.
struct Served {
    tandem: std::process::Child,
    admin: Browser,
    account: i64,
    session: i64,
    socket: support::Socket,
}

impl Served {
    async fn start(sshd: &Sshd, data_dir: &Path, before: &str) -> Self {
        let binary = env!("CARGO_BIN_EXE_tandem");
        let (tandem, base, _) = serve_process(binary, data_dir, &["--demo-host=false"], before);
        let admin = Browser::new(base);
        let (status, body) = admin.log_in("admin", ADMIN_PASSWORD).await;
        assert!(status.is_success(), "{body}");
        let account = admin
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let session = admin.start_session(account).await.unwrap();
        let socket = connect(&admin, session).await;
        Self {
            tandem,
            admin,
            account,
            session,
            socket,
        }
    }
}
