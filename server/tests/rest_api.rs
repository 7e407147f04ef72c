//! The REST API against a real sshd: every field, format and status code of
//! remote assistance, each answer checked against the served OpenAPI
//! document, and API tokens from creation to revocation and expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use support::{
    Browser, TestServer, connect, ended, id_where, operator, output_until, signed_in_admin,
    type_line,
};
use test_sshd::{Sshd, kill_frozen};

const INTERNAL_URL: &str = "http://tandem.internal:8080";
const PUBLIC_URL: &str = "https://tandem.example.org";

/// A Tandem with the test sshd as a desktop; the admin and Alice hold the
/// grant, Carol does not. Each has an API token.
struct Api {
    server: TestServer,
    admin: Browser,
    alice: Browser,
    admin_token: String,
    alice_token: String,
    carol_token: String,
    account: i64,
    /// The served OpenAPI document.
    document: Value,
    sshd: Sshd,
    dir: tempfile::TempDir,
}

impl Api {
    async fn open() -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(dir.path(), |config| {
            config.internal_url = Some(INTERNAL_URL.to_owned());
            config.public_url = PUBLIC_URL.to_owned();
            config.keepalive_interval = Duration::from_millis(500);
            config.keepalive_max = 2;
        })
        .await;
        let admin = signed_in_admin(&server).await;
        let account = admin
            .add_test_host("desk", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let alice = operator(&server, &admin, "alice", Some(account)).await;
        let carol = operator(&server, &admin, "carol", None).await;
        let admin_token = token(&admin, "contract tests").await;
        let alice_token = token(&alice, "alice's script").await;
        let carol_token = token(&carol, "carol's script").await;
        let document = reqwest::get(server.url("/v2/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            server,
            admin,
            alice,
            admin_token,
            alice_token,
            carol_token,
            account,
            document,
            sshd,
            dir,
        }
    }

    /// The project and desktop ids of the test sshd.
    async fn ids(&self) -> (i64, i64) {
        let accounts = self.admin.ok("granted_accounts", &[]).await;
        let account = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|account| account["host_account_id"] == self.account)
            .unwrap();
        (
            account["project_id"].as_i64().unwrap(),
            account["host_id"].as_i64().unwrap(),
        )
    }

    fn path(&self, project: impl ToString, desktop: impl ToString) -> String {
        format!(
            "/v2/{}/desktops/{}/remote-assistance",
            project.to_string(),
            desktop.to_string()
        )
    }

    /// Sends a request and checks the answer against the OpenAPI document:
    /// the status must be documented for the operation and the body must
    /// match its schema.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().request(method.clone(), self.server.url(path));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{method} {path}"
        );
        let body: Value = response.json().await.unwrap();
        self.conforms(&method, status, &body);
        (status, body)
    }

    fn conforms(&self, method: &Method, status: StatusCode, body: &Value) {
        let operation = &self.document["paths"]["/v2/{project_id}/desktops/{desktop_id}/remote-assistance"]
            [method.as_str().to_lowercase()];
        let response = &operation["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} answered {status}, which the document does not list: {body}"
        );
        let mut schema = response["content"]["application/json"]["schema"].clone();
        assert!(
            schema.get("$ref").or(schema.get("type")).is_some(),
            "{method} {status}: the document gives no schema: {response}"
        );
        schema["components"] = self.document["components"].clone();
        let validator = jsonschema::validator_for(&schema).unwrap();
        if let Err(error) = validator.validate(body) {
            panic!("{method} {status}: {body} does not match the document: {error}");
        }
    }

    /// An error answer: its status and code.
    async fn error(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, String) {
        let (status, answer) = self.call(method, path, token, body).await;
        assert!(!status.is_success(), "{answer}");
        (status, answer["error_code"].as_str().unwrap().to_owned())
    }

    /// Runs `tandem decode-authorization-message` on the server's data
    /// directory: what it printed, and whether it succeeded.
    fn decode(&self, message: &str) -> (String, bool) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["decode-authorization-message", message])
            .env("TANDEM_DATA_DIR", self.dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (printed, output.status.success())
    }

    /// Sets a token's expiry in the database, as time passing would.
    async fn expire_token(&self, name: &str, browser: &Browser) {
        let tokens = browser.ok("api_tokens", &[]).await;
        let id = id_where(&tokens, "name", name);
        let url = services::Config::with_data_dir(self.dir.path()).database_url();
        let db = db::connect_and_migrate(&url).await.unwrap();
        db::entities::api_token::ActiveModel {
            id: Set(id),
            expires_at: Set(Some(Utc::now() - chrono::Duration::seconds(1))),
            ..Default::default()
        }
        .update(&db)
        .await
        .unwrap();
    }
}

