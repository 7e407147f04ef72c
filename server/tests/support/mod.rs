//! The shared test harness: a Tandem on port 0 with a fresh data
//! directory, and an HTTP client that keeps cookies like a browser.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test helpers fail loudly

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use leptos::prelude::LeptosOptions;
use protocol::{ClientMsg, PROTOCOL_VERSION, ServerEvent, ServerMsg};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;
use services::{Config, Services};
use test_sshd::{TEST_PASSWORD, TEST_USER};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

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
        Browser::new(self.url(""))
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
    /// A client with its own cookie jar, for the Tandem at `base`.
    pub fn new(base: String) -> Self {
        Self::from_address(base, std::net::Ipv4Addr::LOCALHOST.into())
    }

    /// The same, connecting from the loopback address `address` (any of
    /// 127.0.0.0/8), as a client on another machine would.
    pub fn from_address(base: String, address: std::net::IpAddr) -> Self {
        let jar = Arc::new(Jar::default());
        Browser {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .unwrap(),
            jar,
            base,
        }
    }

    /// Calls a server function; returns the status and the JSON body.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .header("Origin", self.origin())
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

    /// The `Origin` a browser sends with a POST from one of Tandem's pages
    /// (the cross-site guard refuses a POST without one).
    pub fn origin(&self) -> &str {
        self.base.trim_end_matches('/')
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
            .header("Origin", self.origin())
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

    /// The terminal WebSocket request of a session page, with this
    /// browser's cookie and the given `Origin` (none when `None`).
    pub fn terminal_request(&self, session: i64, origin: Option<&str>) -> Request {
        let url = format!(
            "{}/sessions/{session}/terminal",
            self.base.replacen("http", "ws", 1)
        );
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Cookie", self.cookie().parse().unwrap());
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        request
    }

    /// As the admin: adds a project and a host `name` at 127.0.0.1:`port`
    /// pinned to `fingerprint`, with the test sshd's account, granted to
    /// this admin. Returns the account's id.
    pub async fn add_test_host(&self, name: &str, port: u16, fingerprint: &str) -> i64 {
        self.add_host_with_password(name, port, fingerprint, TEST_PASSWORD)
            .await
    }

    /// The same, with the test user's account given `password`.
    pub async fn add_host_with_password(
        &self,
        name: &str,
        port: u16,
        fingerprint: &str,
        password: &str,
    ) -> i64 {
        self.ok(
            "admin/create_project",
            &[("name", name), ("description", "")],
        )
        .await;
        let project = id_where(&self.ok("admin/list_projects", &[]).await, "name", name);
        let host_form = [
            ("project_id", project.to_string()),
            ("name", name.to_owned()),
            ("address", "127.0.0.1".to_owned()),
            ("port", port.to_string()),
            ("host_key", fingerprint.to_owned()),
        ];
        self.ok("admin/create_host", &as_form(&host_form)).await;
        let host = id_where(&self.ok("admin/list_hosts", &[]).await, "name", name);
        let account_form = [
            ("host_id", host.to_string()),
            ("login", TEST_USER.to_owned()),
            ("secret_kind", "password".to_owned()),
            ("secret", password.to_owned()),
        ];
        self.ok("admin/create_host_account", &as_form(&account_form))
            .await;
        let account = id_where(
            &self.ok("admin/list_host_accounts", &[]).await,
            "host_name",
            name,
        );
        let me = id_where(&self.ok("admin/list_users", &[]).await, "username", "admin");
        let grant_form = [
            ("user_id", me.to_string()),
            ("host_account_id", account.to_string()),
        ];
        self.ok("admin/create_grant", &as_form(&grant_form)).await;
        account
    }
}

/// The id of the first record of a listing whose `field` is `value`.
pub fn id_where(listing: &Value, field: &str, value: &str) -> i64 {
    listing
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record[field] == value)
        .unwrap_or_else(|| panic!("no record with {field} = {value} in {listing}"))["id"]
        .as_i64()
        .unwrap()
}

fn as_form<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn signed_in_admin(server: &TestServer) -> Browser {
    let admin = server.browser();
    let (status, body) = admin.log_in("admin", ADMIN_PASSWORD).await;
    assert!(status.is_success(), "{body}");
    admin
}

