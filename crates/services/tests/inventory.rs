//! The application layer against a real database: SQLite in a temporary
//! directory, and PostgreSQL (see `postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod postgres;

use std::net::{IpAddr, Ipv4Addr};

use domain::{HostAccountId, ProjectId, Role, UserId};
use services::{Actor, Admin, Config, HostForm, ServiceError, Services};

const FINGERPRINT: &str = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct TestServices {
    services: Services,
    _dir: tempfile::TempDir,
}

async fn start(database_url: Option<String>) -> TestServices {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url,
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let (services, first_admin) = Services::start(config).await.unwrap();
    let first_admin = first_admin.expect("a fresh database gets a first admin");
    assert_eq!(first_admin.username, "admin");
    assert_eq!(first_admin.generated_password, None);
    TestServices {
        services,
        _dir: dir,
    }
}

async fn sqlite() -> TestServices {
    start(None).await
}

fn admin() -> Admin {
    Admin::command_line()
}

async fn log_in(
    services: &Services,
    username: &str,
    password: &str,
) -> Result<Actor, ServiceError> {
    services.log_in(username, password, LOCALHOST).await
}

/// A project, a host in it and a password account on the host.
async fn inventory(services: &Services) -> (ProjectId, HostAccountId) {
    let project = services
        .create_project(admin(), "payments", "the payment team")
        .await
        .unwrap();
    let host = services
        .create_host(
            admin(),
            HostForm {
                project_id: project,
                name: "db-1",
                address: "127.0.0.5",
                port: "22",
                host_key: FINGERPRINT,
            },
        )
        .await
        .unwrap();
    let account = services
        .create_host_account(admin(), host, "postgres", "password", "pg-secret")
        .await
        .unwrap();
    (project, account)
}

/// Operator alice, signed in, granted the account of `inventory`: her id,
/// her actor, the project and the account.
async fn granted_operator(services: &Services) -> (UserId, Actor, ProjectId, HostAccountId) {
    let alice = services
        .create_user(admin(), "alice", "Alice", "operator", "alice-password")
        .await
        .unwrap();
    let (project, account) = inventory(services).await;
    services
        .create_grant(admin(), alice, account)
        .await
        .unwrap();
    let actor = log_in(services, "alice", "alice-password").await.unwrap();
    (alice, actor, project, account)
}

