//! The audit log against real actions: every kind is produced by the action
//! that causes it, once per action, with the right actor and address, and
//! the admin's exports hold exactly what the page shows. Operators reach
//! none of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use support::{
    Browser, TestServer, connect, id_where, operator, output_until, signed_in_admin, type_line,
};
use test_sshd::Sshd;

/// Every row of the audit log, oldest first, through the JSON Lines export.
async fn audit_log(admin: &Browser) -> Vec<Value> {
    let response = admin
        .client
        .get(format!("{}/admin/audit/export.jsonl", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut rows: Vec<Value> = response
        .text()
        .await
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    rows.reverse();
    rows
}

fn of_kind<'a>(rows: &'a [Value], kind: &str) -> Vec<&'a Value> {
    rows.iter().filter(|row| row["kind"] == kind).collect()
}

/// The one row of `kind`, checked for its actor and the client's address.
fn only<'a>(rows: &'a [Value], kind: &str, actor: &str) -> &'a Value {
    let found = of_kind(rows, kind);
    assert_eq!(found.len(), 1, "{kind}: {found:#?}");
    let row = found[0];
    assert_eq!(row["actor"], actor, "{kind}: {row}");
    assert_eq!(row["address"], "127.0.0.1", "{kind}: {row}");
    row
}

/// The Audit log page's form, searching by user and session only.
fn search<'a>(user: &'a str, session: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("user", user),
        ("session", session),
        ("host", ""),
        ("kind", ""),
        ("from", ""),
        ("to", ""),
        ("before", ""),
    ]
}

fn user_id(listing: &Value, name: &str) -> String {
    id_where(listing, "username", name).to_string()
}

