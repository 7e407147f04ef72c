//! What Tandem leaves on disk: a data directory no other local account can
//! list or read (directories 0700, files 0600, an older installation's
//! modes fixed at start), and a `web_sessions` table whose rows sign no
//! one in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reqwest::StatusCode;
use sea_orm::EntityTrait;
use support::{ADMIN_PASSWORD, TestServer, connect, ended, output_until, signed_in_admin};
use test_sshd::Sshd;

/// A local account with no business in Tandem's data.
const OUTSIDER: &str = "tandem-outsider";

/// A page only a signed-in admin gets: 200 for one, 401 for nobody.
const ADMIN_ONLY: &str = "/admin/audit/export.csv";

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every directory and file under `root`, `root` first.
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.to_owned()];
    let mut at = 0;
    while at < found.len() {
        if found[at].is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&found[at])
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            entries.sort();
            found.extend(entries);
        }
        at += 1;
    }
    found
}

fn assert_private(root: &Path) {
    for path in tree(root) {
        let wanted = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), wanted, "{}: {:o}", path.display(), mode(&path));
    }
}

/// A fresh parent that any account may enter, so what keeps the outsider
/// out is the data directory's own mode, not the temporary directory's.
fn open_parent() -> tempfile::TempDir {
    let parent = tempfile::tempdir().unwrap();
    set_mode(parent.path(), 0o755);
    parent
}

/// The `tandem` binary, as an administrator runs it, on `data_dir`.
fn tandem(data_dir: &Path, arguments: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(arguments)
        .env("TANDEM_DATA_DIR", data_dir)
        .env("TANDEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn ensure_outsider() {
    let exists = |name| {
        Command::new("id")
            .args(["-u", name])
            .output()
            .unwrap()
            .status
            .success()
    };
    if !exists(OUTSIDER) {
        // Another test binary may add it at the same moment; what counts
        // is that it exists afterwards.
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(OUTSIDER)
            .output()
            .unwrap();
    }
    assert!(
        exists(OUTSIDER),
        "useradd {OUTSIDER} (the tests run as root)"
    );
}

/// Runs `program` with `arguments` as the outsider account.
fn as_outsider(program: &str, arguments: &[&Path]) -> Output {
    Command::new("runuser")
        .args(["-u", OUTSIDER, "--", program])
        .args(arguments)
        .current_dir("/")
        .output()
        .unwrap()
}

fn assert_refused(output: &Output, what: &Path) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{} was readable", what.display());
    assert!(output.stdout.is_empty(), "{}", what.display());
    assert!(
        stderr.contains("Permission denied"),
        "{}: {stderr}",
        what.display()
    );
}

