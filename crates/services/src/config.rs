//! Tandem's settings. The server's CLI fills this from flags and environment
//! variables; tests build it directly.

use std::path::PathBuf;
use std::time::Duration;

use domain::LoginLimits;

use crate::Clock;

#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the SQLite file, the secret key file and (later) recordings.
    pub data_dir: PathBuf,
    /// A `sqlite:` or `postgres:` URL; `None` means the SQLite file in
    /// `data_dir`.
    pub database_url: Option<String>,
    /// Base64 of 32 bytes; `None` means the key file in `data_dir`.
    pub secret_key: Option<String>,
    /// The first admin's password; `None` means a random one, printed once.
    pub admin_password: Option<String>,
    /// The browser-facing base URL; `https` makes cookies `Secure`.
    pub public_url: String,
    /// The base URL inside the organisation's network, for the API's
    /// `private_share_link`; `None` means `public_url`.
    pub internal_url: Option<String>,
    /// A signed-in browser is signed out after this long without a request.
    pub web_session_idle: Duration,
    pub login_limits: LoginLimits,
    /// Reaching a host, the SSH handshake and authentication, together.
    pub connect_timeout: Duration,
    /// How often an idle SSH connection is probed.
    pub keepalive_interval: Duration,
    /// Unanswered probes after which a host counts as gone (T_514).
    pub keepalive_max: usize,
    /// How long a session waits for its creator's browser to come back
    /// after the connection dropped (a reload, a network blip).
    pub reconnect_grace: Duration,
    /// How long a request for control waits for an answer.
    pub control_request_timeout: Duration,
    /// Always true in Tandem itself: no flag or environment variable turns
    /// recording off. Only the terminal benchmark clears it, to measure
    /// what recording costs.
    pub record_sessions: bool,
    /// The window of a session opened with Login.
    pub session_length: Duration,
    /// How many active sessions one user may hold at once: each holds an
    /// SSH connection until it ends.
    pub max_live_sessions_per_user: u32,
    /// Where notifications are mailed through; `None` sends no email.
    pub smtp_url: Option<String>,
    /// The sender of Tandem's email.
    pub mail_from: String,
    /// The time of day: the system's, unless a test moves it.
    pub clock: Clock,
}

impl Config {
    /// Settings for a data directory with every other value at its default.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            secret_key: None,
            admin_password: None,
            public_url: "http://127.0.0.1:3000".to_owned(),
            internal_url: None,
            web_session_idle: Duration::from_secs(8 * 3600),
            login_limits: LoginLimits::default(),
            connect_timeout: Duration::from_secs(10),
            keepalive_interval: Duration::from_secs(15),
            keepalive_max: 3,
            reconnect_grace: Duration::from_secs(30),
            control_request_timeout: domain::REQUEST_TIMEOUT,
            record_sessions: true,
            session_length: Duration::from_secs(8 * 3600),
            max_live_sessions_per_user: 10,
            smtp_url: None,
            mail_from: "Tandem <tandem@localhost>".to_owned(),
            clock: Clock::default(),
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tandem.db").display()
            ),
        }
    }

    pub fn internal_url(&self) -> &str {
        self.internal_url.as_deref().unwrap_or(&self.public_url)
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
