//! The administration command line, run as a user would run it, against a
//! real sshd for the host key.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::process::{Command, Output};

use support::{TestServer, connect, output_until, signed_in_admin, type_line};
use test_sshd::{Sshd, TEST_USER};

/// `tandem <arguments>` on `data_dir`, with a first admin's password set.
fn tandem_command(data_dir: &std::path::Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .args(arguments)
        .env("TANDEM_DATA_DIR", data_dir)
        .env("TANDEM_ADMIN_PASSWORD", "cli-admin-password")
        .env_remove("DATABASE_URL");
    command
}

fn tandem(data_dir: &std::path::Path, arguments: &[&str]) -> Output {
    tandem_command(data_dir, arguments).output().unwrap()
}

fn succeed(data_dir: &std::path::Path, arguments: &[&str]) -> String {
    let output = tandem(data_dir, arguments);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{arguments:?}: {stdout}{stderr}");
    stdout
}

/// The id printed by a create command: `<kind> <id> <name>`.
fn id_of(printed: &str) -> String {
    printed
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

#[test]
fn an_admin_scripts_the_whole_set_up() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let first = succeed(
        data,
        &[
            "user",
            "create",
            "--username",
            "carol",
            "--password",
            "carol-password",
        ],
    );
    assert!(first.contains("Created the first admin admin"), "{first}");
    let project = id_of(&succeed(data, &["project", "create", "--name", "infra"]));
    let port = sshd.port.to_string();
    let host_output = succeed(
        data,
        &[
            "host",
            "create",
            "--project",
            &project,
            "--name",
            "bastion-test",
            "--address",
            "127.0.0.1",
            "--port",
            &port,
            "--fetch-key",
        ],
    );
    assert!(
        host_output.contains(&sshd.host_key_fingerprint),
        "{host_output}"
    );
    let host = id_of(&host_output);
    let key_file = dir.path().join("id_ed25519");
    std::fs::write(&key_file, &sshd.client_private_key).unwrap();
    let account = id_of(&succeed(
        data,
        &[
            "account",
            "create",
            "--host",
            &host,
            "--login",
            TEST_USER,
            "--private-key-file",
            key_file.to_str().unwrap(),
        ],
    ));
    succeed(data, &["grant", "--user", "carol", "--account", &account]);

    let users = succeed(data, &["list", "users"]);
    assert!(users.contains("carol\toperator"), "{users}");
    assert!(users.contains("admin\tadmin"), "{users}");
    let hosts = succeed(data, &["list", "hosts"]);
    assert!(
        hosts.contains(&format!(
            "127.0.0.1:{port}\tinfra\t{}",
            sshd.host_key_fingerprint
        )),
        "{hosts}"
    );
    let accounts = succeed(data, &["list", "accounts"]);
    assert!(
        accounts.contains(&format!("{TEST_USER}@bastion-test\tinfra\tprivate_key")),
        "{accounts}"
    );
    let grants = succeed(data, &["list", "grants"]);
    assert!(
        grants.contains(&format!("carol\t{TEST_USER}@bastion-test (infra)")),
        "{grants}"
    );

    // Each change was audited once, as the command line's (the first
    // admin's creation too); listing was not.
    let rows = audit_log(data);
    let changes: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| (row.kind.as_str(), row.actor.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            ("user_changed", "command line"),
            ("user_changed", "command line"),
            ("project_changed", "command line"),
            ("host_changed", "command line"),
            ("host_account_changed", "command line"),
            ("grant_changed", "command line"),
        ]
    );
}

/// Every row of the audit log, oldest first, read through the services.
fn audit_log(data_dir: &std::path::Path) -> Vec<domain::AuditRecord> {
    let config = services::Config::with_data_dir(data_dir);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (services, _) = services::Services::open(config).await.unwrap();
        let admin = services::Admin::command_line();
        let query = domain::AuditQuery::default();
        let mut rows = services.audit_rows(admin, &query, 100).await.unwrap();
        rows.reverse();
        rows
    })
}

