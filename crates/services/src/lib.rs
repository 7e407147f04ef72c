//! Tandem's application layer. `Services` is cheap to clone and is handed to
//! server functions, HTTP handlers and the CLI alike; every permission check
//! and business rule that touches storage happens here, not in the web layer.

mod access;
mod api_tokens;
mod audit;
mod config;
mod control;
mod data_dir;
mod demo;
mod error;
mod grants;
mod host_accounts;
mod hosts;
mod keyframes;
mod mail;
mod my_sessions;
mod named_shares;
mod notifications;
mod om_sessions;
pub use hosts::{FetchedHostKey, HostForm};
mod clock;
mod passwords;
mod projects;
mod recording;
mod recordings;
mod remote_assistance;
mod secrets;
mod session_admin;
mod session_clock;
mod shares;
mod terminal;
mod users;
mod web_sessions;

use std::sync::{Arc, Mutex};

use anyhow::Context;
use domain::LoginLimiter;
use sea_orm::DatabaseConnection;

pub use access::{Actor, Admin};
pub use api_tokens::TokenRejection;
pub use clock::Clock;
pub use config::Config;
pub use error::ServiceError;
pub use keyframes::{KEYFRAME_EVERY_BYTES, Keyframe, keyframes};
pub use named_shares::NamedShare;
pub use recordings::Recording;
pub use remote_assistance::ShareSpaceOptions;
pub use secrets::SecretBox;
pub use terminal::Attachment;
pub use users::FirstAdmin;
pub use web_sessions::WebSessionStore;

#[derive(Clone)]
pub struct Services {
    db: DatabaseConnection,
    config: Arc<Config>,
    secrets: Arc<SecretBox>,
    /// A std Mutex: every use is a short, synchronous update, never held
    /// across an await.
    login_limiter: Arc<Mutex<LoginLimiter>>,
    /// Failed invitation codes and passwords, like `login_limiter`.
    invitation_limiter: Arc<Mutex<LoginLimiter>>,
    live: Arc<terminal::LiveSessions>,
    /// `None` unless SMTP is configured.
    mailer: Option<Arc<mail::Mailer>>,
}

impl Services {
    /// Opens the data directory and the database, applies migrations and
    /// makes sure a first admin exists. Returns the first admin's password
    /// when this start created it, so the caller can print it once.
    ///
    /// Touches nothing that belongs to a running server: a command-line
    /// action opens Tandem this way beside a server on the same database.
    pub async fn open(config: Config) -> anyhow::Result<(Self, Option<FirstAdmin>)> {
        data_dir::make_private(&config.data_dir)?;
        let secrets = SecretBox::load_or_create(&config.data_dir, config.secret_key.as_deref())
            .context("loading the secret key")?;
        let db = db::connect_and_migrate(&config.database_url())
            .await
            .context("opening the database")?;
        let mailer = match &config.smtp_url {
            Some(url) => Some(Arc::new(
                mail::Mailer::new(url, &config.mail_from).context("setting up email")?,
            )),
            None => None,
        };
        let services = Self {
            db,
            mailer,
            login_limiter: Arc::new(Mutex::new(LoginLimiter::new(config.login_limits))),
            invitation_limiter: Arc::new(Mutex::new(LoginLimiter::new(config.login_limits))),
            secrets: Arc::new(secrets),
            config: Arc::new(config),
            live: Arc::default(),
        };
        let first_admin = services
            .ensure_first_admin()
            .await
            .map_err(|error| anyhow::anyhow!("creating the first admin: {error:?}"))?;
        Ok((services, first_admin))
    }

    /// Makes this process the node that runs sessions: sessions left active
    /// by a previous run are closed (their shells died with it) and the
    /// clock that starts and ends windows begins. Only `tandem serve` does
    /// this.
    pub async fn start_node(&self) -> anyhow::Result<()> {
        self.close_orphaned_sessions()
            .await
            .map_err(|error| anyhow::anyhow!("closing sessions of a previous run: {error:?}"))?;
        self.spawn_clock();
        Ok(())
    }

    /// `open`, then `start_node`: a server's whole start.
    pub async fn start(config: Config) -> anyhow::Result<(Self, Option<FirstAdmin>)> {
        let (services, first_admin) = Self::open(config).await?;
        services.start_node().await?;
        Ok((services, first_admin))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The time of day, from the configured clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    pub fn web_session_store(&self) -> WebSessionStore {
        WebSessionStore::new(self.db.clone())
    }
}
