//! The shared test harness: a Tandem on port 0 with a fresh data
//! directory, and an HTTP client that keeps cookies like a browser.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test helpers fail loudly

use std::net::SocketAddr;
use std::path::Path;

use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;
use services::{Config, Services};

pub const ADMIN_PASSWORD: &str = "first-admin-pw";
/// A well-formed fingerprint that no test sshd has.
pub const FINGERPRINT: &str = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";

/// A running Tandem; stops when dropped.
pub struct TestServer {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, |_| {}).await
    }

    /// Starts with the test defaults, changed by `adjust`.
    pub async fn start_with(data_dir: &Path, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            admin_password: Some(ADMIN_PASSWORD.to_owned()),
            ..Config::with_data_dir(data_dir)
        };
        adjust(&mut config);
        let (services, _) = Services::start(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let options = LeptosOptions::builder()
            .output_name("tandem")
            .site_addr(address)
            .build();
        let task = tokio::spawn(async move {
            server::serve(listener, services, options).await.unwrap();
        });
        Self { address, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A client with its own cookie jar, like a separate browser.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
            base: self.url(""),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
}

impl Browser {
    /// Calls a server function; returns the status and the JSON body.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn ok(&self, endpoint: &str, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.call(endpoint, form).await;
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        body
    }

    pub async fn log_in(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.call("login", &[("username", username), ("password", password)])
            .await
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The Cookie header this browser sends to the server.
    pub fn cookie(&self) -> String {
        let url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Login on Host Operations: the new session's id, from the redirect.
    pub async fn start_session(&self, host_account_id: i64) -> Result<i64, Value> {
        let response = self
            .client
            .post(format!("{}/api/start_session", self.base))
            .header("Accept", "application/json")
            .form(&[("host_account_id", host_account_id.to_string())])
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|value| value.to_str().unwrap().to_owned());
        let body: Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        match location {
            Some(location) => Ok(location.trim_start_matches("/sessions/").parse().unwrap()),
            None => Err(body),
        }
    }
}