#[tokio::test]
async fn every_audited_action_is_one_row_with_its_actor_and_address() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |config| {
        config.control_request_timeout = Duration::from_secs(1);
    })
    .await;
    let stranger = server.browser();
    let (_, body) = stranger.log_in("mallory", "guess").await;
    assert_eq!(body, "LoginFailed");

    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let alice = operator(&server, &admin, "alice", Some(account)).await;
    let bob = operator(&server, &admin, "bob", None).await;
    let users = admin.ok("admin/list_users", &[]).await;
    let (alice_id, bob_id) = (user_id(&users, "alice"), user_id(&users, "bob"));

    let session = admin.start_session(account).await.unwrap();
    let id = session.to_string();
    let mut creator_socket = connect(&admin, session).await;
    type_line(&mut creator_socket, "echo audited-$((6*7))").await;
    output_until(&mut creator_socket, "audited-42").await;

    let share = admin
        .ok(
            "create_share",
            &[("id", &id), ("validity", "1h"), ("password", "")],
        )
        .await;
    let code = share["code"].as_str().unwrap();
    alice.ok("invitation", &[("code", code)]).await;
    alice
        .ok("enter_share", &[("code", code), ("password", "")])
        .await;
    let (_, body) = bob
        .call("enter_share", &[("code", code), ("password", "")])
        .await;
    assert_eq!(body["Refused"]["code"], "J_403", "{body}");
    let _alice_socket = connect(&alice, session).await;

    let request = [("id", id.as_str())];
    let answer = [("id", id.as_str()), ("requester", alice_id.as_str())];
    alice.ok("request_control", &request).await;
    admin.ok("refuse_control", &answer).await;
    alice.ok("request_control", &request).await;
    admin.ok("agree_control", &answer).await;
    alice.ok("release_control", &request).await;
    alice.ok("request_control", &request).await;
    admin.ok("agree_control", &answer).await;
    admin.ok("take_control_back", &request).await;
    alice.ok("request_control", &request).await;
    // Unanswered, the request times out (after a second, as configured).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while of_kind(&audit_log(&admin).await, "control_timed_out").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never timed out"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice.ok("exit_session", &request).await;
    admin.ok("cancel_share", &request).await;

    // Denied: an operator at an admin function, at someone else's share.
    let (_, body) = bob.call("admin/list_users", &[]).await;
    assert_eq!(body, "Forbidden");
    let (_, body) = bob.call("session_share", &request).await;
    assert_eq!(body, "Forbidden");

    let created = alice
        .ok(
            "create_api_token",
            &[("name", "ci"), ("expires_in_days", "")],
        )
        .await;
    let secret = created["secret"].as_str().unwrap();
    let granted = alice.ok("granted_accounts", &[]).await;
    let desktop = &granted[0];
    let path = format!(
        "{}/v2/{}/desktops/{}/remote-assistance",
        server.url(""),
        desktop["project_id"],
        desktop["host_id"]
    );
    let used = reqwest::Client::new()
        .get(&path)
        .header("X-Auth-Token", secret)
        .send()
        .await
        .unwrap();
    assert_ne!(used.status(), StatusCode::UNAUTHORIZED);
    let refused = reqwest::Client::new()
        .get(&path)
        .header("X-Auth-Token", "tdm_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let token_id = created["token"]["id"].as_i64().unwrap().to_string();
    alice.ok("revoke_api_token", &[("id", &token_id)]).await;

    admin
        .ok(
            "admin/set_disabled",
            &[("kind", "user"), ("id", &bob_id), ("disabled", "true")],
        )
        .await;
    admin.ok("exit_session", &request).await;
    admin.ok("logout", &[]).await;
    let admin = signed_in_admin(&server).await;

    let rows = audit_log(&admin).await;
    let failed = of_kind(&rows, "login_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            &failed[0]["actor"],
            &failed[0]["address"],
            &failed[0]["outcome"]
        ),
        (
            &Value::from("mallory"),
            &Value::from("127.0.0.1"),
            &Value::from("denied")
        )
    );
    // The admin twice (before and after logging out), Alice and Bob once.
    let logins: Vec<_> = of_kind(&rows, "login")
        .iter()
        .map(|row| row["actor"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin", "alice", "bob", "admin"]);
    only(&rows, "logout", "admin");

    let project = only(&rows, "project_changed", "admin");
    assert_eq!(project["detail"], "created");
    let host = only(&rows, "host_changed", "admin");
    let host_id = host["object"].as_str().unwrap().trim_start_matches("host:");
    only(&rows, "host_account_changed", "admin");
    // Grants for the admin and Alice.
    assert_eq!(of_kind(&rows, "grant_changed").len(), 2);
    let user_changes: Vec<_> = of_kind(&rows, "user_changed")
        .iter()
        .map(|row| {
            (
                row["object"].as_str().unwrap(),
                row["detail"].as_str().unwrap(),
            )
        })
        .collect();
    let (alice_object, bob_object) = (format!("user:{alice_id}"), format!("user:{bob_id}"));
    assert_eq!(
        &user_changes[1..],
        [
            (alice_object.as_str(), "created"),
            (bob_object.as_str(), "created"),
            (bob_object.as_str(), "disabled"),
        ]
    );

    let started = only(&rows, "session_started", "admin");
    assert_eq!(started["session_id"], session);
    assert_eq!(started["host_id"].to_string(), host_id);
    let ended = of_kind(&rows, "session_ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (&ended[0]["actor"], &ended[0]["detail"]),
        (&Value::from("admin"), &Value::from("S_200"))
    );
    assert_eq!(only(&rows, "share_created", "admin")["session_id"], session);
    only(&rows, "share_cancelled", "admin");
    only(&rows, "invitation_opened", "alice");
    only(&rows, "joined", "alice");
    let refused = only(&rows, "join_refused", "bob");
    assert_eq!(
        (&refused["detail"], &refused["outcome"]),
        (&Value::from("J_403"), &Value::from("denied"))
    );
    assert_eq!(of_kind(&rows, "control_requested").len(), 4);
    assert!(
        of_kind(&rows, "control_requested")
            .iter()
            .all(|row| row["actor"] == "alice" && row["session_id"] == session)
    );
    assert_eq!(
        only(&rows, "control_refused", "admin")["object"],
        alice_object
    );
    assert_eq!(of_kind(&rows, "control_agreed").len(), 2);
    only(&rows, "control_released", "alice");
    only(&rows, "control_taken_back", "admin");
    let timed_out = of_kind(&rows, "control_timed_out");
    assert_eq!(timed_out.len(), 1);
    assert_eq!(timed_out[0]["actor"], "alice");
    only(&rows, "exited", "alice");

    // Filtered by host: exactly the rows about the session's host.
    let host = id_where(&admin.ok("admin/list_hosts", &[]).await, "name", "sshd");
    let of_host: Vec<&Value> = rows.iter().filter(|row| row["host_id"] == host).collect();
    assert!(of_kind(&rows, "session_started")[0]["host_id"] == host);
    let (status, export) = admin
        .page(&format!("/admin/audit/export.jsonl?host={host}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let filtered: Vec<Value> = export
        .lines()
        .rev()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(filtered.iter().collect::<Vec<_>>(), of_host);
    let (_, nothing) = admin
        .page(&format!("/admin/audit/export.jsonl?host={}", host + 1))
        .await;
    assert_eq!(nothing, "");

    only(&rows, "api_token_created", "alice");
    only(&rows, "api_token_used", "alice");
    only(&rows, "api_token_revoked", "alice");
    let denied = of_kind(&rows, "access_denied");
    let denied: HashMap<&str, &str> = denied
        .iter()
        .map(|row| {
            (
                row["object"].as_str().unwrap(),
                row["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        denied,
        HashMap::from([
            ("/api/admin/list_users", "bob"),
            (format!("session:{id}").as_str(), "bob"),
            ("api:v2", ""),
        ])
    );
}

#[tokio::test]
async fn exports_and_pages_are_for_admins_only_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let operator = operator(&server, &admin, "olga", None).await;

    for path in [
        "/admin/audit/export.csv",
        "/admin/audit/export.jsonl?kind=login",
    ] {
        let (status, _) = operator.page(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = server.browser().page(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, _) = operator.page("/admin/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = operator
        .call("admin/search_audit_log", &search("", ""))
        .await;
    assert_eq!(body, "Forbidden");

    let (status, csv) = admin.page("/admin/audit/export.csv?kind=login").await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines[0], domain::AuditRecord::CSV_HEADER);
    // Newest first: Olga's login, then the admin's.
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains(",olga,127.0.0.1,login,"), "{csv}");
    assert!(lines[2].contains(",admin,127.0.0.1,login,"), "{csv}");

    let page = admin
        .ok("admin/search_audit_log", &search("olga", ""))
        .await;
    let kinds: Vec<_> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["kind"].as_str().unwrap())
        .collect();
    // The two exports, the page and the page's server function.
    assert_eq!(
        kinds,
        [
            "access_denied",
            "access_denied",
            "access_denied",
            "access_denied",
            "login"
        ]
    );
    assert_eq!(page["older"], Value::Null);
    let (_, body) = admin.call("admin/search_audit_log", &search("", "x")).await;
    assert_eq!(body["Invalid"]["field"], "session", "{body}");
}

#[tokio::test]
async fn monitoring_and_terminating_are_audited_with_the_end_they_cause() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let alice = operator(&server, &admin, "alice", Some(account)).await;
    let bob = operator(&server, &admin, "bob", Some(account)).await;
    let session = alice.start_session(account).await.unwrap();
    let mut creator_socket = connect(&alice, session).await;
    type_line(&mut creator_socket, "echo watched-$((6*7))").await;
    output_until(&mut creator_socket, "watched-42").await;

    let (status, _) = bob.page(&format!("/sessions/{session}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let _monitor = connect(&admin, session).await;
    admin
        .ok("admin/terminate_session", &[("id", &session.to_string())])
        .await;
    assert_eq!(support::ended(&mut creator_socket).await, "S_451");

    let rows = audit_log(&admin).await;
    assert_eq!(
        only(&rows, "session_monitored", "admin")["session_id"],
        session
    );
    let terminated = only(&rows, "session_terminated", "admin");
    assert_eq!(terminated["session_id"], session);
    let ended = of_kind(&rows, "session_ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (&ended[0]["actor"], &ended[0]["detail"]),
        (&Value::from("alice"), &Value::from("S_451"))
    );
    let denied = only(&rows, "access_denied", "bob");
    assert_eq!(denied["object"], format!("session:{session}"));
}