/// A password left out of the command is read from standard input, so it
/// appears in no process list or shell history.
#[test]
fn a_password_left_out_is_read_from_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dora = ["user", "create", "--username", "dora", "--role", "operator"];
    let mut child = tandem_command(dir.path(), &dora)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"dora-password-1\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let config = services::Config::with_data_dir(dir.path());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (services, _) = services::Services::open(config).await.unwrap();
        let localhost = std::net::Ipv4Addr::LOCALHOST.into();
        let dora = services.log_in("dora", "dora-password-1", localhost).await;
        assert_eq!(dora.unwrap().username, "dora");
    });
    // With nothing on standard input, the command says what is missing.
    let eve = ["user", "create", "--username", "eve", "--role", "operator"];
    let empty = tandem_command(dir.path(), &eve)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!empty.status.success());
    let said = String::from_utf8_lossy(&empty.stderr);
    assert!(said.contains("no password given"), "{said}");
}

#[test]
fn mistakes_are_explained_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let output = tandem(data, &["project", "create", "--name", " "]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("name: must not be empty"));
    let output = tandem(
        data,
        &[
            "host",
            "create",
            "--project",
            "1",
            "--name",
            "h",
            "--address",
            "127.0.0.1",
            "--port",
            "0",
            "--host-key",
            "SHA256:x",
        ],
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("port: must be a number from 1 to 65535")
    );
    let output = tandem(data, &["grant", "--user", "ghost", "--account", "1"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such user"));
    assert_eq!(succeed(data, &["list", "projects"]), "");
}

/// A command run beside a serving Tandem, on the same data directory as
/// the README says, leaves the server's live sessions alone.
#[tokio::test]
async fn a_command_leaves_a_running_server_s_sessions_alone() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let session = admin.start_session(account).await.unwrap();
    let mut socket = connect(&admin, session).await;
    type_line(&mut socket, "echo before-$((6*7))").await;
    output_until(&mut socket, "before-42").await;

    let data = dir.path().to_owned();
    let users = tokio::task::spawn_blocking(move || succeed(&data, &["list", "users"]))
        .await
        .unwrap();
    assert!(users.contains("admin"), "{users}");

    let record = admin.ok("session", &[("id", &session.to_string())]).await;
    assert_eq!(record["ended"], serde_json::Value::Null, "{record}");
    // A reload reattaches to the same shell, which still types.
    drop(socket);
    let mut again = connect(&admin, session).await;
    type_line(&mut again, "echo after-$((6*7))").await;
    output_until(&mut again, "after-42").await;
    // And it can still be shared.
    let share = admin
        .ok(
            "create_share",
            &[
                ("id", &session.to_string()),
                ("validity", "1h"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(share["status"], "Open", "{share}");
}

/// Numbers in settings are bounded before any arithmetic: out of range is
/// refused at start with the flag's name, never a panic or a wrapped value.
#[test]
fn settings_out_of_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--max-sessions-per-user", "0"),
        ("--session-minutes", "4"),
        ("--session-idle-minutes", "99999999999999999"),
        ("--keepalive-secs", "0"),
    ] {
        let output = tandem(dir.path(), &[flag, value, "list", "users"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '{flag}")),
            "{stderr}"
        );
    }
}

/// `tandem serve` until it says it is listening: what it printed.
fn serve_until_listening(data_dir: &std::path::Path, arguments: &[&str]) -> String {
    let (mut server, _, printed) =
        support::serve_process(env!("CARGO_BIN_EXE_tandem"), data_dir, arguments, "");
    server.kill().unwrap();
    server.wait().unwrap();
    printed
}

#[test]
fn the_demo_host_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let printed = serve_until_listening(dir.path(), &["--demo-host=false"]);
    assert!(!printed.contains("demo host"), "{printed}");
    let projects = succeed(dir.path(), &["list", "projects"]);
    assert!(!projects.contains("Demo"), "{projects}");

    // On by default: the next start registers it.
    let printed = serve_until_listening(dir.path(), &[]);
    assert!(
        printed.contains("The demo host listens on 127.0.0.1:"),
        "{printed}"
    );
    let projects = succeed(dir.path(), &["list", "projects"]);
    assert!(projects.contains("Demo"), "{projects}");
}