/// An operator `name` (password `{name}-password`), signed in, with the
/// grant on `account` when given.
pub async fn operator(
    server: &TestServer,
    admin: &Browser,
    name: &str,
    account: Option<i64>,
) -> Browser {
    let password = format!("{name}-password");
    admin
        .ok(
            "admin/create_user",
            &[
                ("username", name),
                ("display_name", &name.to_uppercase()),
                ("role", "operator"),
                ("password", &password),
            ],
        )
        .await;
    if let Some(account) = account {
        let user = id_where(&admin.ok("admin/list_users", &[]).await, "username", name);
        admin
            .ok(
                "admin/create_grant",
                &[
                    ("user_id", &user.to_string()),
                    ("host_account_id", &account.to_string()),
                ],
            )
            .await;
    }
    let browser = server.browser();
    let (status, body) = browser.log_in(name, &password).await;
    assert!(status.is_success(), "{body}");
    browser
}

/// Opens the terminal socket as the session page does and says hello.
pub async fn connect(browser: &Browser, session: i64) -> Socket {
    reconnect(browser, session, None).await
}

/// Opens the terminal socket as a page that already shows the output
/// before `resume_from` does.
pub async fn reconnect(browser: &Browser, session: i64, resume_from: Option<u64>) -> Socket {
    let request = browser.terminal_request(session, Some(&browser.base));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(
        &mut socket,
        ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_from,
        },
    )
    .await;
    match next(&mut socket).await {
        ServerMsg::Event(ServerEvent::Welcome { .. }) => socket,
        other => panic!("expected a welcome, got {other:?}"),
    }
}

pub async fn send(socket: &mut Socket, message: ClientMsg) {
    socket
        .send(Message::binary(message.encode()))
        .await
        .unwrap();
}

pub async fn next(socket: &mut Socket) -> ServerMsg {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), socket.next())
            .await
            .expect("a message within 15 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Binary(frame) = message {
            return ServerMsg::decode(&frame).unwrap();
        }
    }
}

/// Reads until the terminal output contains `needle`.
pub async fn output_until(socket: &mut Socket, needle: &str) -> String {
    let mut seen = String::new();
    let mut searched: usize = 0;
    loop {
        // Only the new text (and what a match may straddle) is searched, so
        // a flood of output costs linear time.
        let mut from = searched.saturating_sub(needle.len());
        while !seen.is_char_boundary(from) {
            from -= 1;
        }
        if seen[from..].contains(needle) {
            return seen;
        }
        searched = seen.len();
        match next(socket).await {
            ServerMsg::Output(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            ServerMsg::Event(ServerEvent::Ended { code, message }) => {
                panic!("ended {code}: {message} after {seen:?}")
            }
            ServerMsg::Event(_) => {}
        }
    }
}

pub async fn ended(socket: &mut Socket) -> String {
    loop {
        if let ServerMsg::Event(ServerEvent::Ended { code, .. }) = next(socket).await {
            return code;
        }
    }
}

pub async fn type_line(socket: &mut Socket, line: &str) {
    send(socket, ClientMsg::Input(format!("{line}\r").into_bytes())).await;
}

/// `binary serve` (the integration tests' `CARGO_BIN_EXE_tandem`) in a
/// process of its own on a free loopback port, with a fresh first admin,
/// until it says it is listening: the process, its base URL and what it
/// printed. `before` runs first in the same shell (a `ulimit`, say).
pub fn serve_process(
    binary: &str,
    data_dir: &Path,
    arguments: &[&str],
    before: &str,
) -> (std::process::Child, String, String) {
    use std::io::{BufRead, BufReader};
    let address = format!("127.0.0.1:{}", test_sshd::closed_port());
    let mut server = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{before} exec \"$0\" serve \"$@\""))
        .arg(binary)
        .args(arguments)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("TANDEM_DATA_DIR", data_dir)
        .env("TANDEM_ADDR", &address)
        .env("TANDEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("DATABASE_URL")
        .env_remove("TANDEM_DEMO_HOST")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    for line in BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Tandem is listening") {
            return (server, format!("http://{address}"), printed);
        }
    }
    let _ = server.kill();
    let status = server.wait().unwrap();
    panic!("tandem serve stopped ({status}) before listening: {printed}");
}