async fn full_journey(services: &Services) {
    let admin_actor = log_in(services, "admin", "first-admin-pw").await.unwrap();
    assert_eq!(admin_actor.role, Role::Admin);

    let alice = services
        .create_user(
            admin(),
            "alice",
            "Alice Liddell",
            "operator",
            "alice-password",
        )
        .await
        .unwrap();
    let (_, account) = inventory(services).await;
    services
        .create_grant(admin(), alice, account)
        .await
        .unwrap();

    let alice_actor = log_in(services, "alice", "alice-password").await.unwrap();
    let granted = services.granted_accounts(&alice_actor).await.unwrap();
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].host_name, "db-1");
    assert_eq!(granted[0].login, "postgres");
    assert_eq!(granted[0].project_name, "payments");
    assert!(
        services
            .granted_accounts(&admin_actor)
            .await
            .unwrap()
            .is_empty()
    );

    // Duplicates are refused with a message, and change nothing.
    let duplicate = services.create_grant(admin(), alice, account).await;
    assert!(
        matches!(duplicate, Err(ServiceError::Conflict(_))),
        "{duplicate:?}"
    );
    let duplicate = services
        .create_user(admin(), "alice", "Other", "operator", "password2")
        .await;
    assert!(
        matches!(duplicate, Err(ServiceError::Conflict(_))),
        "{duplicate:?}"
    );
    assert_eq!(services.list_grants(admin()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn admin_sets_up_an_operator_who_sees_exactly_their_grant() {
    let test = sqlite().await;
    full_journey(&test.services).await;
}

#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn the_same_journey_runs_on_postgresql() {
    postgres::with_database("tandem_test", |url| async move {
        let test = start(Some(url)).await;
        full_journey(&test.services).await;
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field() {
    let test = sqlite().await;
    let services = &test.services;
    let project = services.create_project(admin(), "ops", "").await.unwrap();
    let cases: [(&str, &str, &str, &str); 5] = [
        ("", "127.0.0.1", "22", FINGERPRINT),
        ("web", "not an address", "22", FINGERPRINT),
        ("web", "127.0.0.1", "70000", FINGERPRINT),
        ("web", "127.0.0.1", "22", "SHA256:tooshort"),
        ("web", "127.0.0.1", "22", "ssh-ed25519 AAAAnotakey"),
    ];
    let fields = ["name", "address", "port", "host_key", "host_key"];
    for ((name, address, port, host_key), field) in cases.into_iter().zip(fields) {
        let form = HostForm {
            project_id: project,
            name,
            address,
            port,
            host_key,
        };
        match services.create_host(admin(), form).await {
            Err(ServiceError::Invalid(error)) => assert_eq!(error.field, field, "{error}"),
            other => panic!("expected a {field} error, got {other:?}"),
        }
    }
    let unknown_project = HostForm {
        project_id: ProjectId(999),
        name: "web",
        address: "127.0.0.1",
        port: "22",
        host_key: FINGERPRINT,
    };
    assert!(matches!(
        services.create_host(admin(), unknown_project).await,
        Err(ServiceError::NotFound("project"))
    ));
    assert!(services.list_hosts(admin()).await.unwrap().is_empty());

    let bad_user = services
        .create_user(admin(), "bob", "Bob", "superuser", "password1")
        .await;
    assert!(matches!(bad_user, Err(ServiceError::Invalid(ref error)) if error.field == "role"));
    let short_password = services
        .create_user(admin(), "bob", "Bob", "operator", "short")
        .await;
    assert!(
        matches!(short_password, Err(ServiceError::Invalid(ref error)) if error.field == "password")
    );
    let bad_key = services.create_project(admin(), "  ", "").await;
    assert!(matches!(bad_key, Err(ServiceError::Invalid(_))));
}

#[tokio::test]
async fn secrets_are_sealed_and_private_keys_checked() {
    let test = sqlite().await;
    let services = &test.services;
    let (_, account) = inventory(services).await;
    let accounts = services.list_host_accounts(admin()).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].id, account);

    let host = accounts[0].host_id;
    let not_a_key = services
        .create_host_account(
            admin(),
            host,
            "deploy",
            "private_key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n",
        )
        .await;
    assert!(matches!(not_a_key, Err(ServiceError::Invalid(ref error)) if error.field == "secret"));
    let empty = services
        .create_host_account(admin(), host, "deploy", "password", "")
        .await;
    assert!(matches!(empty, Err(ServiceError::Invalid(_))));

    // The secret is not stored in the clear anywhere in the database file.
    let database = std::fs::read(test._dir.path().join("tandem.db")).unwrap();
    assert!(!database.windows(9).any(|window| window == b"pg-secret"));
}

#[tokio::test]
async fn disabled_objects_leave_host_operations() {
    let test = sqlite().await;
    let services = &test.services;
    let (alice, actor, project, account) = granted_operator(services).await;
    assert_eq!(services.granted_accounts(&actor).await.unwrap().len(), 1);

    services
        .set_project_disabled(admin(), project, true)
        .await
        .unwrap();
    assert!(services.granted_accounts(&actor).await.unwrap().is_empty());
    assert!(matches!(
        services.granted_account(&actor, account).await,
        Err(ServiceError::Forbidden)
    ));
    services
        .set_project_disabled(admin(), project, false)
        .await
        .unwrap();
    let host = services.granted_accounts(&actor).await.unwrap()[0].host_id;
    services
        .set_host_disabled(admin(), host, true)
        .await
        .unwrap();
    assert!(services.granted_accounts(&actor).await.unwrap().is_empty());
    services
        .set_host_disabled(admin(), host, false)
        .await
        .unwrap();
    assert_eq!(services.granted_accounts(&actor).await.unwrap().len(), 1);
    services
        .set_host_account_disabled(admin(), account, true)
        .await
        .unwrap();
    assert!(services.granted_accounts(&actor).await.unwrap().is_empty());
    assert!(matches!(
        services.granted_account(&actor, HostAccountId(4242)).await,
        Err(ServiceError::NotFound(_))
    ));

    services
        .set_user_disabled(
            admin(),
            &log_in(services, "admin", "first-admin-pw").await.unwrap(),
            alice,
            true,
        )
        .await
        .unwrap();
    assert!(matches!(
        log_in(services, "alice", "alice-password").await,
        Err(ServiceError::LoginFailed)
    ));
    assert_eq!(services.actor(alice).await.unwrap(), None);
}

/// Edits take effect in place: the same grant now shows the host and the
/// account as they were changed.
#[tokio::test]
async fn edited_hosts_and_accounts_are_what_operators_see() {
    let test = sqlite().await;
    let services = &test.services;
    let (_, actor, project, account) = granted_operator(services).await;
    let host = services.granted_accounts(&actor).await.unwrap()[0].host_id;

    services
        .update_project(admin(), project, "billing", "renamed")
        .await
        .unwrap();
    services
        .update_host(
            admin(),
            host,
            HostForm {
                project_id: project,
                name: "db-2",
                address: "127.0.0.6",
                port: "2222",
                host_key: FINGERPRINT,
            },
        )
        .await
        .unwrap();
    services
        .update_host_account(admin(), account, "replica", "password", "")
        .await
        .unwrap();
    let seen = services.granted_accounts(&actor).await.unwrap();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(
        (
            seen.host_account_id,
            seen.project_name.as_str(),
            seen.host_name.as_str(),
            seen.address.as_str(),
            seen.port,
            seen.login.as_str()
        ),
        (account, "billing", "db-2", "127.0.0.6", 2222, "replica")
    );
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let test = sqlite().await;
    let services = &test.services;
    let me = log_in(services, "admin", "first-admin-pw").await.unwrap();
    let admin = me.require_admin().unwrap();
    assert!(matches!(
        services.set_user_disabled(admin, &me, me.id, true).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        services
            .update_user(admin, &me, me.id, "Me", "operator", "")
            .await,
        Err(ServiceError::Conflict(_))
    ));
}

#[tokio::test]
async fn operators_hold_no_admin_proof() {
    let test = sqlite().await;
    let services = &test.services;
    services
        .create_user(admin(), "olga", "Olga", "operator", "olga-password")
        .await
        .unwrap();
    let olga = log_in(services, "olga", "olga-password").await.unwrap();
    assert!(matches!(olga.require_admin(), Err(ServiceError::Forbidden)));
}

#[tokio::test]
async fn failed_logins_are_limited_and_all_look_alike() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let (services, _) = Services::start(config).await.unwrap();
    for _ in 0..5 {
        assert!(matches!(
            log_in(&services, "admin", "wrong").await,
            Err(ServiceError::LoginFailed)
        ));
    }
    // The right password no longer helps, and the answer is the same.
    assert!(matches!(
        log_in(&services, "admin", "first-admin-pw").await,
        Err(ServiceError::LoginFailed)
    ));
    assert!(matches!(
        log_in(&services, "nobody", "x").await,
        Err(ServiceError::LoginFailed)
    ));
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    {
        let (services, _) = Services::start(config.clone()).await.unwrap();
        inventory(&services).await;
    }
    let (services, first_admin) = Services::start(config).await.unwrap();
    assert!(
        first_admin.is_none(),
        "the first admin is created only once"
    );
    assert_eq!(services.list_projects(admin()).await.unwrap().len(), 1);
    assert_eq!(
        services.list_hosts(admin()).await.unwrap()[0].host_key_fingerprint,
        FINGERPRINT
    );
    assert_eq!(services.list_host_accounts(admin()).await.unwrap().len(), 1);
    log_in(&services, "admin", "first-admin-pw").await.unwrap();
}
