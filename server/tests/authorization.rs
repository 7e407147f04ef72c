//! The authorization matrix: every page, server function and route of the
//! web application, as the router lists them, called by five actors on
//! objects that belong to the owner (Olga), with the HTTP status each must
//! get. A route or server function without an entry fails the test, so a
//! new one cannot be added without deciding who may call it.
//!
//! One Tandem and one real sshd serve the whole matrix; the owner's live
//! session runs on the sshd.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Browser, FINGERPRINT, TestServer, id_where, operator, signed_in_admin};
use test_sshd::Sshd;
use tokio_tungstenite::tungstenite;

/// Who calls, in the order of each row of the matrix.
const ACTORS: [&str; 5] = ["anonymous", "no grant", "other grant", "owner", "admin"];

/// The expected status for each actor, by route. Rows run in this order
/// (the owner's and the admin's calls really happen, so what ends or
/// changes something comes late, and logout last).
#[rustfmt::skip]
const MATRIX: &[(&str, [u16; 5])] = &[
    // Pages.
    ("GET /", [302, 302, 302, 302, 302]),
    ("GET /login", [200, 302, 302, 302, 302]),
    ("GET /operation/hosts", [303, 200, 200, 200, 200]),
    ("GET /my-sessions", [303, 200, 200, 200, 200]),
    ("GET /operation/past-sessions", [303, 200, 200, 200, 200]),
    ("GET /profile", [303, 200, 200, 200, 200]),
    ("GET /sessions/{id}", [303, 403, 403, 200, 200]),
    ("GET /sessions/{id}/play", [303, 403, 403, 200, 200]),
    ("GET /invite/{code}", [303, 403, 403, 200, 403]),
    ("GET /admin/users", [303, 403, 403, 403, 200]),
    ("GET /admin/projects", [303, 403, 403, 403, 200]),
    ("GET /admin/hosts", [303, 403, 403, 403, 200]),
    ("GET /admin/host-accounts", [303, 403, 403, 403, 200]),
    ("GET /admin/grants", [303, 403, 403, 403, 200]),
    ("GET /admin/sessions", [303, 403, 403, 403, 200]),
    ("GET /admin/audit", [303, 403, 403, 403, 200]),
    // Plain routes.
    ("GET /sessions/{id}/terminal", [401, 403, 403, 101, 101]),
    ("GET /sessions/{id}/recording.cast", [401, 403, 403, 200, 200]),
    ("GET /sessions/{id}/recording.keyframes.json", [401, 403, 403, 200, 200]),
    ("GET /admin/audit/{file}", [401, 403, 403, 403, 200]),
    // The REST API: a browser's cookie never authenticates it.
    ("GET /v2/{project_id}/desktops/{desktop_id}/remote-assistance", [401, 401, 401, 401, 401]),
    ("POST /v2/{project_id}/desktops/{desktop_id}/remote-assistance", [401, 401, 401, 401, 401]),
    ("DELETE /v2/{project_id}/desktops/{desktop_id}/remote-assistance", [401, 401, 401, 401, 401]),
    // Server functions anyone may call.
    ("POST /api/current_user", [200, 200, 200, 200, 200]),
    ("POST /api/login", [401, 401, 401, 401, 401]),
    // Server functions on one's own things.
    ("POST /api/granted_accounts", [401, 200, 200, 200, 200]),
    ("POST /api/own_email", [401, 200, 200, 200, 200]),
    ("POST /api/set_own_email", [401, 200, 200, 200, 200]),
    ("POST /api/api_tokens", [401, 200, 200, 200, 200]),
    ("POST /api/create_api_token", [401, 200, 200, 200, 200]),
    ("POST /api/notifications", [401, 200, 200, 200, 200]),
    ("POST /api/mark_notifications_read", [401, 200, 200, 200, 200]),
    ("POST /api/past_sessions", [401, 200, 200, 200, 200]),
    ("POST /api/my_sessions", [401, 200, 200, 200, 200]),
    // Server functions on the owner's host account, sessions and share.
    ("POST /api/start_session", [401, 403, 403, 200, 403]),
    ("POST /api/schedule_session", [401, 403, 403, 200, 403]),
    ("POST /api/session", [401, 403, 403, 200, 200]),
    ("POST /api/recording", [401, 403, 403, 200, 200]),
    ("POST /api/session_share", [401, 403, 403, 200, 403]),
    ("POST /api/join_records", [401, 403, 403, 200, 200]),
    ("POST /api/create_share", [401, 403, 403, 200, 403]),
    ("POST /api/invitation", [401, 403, 403, 200, 403]),
    ("POST /api/enter_share", [401, 403, 403, 200, 403]),
    // The owner is past the permission check but holds control already,
    // with nobody asking for it: 409.
    ("POST /api/request_control", [401, 403, 403, 409, 403]),
    ("POST /api/agree_control", [401, 403, 403, 409, 403]),
    ("POST /api/refuse_control", [401, 403, 403, 409, 403]),
    ("POST /api/release_control", [401, 403, 403, 409, 403]),
    ("POST /api/take_control_back", [401, 403, 403, 409, 403]),
    ("POST /api/extend_session", [401, 403, 403, 200, 403]),
    ("POST /api/view_session", [401, 403, 403, 200, 403]),
    ("POST /api/search_users", [401, 403, 403, 200, 403]),
    ("POST /api/share_with_users", [401, 403, 403, 200, 403]),
    ("POST /api/remove_member", [401, 403, 403, 200, 403]),
    ("POST /api/cancel_session", [401, 403, 403, 200, 403]),
    ("POST /api/revoke_api_token", [401, 404, 404, 200, 404]),
    // Each of these ends a session or a share: each call gets a fresh one.
    ("POST /api/cancel_share", [401, 403, 403, 200, 403]),
    ("POST /api/exit_session", [401, 403, 403, 200, 403]),
    ("POST /api/stop_session", [401, 403, 403, 200, 403]),
    ("POST /api/admin/terminate_session", [401, 403, 403, 403, 200]),
    // Administration.
    ("POST /api/admin/list_users", [401, 403, 403, 403, 200]),
    ("POST /api/admin/create_user", [401, 403, 403, 403, 200]),
    ("POST /api/admin/update_user", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_projects", [401, 403, 403, 403, 200]),
    ("POST /api/admin/create_project", [401, 403, 403, 403, 200]),
    ("POST /api/admin/update_project", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_hosts", [401, 403, 403, 403, 200]),
    ("POST /api/admin/create_host", [401, 403, 403, 403, 200]),
    ("POST /api/admin/update_host", [401, 403, 403, 403, 200]),
    ("POST /api/admin/fetch_host_key", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_host_accounts", [401, 403, 403, 403, 200]),
    ("POST /api/admin/create_host_account", [401, 403, 403, 403, 200]),
    ("POST /api/admin/update_host_account", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_grants", [401, 403, 403, 403, 200]),
    ("POST /api/admin/create_grant", [401, 403, 403, 403, 200]),
    ("POST /api/admin/revoke_grant", [401, 403, 403, 403, 200]),
    ("POST /api/admin/set_disabled", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_live_sessions", [401, 403, 403, 403, 200]),
    ("POST /api/admin/list_past_sessions", [401, 403, 403, 403, 200]),
    ("POST /api/admin/search_audit_log", [401, 403, 403, 403, 200]),
    ("POST /api/logout", [200, 200, 200, 200, 200]),
];

/// Rows whose call ends the session or its share: each actor's call gets a
/// fresh live session of the owner's, with an open share.
const ENDS_A_SESSION: [&str; 4] = [
    "POST /api/cancel_share",
    "POST /api/exit_session",
    "POST /api/stop_session",
    "POST /api/admin/terminate_session",
];

/// The ids of everything the matrix calls on.
struct Objects {
    sshd_port: u16,
    host_key: String,
    project: i64,
    host: i64,
    /// The owner's host account, on the sshd.
    account: i64,
    /// Another host account, granted to the "other grant" actor.
    other_account: i64,
    other: i64,
    /// A user and grant only there to be changed by the admin's calls.
    spare_user: i64,
    spare_grant: i64,
    /// The owner's live session and the invitation code of its share.
    live: i64,
    code: String,
    /// The owner's ended session, with its recording.
    past: i64,
    /// The invitation code of the ended session's share.
    past_code: String,
    scheduled: i64,
    token: i64,
    /// A fresh live session, for the rows in [`ENDS_A_SESSION`].
    fresh: i64,
}

struct World {
    server: TestServer,
    actors: Vec<Browser>,
    objects: Objects,
    _sshd: Sshd,
    _dir: tempfile::TempDir,
}

impl World {
    async fn build() -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(dir.path(), |config| {
            // The matrix signs in and fails on purpose more than a person
            // would; the owner's session waits for its browser all along.
            config.login_limits.per_address = 10_000;
            config.reconnect_grace = Duration::from_secs(3600);
            // Every route that ends a session gets a fresh one of its own.
            config.max_live_sessions_per_user = 1000;
        })
        .await;
        let admin = signed_in_admin(&server).await;
        let account = admin
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        // The admin acts without a grant of their own.
        let grants = admin.ok("admin/list_grants", &[]).await;
        let admin_grant = grants[0]["id"].to_string();
        admin
            .ok("admin/revoke_grant", &[("id", admin_grant.as_str())])
            .await;
        let other_account = add_other_account(&admin).await;
        let stranger = operator(&server, &admin, "sam", None).await;
        let other = operator(&server, &admin, "nina", Some(other_account)).await;
        let owner = operator(&server, &admin, "olga", Some(account)).await;
        operator(&server, &admin, "spare", Some(other_account)).await;
        let users = admin.ok("admin/list_users", &[]).await;
        let grants = admin.ok("admin/list_grants", &[]).await;
        let spare_grant = id_where(&grants, "username", "spare");

        let past = owner.start_session(account).await.unwrap();
        let past_code = share(&owner, past).await;
        owner.ok("exit_session", &[("id", &past.to_string())]).await;
        let live = owner.start_session(account).await.unwrap();
        let code = share(&owner, live).await;
        let start = (chrono::Utc::now() + chrono::Duration::days(1))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let scheduled = owner
            .ok(
                "schedule_session",
                &[
                    ("host_account_id", account.to_string().as_str()),
                    ("title", "later"),
                    ("start", &start),
                    ("minutes", "60"),
                ],
            )
            .await
            .as_i64()
            .unwrap();
        let token = owner
            .ok(
                "create_api_token",
                &[("name", "matrix"), ("expires_in_days", "")],
            )
            .await["token"]["id"]
            .as_i64()
            .unwrap();
        let objects = Objects {
            sshd_port: sshd.port,
            host_key: sshd.host_key_fingerprint.clone(),
            project: id_where(&admin.ok("admin/list_projects", &[]).await, "name", "sshd"),
            host: id_where(&admin.ok("admin/list_hosts", &[]).await, "name", "sshd"),
            account,
            other_account,
            other: id_where(&users, "username", "nina"),
            spare_user: id_where(&users, "username", "spare"),
            spare_grant,
            live,
            code,
            past,
            past_code,
            scheduled,
            token,
            fresh: 0,
        };
        World {
            actors: vec![server.browser(), stranger, other, owner, admin],
            server,
            objects,
            _sshd: sshd,
            _dir: dir,
        }
    }

    /// Calls `route` as `actor`; returns the status.
    async fn call(&self, route: &str, actor: &Browser) -> u16 {
        let (method, path) = route.split_once(' ').unwrap();
        let ids = &self.objects;
        if let Some(endpoint) = path.strip_prefix("/api/") {
            let form = server_function_arguments(endpoint, ids);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return actor.call(endpoint, &form).await.0.as_u16();
        }
        // The session page and its terminal are the live session's; its
        // recording and player, the ended one's.
        let session = match route.ends_with("/sessions/{id}") || route.ends_with("/terminal") {
            true => ids.live,
            false => ids.past,
        };
        if route.ends_with("/terminal") {
            return terminal_status(actor, session).await;
        }
        let path = path
            .replace("{id}", &session.to_string())
            .replace("{code}", &ids.code)
            .replace("{file}", "export.csv")
            .replace("{project_id}", &ids.project.to_string())
            .replace("{desktop_id}", &ids.host.to_string());
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = actor
            .client
            .request(method, self.server.url(&path))
            .header("Accept", "text/html")
            .header("Origin", actor.origin())
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }
}

/// A second host, never connected to, with one account.
async fn add_other_account(admin: &Browser) -> i64 {
    let project = id_where(&admin.ok("admin/list_projects", &[]).await, "name", "sshd").to_string();
    admin
        .ok(
            "admin/create_host",
            &[
                ("project_id", project.as_str()),
                ("name", "elsewhere"),
                ("address", "127.0.0.5"),
                ("port", "22"),
                ("host_key", FINGERPRINT),
            ],
        )
        .await;
    let host = id_where(
        &admin.ok("admin/list_hosts", &[]).await,
        "name",
        "elsewhere",
    );
    admin
        .ok(
            "admin/create_host_account",
            &[
                ("host_id", host.to_string().as_str()),
                ("login", "other"),
                ("secret_kind", "password"),
                ("secret", "other-secret"),
            ],
        )
        .await;
    id_where(
        &admin.ok("admin/list_host_accounts", &[]).await,
        "host_name",
        "elsewhere",
    )
}

/// Invite friends on `session`, as its owner: the invitation code.
async fn share(owner: &Browser, session: i64) -> String {
    let share = owner
        .ok(
            "create_share",
            &[
                ("id", session.to_string().as_str()),
                ("validity", "1h"),
                ("password", ""),
            ],
        )
        .await;
    share["code"].as_str().unwrap().to_owned()
}

/// The status of the terminal WebSocket's handshake (101 when it upgrades).
async fn terminal_status(actor: &Browser, session: i64) -> u16 {
    let request = actor.terminal_request(session, Some(actor.origin()));
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(error) => panic!("terminal handshake failed: {error}"),
    }
}

/// The arguments of each server function, naming the owner's objects.
fn server_function_arguments(endpoint: &str, ids: &Objects) -> Vec<(&'static str, String)> {
    let live = ids.live.to_string();
    let id = |value: i64| value.to_string();
    let fields: Vec<(&'static str, String)> = match endpoint {
        "current_user"
        | "logout"
        | "granted_accounts"
        | "own_email"
        | "api_tokens"
        | "notifications"
        | "mark_notifications_read"
        | "past_sessions"
        | "my_sessions" => {
            vec![]
        }
        endpoint if endpoint.starts_with("admin/list_") => vec![],
        "login" => vec![("username", "olga".into()), ("password", "wrong".into())],
        "set_own_email" => vec![("email", "".into())],
        "create_api_token" => vec![("name", "mine".into()), ("expires_in_days", "".into())],
        "revoke_api_token" => vec![("id", id(ids.token))],
        "start_session" => vec![("host_account_id", id(ids.account))],
        "schedule_session" => {
            let start = (chrono::Utc::now() + chrono::Duration::days(2))
                .format("%Y-%m-%dT%H:%M")
                .to_string();
            vec![
                ("host_account_id", id(ids.account)),
                ("title", "scheduled".into()),
                ("start", start),
                ("minutes", "60".into()),
            ]
        }
        "session" | "session_share" | "join_records" | "request_control" | "release_control"
        | "take_control_back" | "view_session" => vec![("id", live)],
        "recording" => vec![("id", id(ids.past))],
        "create_share" => vec![
            ("id", live),
            ("validity", "1h".into()),
            ("password", "".into()),
        ],
        "invitation" => vec![("code", ids.code.clone())],
        "enter_share" => vec![("code", ids.code.clone())],
        "agree_control" | "refuse_control" => vec![("id", live), ("requester", id(ids.other))],
        "extend_session" => vec![("id", live), ("minutes", "30".into())],
        "search_users" => vec![("id", live), ("query", "nina".into())],
        "share_with_users" => vec![("id", live), ("users", id(ids.other)), ("note", "".into())],
        "remove_member" => vec![("id", live), ("user", id(ids.other))],
        "cancel_session" => vec![("id", id(ids.scheduled))],
        "cancel_share" | "exit_session" | "stop_session" | "admin/terminate_session" => {
            vec![("id", id(ids.fresh))]
        }
        "admin/create_user" => vec![
            ("username", "newcomer".into()),
            ("display_name", "Newcomer".into()),
            ("role", "operator".into()),
            ("password", "newcomer-password".into()),
        ],
        "admin/update_user" => vec![
            ("id", id(ids.spare_user)),
            ("display_name", "Spare".into()),
            ("role", "operator".into()),
            ("password", "".into()),
        ],
        "admin/create_project" => vec![("name", "new".into()), ("description", "".into())],
        "admin/update_project" => vec![
            ("id", id(ids.project)),
            ("name", "sshd".into()),
            ("description", "".into()),
        ],
        "admin/create_host" => vec![
            ("project_id", id(ids.project)),
            ("name", "new".into()),
            ("address", "127.0.0.6".into()),
            ("port", "22".into()),
            ("host_key", FINGERPRINT.into()),
        ],
        "admin/update_host" => vec![
            ("id", id(ids.host)),
            ("project_id", id(ids.project)),
            ("name", "sshd".into()),
            ("address", "127.0.0.1".into()),
            ("port", ids.sshd_port.to_string()),
            ("host_key", ids.host_key.clone()),
        ],
        "admin/fetch_host_key" => vec![
            ("address", "127.0.0.1".into()),
            ("port", ids.sshd_port.to_string()),
        ],
        "admin/create_host_account" => vec![
            ("host_id", id(ids.host)),
            ("login", "new".into()),
            ("secret_kind", "password".into()),
            ("secret", "new-secret".into()),
        ],
        "admin/update_host_account" => vec![
            ("id", id(ids.other_account)),
            ("login", "other".into()),
            ("secret_kind", "password".into()),
            ("secret", "".into()),
        ],
        "admin/create_grant" => vec![
            ("user_id", id(ids.spare_user)),
            ("host_account_id", id(ids.account)),
        ],
        "admin/revoke_grant" => vec![("id", id(ids.spare_grant))],
        "admin/set_disabled" => vec![
            ("kind", "user".into()),
            ("id", id(ids.spare_user)),
            ("disabled", "true".into()),
        ],
        "admin/search_audit_log" => ["user", "session", "host", "kind", "from", "to", "before"]
            .into_iter()
            .map(|field| (field, String::new()))
            .collect(),
        other => panic!("the matrix has no arguments for the server function {other}"),
    };
    fields
}

/// Every route of the web application, as `METHOD /path`: the pages
/// Leptos routes, the registered server functions, the router's plain
/// routes and the REST API's paths from its OpenAPI document.
async fn routes(server: &TestServer) -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for page in leptos_axum::generate_route_list(app::App) {
        routes.insert(format!("GET {}", page.path()));
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.insert(format!("{method} {path}"));
    }
    for path in server::plain_route_paths() {
        routes.insert(format!("GET {path}"));
    }
    let openapi: Value = reqwest::get(server.url("/v2/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            routes.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes
}

#[tokio::test]
async fn every_route_answers_each_actor_as_the_matrix_says() {
    let mut world = World::build().await;

    let listed: BTreeSet<String> = MATRIX
        .iter()
        .map(|(route, _)| (*route).to_owned())
        .collect();
    let routed = routes(&world.server).await;
    let missing: Vec<_> = routed.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&routed).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without an entry in the matrix: {missing:?}; entries for no route: {stale:?}"
    );

    let mut wrong = Vec::new();
    let mut answers = Vec::new();
    for (route, expected) in MATRIX {
        let mut got = [0u16; 5];
        for (index, actor) in world.actors.iter().enumerate() {
            if ENDS_A_SESSION.contains(route) {
                let owner = &world.actors[3];
                let fresh = owner.start_session(world.objects.account).await.unwrap();
                share(owner, fresh).await;
                world.objects.fresh = fresh;
            }
            got[index] = world.call(route, actor).await;
            if got[index] != expected[index] {
                wrong.push(format!(
                    "{route} as {}: {} (expected {})",
                    ACTORS[index], got[index], expected[index]
                ));
            }
        }
        answers.push(format!("    (\"{route}\", {got:?}),"));
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}\n\nthe answers:\n{}",
        wrong.len(),
        wrong.join("\n"),
        answers.join("\n")
    );
}

/// An ended session answers 410 with its reason to whoever may know it:
/// its invitation and its terminal; changing it is a conflict.
#[tokio::test]
async fn an_ended_session_answers_gone() {
    let world = World::build().await;
    let owner = &world.actors[3];
    let ids = &world.objects;
    assert_eq!(
        owner.call("invitation", &[("code", &ids.past_code)]).await,
        (
            StatusCode::GONE,
            json!({"Refused": {
                "code": "J_440",
                "title": "Session ended",
                "message": "The session has ended, so no one can join it. The session was closed by its creator."
            }})
        )
    );
    assert_eq!(terminal_status(owner, ids.past).await, 410);
    assert_eq!(
        owner
            .call(
                "extend_session",
                &[("id", &ids.past.to_string()), ("minutes", "30")]
            )
            .await,
        (
            StatusCode::CONFLICT,
            json!({"Conflict": "the session is ended, so it cannot be extended"})
        )
    );
}
