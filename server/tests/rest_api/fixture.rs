//! A Tandem with the test sshd as a desktop, API tokens for three users,
//! and the error bodies the README documents.

use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::support::{Browser, TestServer, id_where, operator, signed_in_admin};
use test_sshd::Sshd;

pub const INTERNAL_URL: &str = "http://tandem.internal:8080";
pub const PUBLIC_URL: &str = "https://tandem.example.org";

pub const MALFORMED: &str = "The request is malformed.";
pub const AUTHENTICATION_FAILED: &str = "Authentication failed.";
pub const NO_PERMISSION: &str = "No permission for this operation.";
pub const NO_SUCH_RESOURCE: &str = "No such resource.";

/// An error answer as the README documents it, without a sealed reason.
pub fn error_body(code: &str, message: &str, detail: &str) -> Value {
    json!({
        "error_code": code,
        "error_msg": message,
        "error_detail": detail,
        "encoded_authorization_message": null,
    })
}

/// A Tandem with the test sshd as a desktop; the admin and Alice hold the
/// grant, Carol does not. Each has an API token.
pub struct Api {
    pub server: TestServer,
    pub admin: Browser,
    pub alice: Browser,
    pub admin_token: String,
    pub alice_token: String,
    pub carol_token: String,
    pub account: i64,
    /// The served OpenAPI document.
    pub document: Value,
    pub sshd: Sshd,
    pub dir: tempfile::TempDir,
}

impl Api {
    pub async fn open() -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(dir.path(), |config| {
            config.internal_url = Some(INTERNAL_URL.to_owned());
            config.public_url = PUBLIC_URL.to_owned();
            config.keepalive_interval = Duration::from_millis(500);
            config.keepalive_max = 2;
            // A host that never answers fails fast, as T_514.
            config.connect_timeout = Duration::from_secs(1);
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
    pub async fn ids(&self) -> (i64, i64) {
        self.ids_of(self.account).await
    }

    /// The project and desktop ids of a host account's host.
    pub async fn ids_of(&self, host_account: i64) -> (i64, i64) {
        let accounts = self.admin.ok("granted_accounts", &[]).await;
        let account = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|account| account["host_account_id"] == host_account)
            .unwrap();
        (
            account["project_id"].as_i64().unwrap(),
            account["host_id"].as_i64().unwrap(),
        )
    }

    pub fn path(&self, project: impl ToString, desktop: impl ToString) -> String {
        format!(
            "/v2/{}/desktops/{}/remote-assistance",
            project.to_string(),
            desktop.to_string()
        )
    }

    /// Sends a request and checks the answer against the OpenAPI document:
    /// the status must be documented for the operation and the body must
    /// match its schema.
    pub async fn call(
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

    pub fn conforms(&self, method: &Method, status: StatusCode, body: &Value) {
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

    /// An error answer: its status and whole body.
    pub async fn error(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let (status, answer) = self.call(method, path, token, body).await;
        assert!(!status.is_success(), "{answer}");
        (status.as_u16(), answer)
    }

    /// Runs `tandem decode-authorization-message` on the server's data
    /// directory: what it printed, and whether it succeeded.
    pub fn decode(&self, message: &str) -> (String, bool) {
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

    /// The server's database, as the tests look behind the API.
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        let url = services::Config::with_data_dir(self.dir.path()).database_url();
        db::connect_and_migrate(&url).await.unwrap()
    }

    /// Sets a token's expiry in the database, as time passing would.
    pub async fn expire_token(&self, name: &str, browser: &Browser) {
        let tokens = browser.ok("api_tokens", &[]).await;
        let id = id_where(&tokens, "name", name);
        db::entities::api_token::ActiveModel {
            id: Set(id),
            expires_at: Set(Some(Utc::now() - chrono::Duration::seconds(1))),
            ..Default::default()
        }
        .update(&self.db().await)
        .await
        .unwrap();
    }

    /// A share's row, by the `share_space_id` the API returned.
    pub async fn share_row(&self, share_space_id: &Value) -> db::entities::share::Model {
        let id: i64 = share_space_id.as_str().unwrap().parse().unwrap();
        db::entities::share::Entity::find_by_id(id)
            .one(&self.db().await)
            .await
            .unwrap()
            .unwrap()
    }

    /// Moves a share's expiry into the past, as time passing would.
    pub async fn expire_share(&self, share_space_id: &Value) {
        let share = self.share_row(share_space_id).await;
        db::entities::share::ActiveModel {
            id: Set(share.id),
            expires_at: Set(Utc::now() - chrono::Duration::seconds(1)),
            ..Default::default()
        }
        .update(&self.db().await)
        .await
        .unwrap();
    }
}

/// Creates a token on the profile page's server function: its secret.
pub async fn token(browser: &Browser, name: &str) -> String {
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