#[tokio::test]
async fn another_local_account_can_neither_list_nor_read_the_data_directory() {
    ensure_outsider();
    let parent = open_parent();
    let data = parent.path().join("data");
    // The real binary creates the directory, database and key…
    tandem(&data, &["list", "users"]);
    // …a running Tandem records a session in it…
    let sshd = Sshd::start();
    let server = TestServer::start(&data).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("private", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let session = admin.start_session(account).await.unwrap();
    let mut socket = connect(&admin, session).await;
    support::type_line(&mut socket, "echo typed-$((40+2))").await;
    output_until(&mut socket, "typed-42").await;
    support::type_line(&mut socket, "exit").await;
    ended(&mut socket).await;
    // …with its keyframes, and the demo host keeps its keys there.
    let keyframes = kept_keyframes(&data).await;
    let _demo = gateway::start_demo_host(&data, 0).await.unwrap();

    let paths = tree(&data);
    let names: Vec<String> = paths
        .iter()
        .map(|path| path.strip_prefix(&data).unwrap().display().to_string())
        .collect();
    for expected in [
        "tandem.db",
        "secret.key",
        "demo-host-key",
        "demo-client-key",
        "recordings",
    ] {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
    assert!(
        names.iter().any(|name| name.ends_with(".cast")),
        "{names:?}"
    );
    assert!(keyframes.exists());
    assert_private(&data);

    // The reader works: the outsider reads what is open to it beside the
    // data directory.
    let control = parent.path().join("open.txt");
    std::fs::write(&control, "anyone").unwrap();
    set_mode(&control, 0o644);
    let read = as_outsider("cat", &[&control]);
    assert!(read.status.success(), "{read:?}");
    assert_eq!(read.stdout, b"anyone");
    let listed = as_outsider("ls", &[parent.path()]);
    assert!(listed.status.success(), "{listed:?}");

    assert_refused(&as_outsider("ls", &[&data]), &data);
    for path in &paths {
        let program = if path.is_dir() { "ls" } else { "cat" };
        assert_refused(&as_outsider(program, &[path]), path);
    }
}

#[tokio::test]
async fn the_web_sessions_table_holds_no_cookie_and_its_rows_sign_no_one_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let cookie = admin.cookie();
    let value = cookie
        .strip_prefix("tandem_session=")
        .unwrap_or_else(|| panic!("{cookie}"));
    assert!(value.len() >= 22, "{cookie}");

    let url = services::Config::with_data_dir(dir.path()).database_url();
    let db = db::connect_and_migrate(&url).await.unwrap();
    let rows = db::entities::web_session::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    for row in &rows {
        assert!(!row.id_hash.contains(value), "{row:?}");
        assert!(!row.data.contains(value), "{row:?}");
    }
    // Nor anywhere in the file, in any column or page.
    let file = std::fs::read(dir.path().join("tandem.db")).unwrap();
    assert!(
        !file
            .windows(value.len())
            .any(|part| part == value.as_bytes())
    );

    // The cookie signs in; the stored key, sent as a cookie, does not.
    let with_cookie = |value: &str| {
        let request = reqwest::Client::new()
            .get(server.url(ADMIN_ONLY))
            .header("Cookie", format!("tandem_session={value}"));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(with_cookie(value).await, StatusCode::OK);
    assert_eq!(
        with_cookie(&rows[0].id_hash).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(with_cookie(value).await, StatusCode::OK);
}

#[tokio::test]
async fn an_older_installations_open_modes_are_made_private_at_start() {
    let parent = open_parent();
    let data = parent.path().join("data");
    let server = TestServer::start(&data).await;
    signed_in_admin(&server).await;
    drop(server);
    // What an older Tandem left: a recording, a partial keyframes file,
    // everything open to the group and others.
    std::fs::create_dir_all(data.join("recordings")).unwrap();
    std::fs::write(data.join("recordings/session-1-0.cast"), "{}\n").unwrap();
    std::fs::write(data.join("recordings/session-1-0.keyframes.partial"), "[").unwrap();
    let paths = tree(&data);
    for path in &paths {
        set_mode(path, if path.is_dir() { 0o755 } else { 0o644 });
    }
    let files = paths.iter().filter(|path| path.is_file()).count();
    assert!(files >= 4, "{paths:?}");

    let started = tandem(&data, &["list", "users"]);
    assert_private(&data);
    let log = String::from_utf8_lossy(&started.stderr);
    let changed = format!("changed={}", paths.len());
    assert!(
        log.lines()
            .any(|line| line.contains("INFO") && line.contains(&changed)),
        "{changed} in {log}"
    );
    // Nothing more to fix at the next start, and nothing said.
    let again = tandem(&data, &["list", "users"]);
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("changed="),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// The one keyframes file in the data directory's recordings, once the
/// session's end has built it.
async fn kept_keyframes(data_dir: &Path) -> PathBuf {
    let began = std::time::Instant::now();
    loop {
        let kept: Vec<PathBuf> = std::fs::read_dir(data_dir.join("recordings"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with(".keyframes.json"))
            .collect();
        match kept.as_slice() {
            [one] => return one.clone(),
            [] if began.elapsed() < std::time::Duration::from_secs(15) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => panic!("keyframes kept: {other:?}"),
        }
    }
}