/// Creates a token on the profile page's server function: its secret.
async fn token(browser: &Browser, name: &str) -> String {
    let created = browser
        .ok(
            "create_api_token",
            &[("name", name), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(created["token"]["name"], name);
    assert_eq!(created["token"]["status"], "Active");
    created["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn remote_assistance_answers_exactly_as_documented() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);
    let admin = Some(api.admin_token.as_str());
    let alice = Some(api.alice_token.as_str());

    // The document promises exactly the seed's fields, all of them always.
    for (schema, fields) in [
        (
            "ShareSpace",
            &[
                "create_time",
                "failed_reason",
                "internet_share_link",
                "invitation_code",
                "private_share_link",
                "share_space_id",
                "share_space_name",
                "share_space_passwd",
                "status",
            ][..],
        ),
        (
            "ErrorBody",
            &[
                "encoded_authorization_message",
                "error_code",
                "error_detail",
                "error_msg",
            ],
        ),
    ] {
        let schema = &api.document["components"]["schemas"][schema];
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|field| field.as_str().unwrap())
            .collect();
        required.sort_unstable();
        assert_eq!(required, fields);
        assert_eq!(schema["additionalProperties"], false);
    }

    // Authentication comes first, then the ids, then existence, then grants.
    for (method, token, path, status, code) in [
        (Method::GET, None, path.clone(), 401, "TANDEM.4011"),
        (
            Method::GET,
            Some("tandem_nonsense"),
            path.clone(),
            401,
            "TANDEM.4012",
        ),
        (Method::POST, None, path.clone(), 401, "TANDEM.4011"),
        (
            Method::GET,
            admin,
            api.path("abc", desktop),
            400,
            "TANDEM.4001",
        ),
        (
            Method::GET,
            admin,
            api.path(project, "-3"),
            400,
            "TANDEM.4001",
        ),
        (
            Method::GET,
            admin,
            api.path(999, desktop),
            404,
            "TANDEM.4041",
        ),
        (
            Method::GET,
            admin,
            api.path(project, 999),
            404,
            "TANDEM.4042",
        ),
        (
            Method::DELETE,
            admin,
            api.path(project, 999),
            404,
            "TANDEM.4042",
        ),
        (
            Method::GET,
            Some(api.carol_token.as_str()),
            path.clone(),
            403,
            "TANDEM.4031",
        ),
        (Method::GET, admin, path.clone(), 404, "TANDEM.4043"),
        (Method::POST, admin, path.clone(), 404, "TANDEM.4043"),
        (Method::DELETE, admin, path.clone(), 404, "TANDEM.4043"),
    ] {
        let (got_status, got_code) = api.error(method.clone(), &path, token, None).await;
        assert_eq!(
            (got_status.as_u16(), got_code.as_str()),
            (status, code),
            "{method} {path}"
        );
    }
    let (_, refusal) = api
        .call(Method::GET, &path, Some(&api.carol_token), None)
        .await;
    assert!(refusal["error_detail"].as_str().unwrap().contains("grant"));
    let sealed = refusal["encoded_authorization_message"].as_str().unwrap();
    assert!(!sealed.contains("carol"), "the reason is sealed: {sealed}");
    let (opened, succeeded) = api.decode(sealed);
    assert!(succeeded, "{opened}");
    assert!(
        opened.contains("user carol") && opened.contains("TANDEM.4031"),
        "{opened}"
    );
    let (_, succeeded) = api.decode("bm90IHNlYWxlZA==");
    assert!(!succeeded, "a message this server did not seal is refused");

    // The admin's live session on the desktop.
    let session = api.admin.start_session(api.account).await.unwrap();
    let mut socket = connect(&api.admin, session).await;
    output_until(&mut socket, "$").await;

    for (body, code) in [
        ("{", "TANDEM.4002"),
        (r#"{"validity":"2h"}"#, "TANDEM.4002"),
        (r#"{"name":"x","colour":"red"}"#, "TANDEM.4002"),
        (r#"{"name":""}"#, "TANDEM.4003"),
    ] {
        let (status, got) = api.error(Method::POST, &path, admin, Some(body)).await;
        assert_eq!((status.as_u16(), got.as_str()), (400, code), "{body}");
    }

    let before = Utc::now() - chrono::Duration::seconds(1);
    let (status, shared) = api
        .call(
            Method::POST,
            &path,
            admin,
            Some(r#"{"name":"help desk","password":"s3cret","validity":"10m"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    let fields: Vec<&str> = shared
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields.len(),
        9,
        "exactly the seed's fields, each present even when null: {shared}"
    );
    let code = shared["invitation_code"].as_str().unwrap().to_owned();
    assert!(
        shared["share_space_id"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(shared["share_space_name"], "help desk");
    assert_eq!(shared["share_space_passwd"], "s3cret");
    assert_eq!(
        shared["private_share_link"],
        format!("{INTERNAL_URL}/invite/{code}")
    );
    assert_eq!(
        shared["internet_share_link"],
        format!("{PUBLIC_URL}/invite/{code}")
    );
    let created = chrono::NaiveDateTime::parse_from_str(
        shared["create_time"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap()
    .and_utc();
    assert!(created >= before && created <= Utc::now(), "{created}");
    assert_eq!(shared["status"], "OPEN");
    assert_eq!(shared["failed_reason"], Value::Null);

    // While the share is open, POST answers with it again.
    let (_, again) = api.call(Method::POST, &path, admin, None).await;
    assert_eq!(again["share_space_id"], shared["share_space_id"]);

    // Alice holds the grant: she sees the share she may join, without its
    // password, and may neither share nor cancel it.
    let (status, seen) = api.call(Method::GET, &path, alice, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["invitation_code"], code.as_str());
    assert_eq!(seen["share_space_passwd"], Value::Null);
    for method in [Method::POST, Method::DELETE] {
        let (status, got) = api.error(method.clone(), &path, alice, None).await;
        assert_eq!(
            (status.as_u16(), got.as_str()),
            (403, "TANDEM.4032"),
            "{method}"
        );
    }
    // The link the API returned admits her, with the password.
    api.alice
        .ok("enter_share", &[("code", &code), ("password", "s3cret")])
        .await;
    let mut alice_socket = connect(&api.alice, session).await;
    type_line(&mut socket, "echo api-$((40+2))").await;
    output_until(&mut alice_socket, "api-42").await;

    let (status, cancelled) = api.call(Method::DELETE, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["share_space_id"], shared["share_space_id"]);
    assert_eq!(ended_or_left(&mut alice_socket).await, "left");
    let (_, now) = api.call(Method::GET, &path, admin, None).await;
    assert_eq!(now["status"], "CANCELLED");
    let (status, got) = api.error(Method::DELETE, &path, admin, None).await;
    assert_eq!((status.as_u16(), got.as_str()), (404, "TANDEM.4043"));

    // A host that goes silent: the share space reports why.
    let (_, reopened) = api.call(Method::POST, &path, admin, None).await;
    assert_eq!(reopened["status"], "OPEN");
    assert_eq!(reopened["share_space_passwd"], Value::Null);
    assert_eq!(reopened["share_space_name"], "tandem-test@desk");
    let frozen = api.sshd.freeze_connections();
    assert_eq!(ended(&mut socket).await, "T_514");
    kill_frozen(&frozen);
    let (_, failed) = api.call(Method::GET, &path, admin, None).await;
    assert_eq!(failed["share_space_id"], reopened["share_space_id"]);
    assert_eq!(failed["status"], "ENDED");
    let reason = failed["failed_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("T_514: Connection error (T_514)"),
        "{reason}"
    );
}

/// Reads Alice's socket until she is forced out.
async fn ended_or_left(socket: &mut support::Socket) -> &'static str {
    use protocol::{ServerEvent, ServerMsg};
    loop {
        match support::next(socket).await {
            ServerMsg::Event(ServerEvent::Left { .. }) => return "left",
            ServerMsg::Event(ServerEvent::Ended { .. }) => return "ended",
            _ => {}
        }
    }
}

#[tokio::test]
async fn tokens_are_listed_used_revoked_and_expire() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);

    let listed = api.alice.ok("api_tokens", &[]).await;
    assert_eq!(listed[0]["last_used_at"], Value::Null);
    assert!(
        api.alice_token
            .starts_with(listed[0]["prefix"].as_str().unwrap())
    );
    assert!(
        !listed.to_string().contains(&api.alice_token),
        "the secret is never listed"
    );
    api.call(Method::GET, &path, Some(&api.alice_token), None)
        .await;
    let listed = api.alice.ok("api_tokens", &[]).await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // A token acts only for its own user: Alice cannot revoke the admin's.
    let admin_tokens = api.admin.ok("api_tokens", &[]).await;
    let admin_token_id = id_where(&admin_tokens, "name", "contract tests").to_string();
    let (_, refused) = api
        .alice
        .call("revoke_api_token", &[("id", &admin_token_id)])
        .await;
    assert!(refused["NotFound"].is_string(), "{refused}");
    api.admin
        .ok("revoke_api_token", &[("id", &admin_token_id)])
        .await;
    let (status, code) = api
        .error(Method::GET, &path, Some(&api.admin_token), None)
        .await;
    assert_eq!((status.as_u16(), code.as_str()), (401, "TANDEM.4013"));
    let admin_tokens = api.admin.ok("api_tokens", &[]).await;
    assert_eq!(admin_tokens[0]["status"], "Revoked");

    api.expire_token("alice's script", &api.alice).await;
    let (status, code) = api
        .error(Method::GET, &path, Some(&api.alice_token), None)
        .await;
    assert_eq!((status.as_u16(), code.as_str()), (401, "TANDEM.4014"));

    // A disabled user's tokens stop working at once.
    let carol = id_where(
        &api.admin.ok("admin/list_users", &[]).await,
        "username",
        "carol",
    );
    api.admin
        .ok(
            "admin/set_disabled",
            &[
                ("kind", "user"),
                ("id", &carol.to_string()),
                ("disabled", "true"),
            ],
        )
        .await;
    let (status, code) = api
        .error(Method::GET, &path, Some(&api.carol_token), None)
        .await;
    assert_eq!((status.as_u16(), code.as_str()), (401, "TANDEM.4015"));

    // Invalid lifetimes and names are refused on creation.
    for (name, days) in [("", ""), ("ok", "0"), ("ok", "soon")] {
        let (_, refused) = api
            .alice
            .call(
                "create_api_token",
                &[("name", name), ("expires_in_days", days)],
            )
            .await;
        assert!(refused["Invalid"].is_object(), "{name} {days}: {refused}");
    }
    let created = api
        .alice
        .ok(
            "create_api_token",
            &[("name", "weekly"), ("expires_in_days", "7")],
        )
        .await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["token"]["expires_at"].as_str().unwrap())
            .unwrap();
    let days = (expires.with_timezone(&Utc) - Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days} hours");
}

#[tokio::test]
async fn unknown_paths_and_methods_still_answer_with_the_error_body() {
    let api = Api::open().await;
    for (method, path, status, code) in [
        (Method::GET, "/v2/nothing", 404, "TANDEM.4044"),
        (Method::GET, "/v2/1/desktops/1", 404, "TANDEM.4044"),
        (
            Method::PUT,
            "/v2/1/desktops/1/remote-assistance",
            405,
            "TANDEM.4051",
        ),
    ] {
        let response = reqwest::Client::new()
            .request(method.clone(), api.server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], code, "{body}");
        assert_eq!(
            body,
            json!({
                "error_code": code,
                "error_msg": body["error_msg"],
                "error_detail": body["error_detail"],
                "encoded_authorization_message": null,
            })
        );
    }
}
