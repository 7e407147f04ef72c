//! The web server over real HTTP: a Tandem on port 0 with a fresh data
//! directory, driven through its server functions and pages.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{ADMIN_PASSWORD, Browser, FINGERPRINT, TestServer, operator, signed_in_admin};

/// Sets up payments/db-1 with account postgres, and operator alice granted
/// it; returns the account's id.
async fn set_up_inventory(admin: &Browser) -> i64 {
    admin
        .ok(
            "admin/create_user",
            &[
                ("username", "alice"),
                ("display_name", "Alice"),
                ("role", "operator"),
                ("password", "alice-password"),
            ],
        )
        .await;
    admin
        .ok(
            "admin/create_project",
            &[("name", "payments"), ("description", "")],
        )
        .await;
    let projects = admin.ok("admin/list_projects", &[]).await;
    let project_id = projects[0]["id"].to_string();
    admin
        .ok(
            "admin/create_host",
            &[
                ("project_id", &project_id),
                ("name", "db-1"),
                ("address", "127.0.0.5"),
                ("port", "22"),
                ("host_key", FINGERPRINT),
            ],
        )
        .await;
    let hosts = admin.ok("admin/list_hosts", &[]).await;
    let host_id = hosts[0]["id"].to_string();
    admin
        .ok(
            "admin/create_host_account",
            &[
                ("host_id", &host_id),
                ("login", "postgres"),
                ("secret_kind", "password"),
                ("secret", "pg-secret"),
            ],
        )
        .await;
    let accounts = admin.ok("admin/list_host_accounts", &[]).await;
    let account_id = accounts[0]["id"].as_i64().unwrap();
    let users = admin.ok("admin/list_users", &[]).await;
    let alice = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "alice")
        .unwrap()["id"]
        .to_string();
    admin
        .ok(
            "admin/create_grant",
            &[
                ("user_id", &alice),
                ("host_account_id", &account_id.to_string()),
            ],
        )
        .await;
    account_id
}

#[tokio::test]
async fn operators_get_their_grants_and_nothing_of_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.browser();
    admin.log_in("admin", ADMIN_PASSWORD).await;
    let account_id = set_up_inventory(&admin).await;

    let alice = server.browser();
    let (status, _) = alice.log_in("alice", "alice-password").await;
    assert!(status.is_success());
    let granted = alice.ok("granted_accounts", &[]).await;
    assert_eq!(granted.as_array().unwrap().len(), 1);
    assert_eq!(granted[0]["host_name"], "db-1");
    assert_eq!(granted[0]["login"], "postgres");

    for endpoint in [
        "admin/list_users",
        "admin/list_hosts",
        "admin/list_host_accounts",
        "admin/list_grants",
    ] {
        let (status, body) = alice.call(endpoint, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint}");
        assert_eq!(body, Value::String("Forbidden".to_owned()), "{endpoint}");
    }
    let (status, body) = alice
        .call(
            "admin/create_user",
            &[
                ("username", "mallory"),
                ("display_name", "M"),
                ("role", "admin"),
                ("password", "mallory-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, Value::String("Forbidden".to_owned()));
    let users = admin.ok("admin/list_users", &[]).await;
    assert_eq!(users.as_array().unwrap().len(), 2, "nothing was created");

    // Login is refused without the grant (the admin holds none) and for an
    // unknown account; a session page is its creator's (an admin may still
    // watch it, read-only, without the grant), an unknown one is 404, admin
    // pages are 403 to operators, and signed-out visitors are sent to
    // /login (see signed_out_visitors_are_redirected_to_the_login_page).
    assert_eq!(
        admin.start_session(account_id).await,
        Err(Value::String("Forbidden".to_owned()))
    );
    assert_eq!(
        alice.start_session(999).await,
        Err(serde_json::json!({"NotFound": "host account"}))
    );
    let session_id = alice.start_session(account_id).await.unwrap();
    let (status, body) = alice.page(&format!("/sessions/{session_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("postgres@db-1"));
    let (status, body) = admin.page(&format!("/sessions/{session_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Stop monitoring"), "{body}");
    let (status, _) = alice.page("/sessions/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alice.page("/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_input_is_answered_on_the_form_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.browser();
    admin.log_in("admin", ADMIN_PASSWORD).await;
    let (status, body) = admin
        .call("admin/create_project", &[("name", ""), ("description", "")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"Invalid": {"field": "name", "message": "must not be empty"}})
    );
    let (status, body) = admin
        .call(
            "admin/create_host_account",
            &[
                ("host_id", "77"),
                ("login", "root"),
                ("secret_kind", "password"),
                ("secret", "x"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"NotFound": "host"}));
    let (status, body) = admin.call("admin/create_project", &[("name", "x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"BadRequest": "error deserializing server function arguments: missing field `description`"}),
        "a missing field is named"
    );
    assert_eq!(
        admin.ok("admin/list_projects", &[]).await,
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.browser();
    admin.log_in("admin", ADMIN_PASSWORD).await;
    set_up_inventory(&admin).await;
    let alice = server.browser();
    alice.log_in("alice", "alice-password").await;
    alice.ok("granted_accounts", &[]).await;

    let users = admin.ok("admin/list_users", &[]).await;
    let alice_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == "alice")
        .unwrap()["id"]
        .to_string();
    admin
        .ok(
            "admin/set_disabled",
            &[("kind", "user"), ("id", &alice_id), ("disabled", "true")],
        )
        .await;
    let (status, body) = alice.call("granted_accounts", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, Value::String("NotSignedIn".to_owned()));
    let (status, body) = alice.log_in("alice", "alice-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, Value::String("LoginFailed".to_owned()));
}

#[tokio::test]
async fn data_and_sign_ins_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = server.browser();
    admin.log_in("admin", ADMIN_PASSWORD).await;
    set_up_inventory(&admin).await;
    drop(server);
    // The same directory, a new process state; the old cookie still works,
    // since web sessions live in the database.
    let server = TestServer::start(dir.path()).await;
    let admin = Browser {
        base: server.url(""),
        ..admin
    };
    let grants = admin.ok("admin/list_grants", &[]).await;
    assert_eq!(grants[0]["username"], "alice");
    assert_eq!(grants[0]["host_account_label"], "postgres@db-1 (payments)");
    let alice = server.browser();
    let (status, _) = alice.log_in("alice", "alice-password").await;
    assert!(status.is_success());
    assert_eq!(
        alice.ok("granted_accounts", &[]).await[0]["host_name"],
        "db-1"
    );
}

/// Every refusal of a server function answers its documented HTTP status
/// with the typed error as its body, never 500.
#[tokio::test]
async fn server_function_refusals_answer_their_documented_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let nobody = server.browser();
    let admin = signed_in_admin(&server).await;
    let olga = operator(&server, &admin, "olga", None).await;

    assert_eq!(
        nobody.call("granted_accounts", &[]).await,
        (StatusCode::UNAUTHORIZED, json!("NotSignedIn"))
    );
    assert_eq!(
        nobody.log_in("admin", "wrong").await,
        (StatusCode::UNAUTHORIZED, json!("LoginFailed"))
    );
    assert_eq!(
        olga.call("admin/list_users", &[]).await,
        (StatusCode::FORBIDDEN, json!("Forbidden"))
    );
    assert_eq!(
        admin
            .call(
                "admin/create_grant",
                &[("user_id", "1"), ("host_account_id", "999")]
            )
            .await,
        (StatusCode::NOT_FOUND, json!({"NotFound": "host account"}))
    );
    let project = [("name", "payments"), ("description", "")];
    admin.ok("admin/create_project", &project).await;
    assert_eq!(
        admin.call("admin/create_project", &project).await,
        (
            StatusCode::CONFLICT,
            json!({"Conflict": "a project named payments already exists"})
        )
    );
    assert_eq!(
        admin
            .call(
                "admin/update_project",
                &[("id", "x"), ("name", "a"), ("description", "")]
            )
            .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"BadRequest": "error deserializing server function arguments: invalid digit found in string"})
        ),
        "an argument that does not decode"
    );

    // A port nothing listens on: the host key cannot be fetched.
    let port = test_sshd::closed_port().to_string();
    let (status, body) = admin
        .call(
            "admin/fetch_host_key",
            &[("address", "127.0.0.1"), ("port", &port)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["HostUnreachable"].is_string(), "{body}");

    // An unknown invitation code, until the attempts run out.
    let no_such_invitation = json!({"Refused": {
        "code": "J_404",
        "title": "No such invitation",
        "message": "There is no invitation with this code. Check the code, or ask the session's creator for the invitation URL."
    }});
    for _ in 0..5 {
        assert_eq!(
            olga.call("invitation", &[("code", "ABCD2345")]).await,
            (StatusCode::NOT_FOUND, no_such_invitation.clone())
        );
    }
    let (status, body) = olga.call("invitation", &[("code", "ABCD2345")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["Refused"]["code"], "J_429", "{body}");
}

/// A signed-out visitor to any page but the login page is sent there with a
/// real redirect that comes back to the page after signing in.
#[tokio::test]
async fn signed_out_visitors_are_redirected_to_the_login_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let nobody = server.browser();
    for path in [
        "/operation/hosts",
        "/my-sessions",
        "/sessions/1",
        "/admin/users",
        "/profile",
        "/invite/ABCD2345",
    ] {
        // A bound, so that a request that never gets its answer fails
        // naming its path instead of hanging the run.
        let response = nobody
            .client
            .get(server.url(path))
            .header("Accept", "text/html")
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            response.headers()["location"],
            format!("/login?next={path}").as_str(),
            "{path}"
        );
    }
    let (status, body) = nobody.page("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Sign in"), "{body}");
}

/// A sign-in POST with the given headers: its status, its body, and
/// whether it signed in (a session cookie came back).
async fn post_login(server: &TestServer, headers: &[(&str, &str)]) -> (StatusCode, String, bool) {
    let mut request = reqwest::Client::new()
        .post(server.url("/api/login"))
        .header("Accept", "application/json")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let signed_in = response.headers().contains_key("set-cookie");
    (response.status(), response.text().await.unwrap(), signed_in)
}

#[tokio::test]
async fn state_changing_requests_must_come_from_this_site() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let this_site = server.url("");
    let this_page = server.url("/login");
    let other_port = format!("http://127.0.0.1:{}", server.address.port() ^ 1);
    let evil = "https://evil.example";
    let evil_page = "https://evil.example/page";
    let refused = (
        StatusCode::FORBIDDEN,
        "cross-site request refused".to_owned(),
        false,
    );
    let accepted = (StatusCode::OK, "null".to_owned(), true);

    for (headers, expected) in [
        (vec![("Origin", evil)], &refused),
        (vec![("Origin", other_port.as_str())], &refused),
        (vec![("Origin", "null")], &refused),
        (vec![("Referer", evil_page)], &refused),
        (
            vec![("Origin", evil), ("Referer", this_page.as_str())],
            &refused,
        ),
        // A POST that says nowhere where it comes from is refused too.
        (vec![], &refused),
        (vec![("Origin", this_site.as_str())], &accepted),
        (vec![("Referer", this_page.as_str())], &accepted),
        (
            vec![("Origin", this_site.as_str()), ("Referer", evil_page)],
            &accepted,
        ),
    ] {
        assert_eq!(
            &post_login(&server, &headers).await,
            expected,
            "{headers:?}"
        );
    }

    // Reads are not guarded; the REST API answers by its token alone.
    let page = reqwest::Client::new()
        .get(server.url("/login"))
        .header("Origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let api = reqwest::Client::new()
        .post(server.url("/v2/1/desktops/1/remote-assistance"))
        .header("Origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

/// What a client sends is bounded: a body over 64 KiB is refused before a
/// server function reads it, a typed user name is recorded cut short, and
/// an invitation password has a length.
#[tokio::test]
async fn bodies_and_typed_text_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;

    let projects = admin.ok("admin/list_projects", &[]).await;
    let just_over = "x".repeat(server::MAX_WEB_BODY_BYTES);
    let (status, _) = admin
        .call(
            "admin/create_project",
            &[("name", "p"), ("description", &just_over)],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(admin.ok("admin/list_projects", &[]).await, projects);

    // A 10,000-character name fits in the body, is no account, and is
    // recorded as its first 64 characters.
    let nobody = server.browser();
    let long_name = format!("admin{}", "x".repeat(10_000));
    assert_eq!(
        nobody.log_in(&long_name, ADMIN_PASSWORD).await,
        (StatusCode::UNAUTHORIZED, json!("LoginFailed"))
    );
    let response = admin
        .client
        .get(server.url("/admin/audit/export.jsonl"))
        .send()
        .await
        .unwrap();
    let export = response.text().await.unwrap();
    let failed: Vec<Value> = export
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|row| row["kind"] == "login_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{export}");
    assert_eq!(failed[0]["actor"], format!("admin{}…", "x".repeat(59)));

    // The invitation password, on a session that does not exist: the
    // password is refused before the session is looked up.
    let long_password = "p".repeat(257);
    assert_eq!(
        admin
            .call(
                "create_share",
                &[
                    ("id", "1"),
                    ("validity", "1h"),
                    ("password", &long_password)
                ]
            )
            .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"Invalid": {"field": "password", "message": "must be at most 256 characters"}})
        )
    );
}
