//! The command line: settings (each also an environment variable) and the
//! administration commands, which call the same services as the web pages.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use domain::{HostAccountId, HostId, LoginLimits, ProjectId};
use leptos::prelude::LeptosOptions;
use services::{Admin, Config, HostForm, ServiceError, Services};

#[derive(Debug, Parser)]
#[command(name = "tandem", version, about = "Tandem, a web bastion host")]
pub struct Arguments {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct Settings {
    /// Directory for the SQLite database and the secret key file.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// A postgres:// URL to use PostgreSQL instead of the SQLite file.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Key for host account secrets: base64 of 32 bytes. Default: the file
    /// secret.key in the data directory, created at first start.
    #[arg(long, env = "TANDEM_SECRET_KEY", hide_env_values = true, global = true)]
    secret_key: Option<String>,
    /// Password of the first admin, used only when the database has no users.
    #[arg(
        long,
        env = "TANDEM_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    admin_password: Option<String>,
    /// Address and port to listen on.
    #[arg(
        long,
        env = "TANDEM_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    addr: String,
    /// The URL browsers use to reach Tandem; https makes cookies Secure.
    #[arg(
        long,
        env = "TANDEM_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    public_url: String,
    /// The URL that reaches Tandem inside the organisation's network, for
    /// the REST API's private_share_link. Default: the public URL.
    #[arg(long, env = "TANDEM_INTERNAL_URL", global = true)]
    internal_url: Option<String>,
    /// Minutes without a request after which a browser is signed out.
    #[arg(
        long,
        env = "TANDEM_SESSION_IDLE_MINUTES",
        default_value_t = 480,
        value_parser = clap::value_parser!(u64).range(1..=525_600),
        global = true
    )]
    session_idle_minutes: u64,
    /// Failed logins allowed per account within the window.
    #[arg(
        long,
        env = "TANDEM_LOGIN_FAILURES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    login_failures_per_account: usize,
    /// Failed logins allowed per client address within the window.
    #[arg(
        long,
        env = "TANDEM_LOGIN_FAILURES_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    login_failures_per_address: usize,
    /// The failed-login window, in seconds.
    #[arg(
        long,
        env = "TANDEM_LOGIN_WINDOW_SECS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        global = true
    )]
    login_window_secs: u64,
    /// Run the built-in demo host (an SSH server on 127.0.0.1 that gives a
    /// shell as the user running Tandem). Turn it off in production.
    #[arg(long, env = "TANDEM_DEMO_HOST", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    demo_host: bool,
    /// The demo host's port on 127.0.0.1; 0 picks a free one at each start.
    #[arg(
        long,
        env = "TANDEM_DEMO_HOST_PORT",
        default_value_t = 0,
        global = true
    )]
    demo_host_port: u16,
    /// Seconds allowed to reach a host and finish the SSH handshake.
    #[arg(
        long,
        env = "TANDEM_CONNECT_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    connect_timeout_secs: u64,
    /// Seconds between keepalive probes of an idle SSH connection.
    #[arg(
        long,
        env = "TANDEM_KEEPALIVE_SECS",
        default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    keepalive_secs: u64,
    /// Unanswered keepalive probes after which a host counts as gone (T_514).
    #[arg(long, env = "TANDEM_KEEPALIVE_MAX", default_value_t = 3, global = true)]
    keepalive_max: usize,
    /// Seconds a session waits for its creator's browser to reconnect.
    #[arg(
        long,
        env = "TANDEM_RECONNECT_GRACE_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=86_400),
        global = true
    )]
    reconnect_grace_secs: u64,
    /// Seconds a request for control waits for an answer.
    #[arg(
        long,
        env = "TANDEM_CONTROL_REQUEST_TIMEOUT_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        global = true
    )]
    control_request_timeout_secs: u64,
    /// Active sessions one user may hold at once.
    #[arg(
        long,
        env = "TANDEM_MAX_SESSIONS_PER_USER",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    max_sessions_per_user: u32,
    /// Minutes a session opened with Login may run; its owner can extend it.
    #[arg(
        long,
        env = "TANDEM_SESSION_MINUTES",
        default_value_t = 480,
        value_parser = clap::value_parser!(u64).range(5..=1440),
        global = true
    )]
    session_minutes: u64,
    /// The SMTP server notifications are mailed through, e.g.
    /// `smtp://127.0.0.1:25`, `smtp://user:pass@mail.example.com:587?tls=required`
    /// or `smtps://mail.example.com`. No email is sent without it.
    #[arg(long, env = "TANDEM_SMTP_URL", hide_env_values = true, global = true)]
    smtp_url: Option<String>,
    /// The sender of Tandem's email.
    #[arg(
        long,
        env = "TANDEM_MAIL_FROM",
        default_value = "Tandem <tandem@localhost>",
        global = true
    )]
    mail_from: String,
}

impl Settings {
    fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            secret_key: self.secret_key.clone(),
            admin_password: self.admin_password.clone(),
            public_url: self.public_url.clone(),
            internal_url: self.internal_url.clone(),
            web_session_idle: Duration::from_secs(self.session_idle_minutes * 60),
            login_limits: LoginLimits {
                per_account: self.login_failures_per_account,
                per_address: self.login_failures_per_address,
                window: Duration::from_secs(self.login_window_secs),
            },
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            keepalive_interval: Duration::from_secs(self.keepalive_secs),
            keepalive_max: self.keepalive_max.max(1),
            reconnect_grace: Duration::from_secs(self.reconnect_grace_secs),
            control_request_timeout: Duration::from_secs(self.control_request_timeout_secs),
            session_length: Duration::from_secs(self.session_minutes * 60),
            max_live_sessions_per_user: self.max_sessions_per_user,
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            ..Config::with_data_dir(&self.data_dir)
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage hosts.
    #[command(subcommand)]
    Host(HostCommand),
    /// Manage host accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Grant a host account to a user.
    Grant {
        #[arg(long)]
        user: String,
        #[arg(long)]
        account: i64,
    },
    /// List users, projects, hosts, accounts or grants.
    List {
        #[arg(value_enum)]
        what: Listing,
    },
    /// Print the detailed reason sealed in a REST API refusal's
    /// encoded_authorization_message.
    DecodeAuthorizationMessage { message: String },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "operator")]
        role: String,
        /// Read from standard input when not given.
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ProjectCommand {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
}

#[derive(Debug, Subcommand)]
enum HostCommand {
    Create {
        #[arg(long)]
        project: i64,
        #[arg(long)]
        name: String,
        #[arg(long)]
        address: String,
        #[arg(long, default_value = "22")]
        port: String,
        /// A SHA256 fingerprint or an OpenSSH public key line to pin.
        #[arg(long, required_unless_present = "fetch_key")]
        host_key: Option<String>,
        /// Pin the key the host presents now (trust on first use).
        #[arg(long)]
        fetch_key: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    Create {
        #[arg(long)]
        host: i64,
        #[arg(long)]
        login: String,
        /// The account's password; read from standard input when neither
        /// this nor --private-key-file is given.
        #[arg(long, conflicts_with = "private_key_file")]
        password: Option<String>,
        #[arg(long)]
        private_key_file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Listing {
    Users,
    Projects,
    Hosts,
    Accounts,
    Grants,
}

pub async fn run(arguments: Arguments) -> anyhow::Result<()> {
    let config = arguments.settings.config();
    let (services, first_admin) = Services::open(config).await?;
    if let Some(first_admin) = first_admin {
        match first_admin.generated_password {
            Some(password) => println!(
                "Created the first admin: user name {}, password {password}\n\
                 This password is shown only once: keep it somewhere safe.",
                first_admin.username
            ),
            None => println!(
                "Created the first admin {} with the password from TANDEM_ADMIN_PASSWORD.",
                first_admin.username
            ),
        }
    }
    let admin = Admin::command_line();
    match arguments.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            // Listening first: a second server on a port already taken
            // stops here, before it touches the first one's sessions.
            let (listener, leptos_options) = listen(&arguments.settings.addr).await?;
            services.start_node().await?;
            if arguments.settings.demo_host {
                let port = services
                    .start_demo_host(arguments.settings.demo_host_port)
                    .await
                    .context("starting the demo host")?;
                println!("The demo host listens on 127.0.0.1:{port} (project Demo, host demo).");
            }
            println!("Tandem is listening on http://{}", listener.local_addr()?);
            server::serve(listener, services, leptos_options).await?;
        }
        Command::User(UserCommand::Create {
            username,
            display_name,
            role,
            password,
        }) => {
            let password = password.map_or_else(|| read_line("password"), Ok)?;
            let display_name = display_name.unwrap_or_else(|| username.clone());
            let id = services
                .create_user(admin, &username, &display_name, &role, &password)
                .await
                .map_err(explain)?;
            println!("user {id} {username}");
        }
        Command::Project(ProjectCommand::Create { name, description }) => {
            let id = services
                .create_project(admin, &name, &description)
                .await
                .map_err(explain)?;
            println!("project {id} {name}");
        }
        Command::Host(HostCommand::Create {
            project,
            name,
            address,
            port,
            host_key,
            fetch_key,
        }) => {
            let host_key = match (host_key, fetch_key) {
                (Some(key), _) => key,
                (None, _) => {
                    let key = services
                        .fetch_host_key(admin, &address, &port)
                        .await
                        .map_err(explain)?;
                    println!("pinning the {} key {}", key.algorithm, key.fingerprint);
                    key.fingerprint
                }
            };
            let form = HostForm {
                project_id: ProjectId(project),
                name: &name,
                address: &address,
                port: &port,
                host_key: &host_key,
            };
            let id = services.create_host(admin, form).await.map_err(explain)?;
            println!("host {id} {name}");
        }
        Command::Account(AccountCommand::Create {
            host,
            login,
            password,
            private_key_file,
        }) => {
            let (kind, secret) = match (password, private_key_file) {
                (_, Some(path)) => (
                    "private_key",
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                (Some(password), None) => ("password", password),
                (None, None) => ("password", read_line("password")?),
            };
            let id = services
                .create_host_account(admin, HostId(host), &login, kind, &secret)
                .await
                .map_err(explain)?;
            println!("account {id} {login}");
        }
        Command::Grant { user, account } => {
            let user_id = services.user_id_by_name(&user).await.map_err(explain)?;
            let id = services
                .create_grant(admin, user_id, HostAccountId(account))
                .await
                .map_err(explain)?;
            println!("grant {id}");
        }
        Command::List { what } => list(&services, admin, what).await.map_err(explain)?,
        Command::DecodeAuthorizationMessage { message } => {
            println!("{}", services.open_note(admin, &message).map_err(explain)?);
        }
    }
    Ok(())
}

async fn listen(addr: &str) -> anyhow::Result<(tokio::net::TcpListener, LeptosOptions)> {
    let site_addr: std::net::SocketAddr = addr
        .parse()
        .with_context(|| format!("TANDEM_ADDR {addr:?} is not an address and port"))?;
    // The site that build_site (scripts/tools.sh) builds: the page's bundle
    // is pkg/tandem.js under the site root.
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".to_owned());
    let leptos_options = LeptosOptions::builder()
        .output_name("tandem")
        .site_root(site_root)
        .site_addr(site_addr)
        .build();
    let listener = tokio::net::TcpListener::bind(leptos_options.site_addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    Ok((listener, leptos_options))
}

async fn list(services: &Services, admin: Admin, what: Listing) -> Result<(), ServiceError> {
    match what {
        Listing::Users => {
            for user in services.list_users(admin).await? {
                let status = if user.disabled { "disabled" } else { "enabled" };
                println!(
                    "{}\t{}\t{}\t{}\t{status}",
                    user.id, user.username, user.role, user.display_name
                );
            }
        }
        Listing::Projects => {
            for project in services.list_projects(admin).await? {
                println!("{}\t{}\t{}", project.id, project.name, project.description);
            }
        }
        Listing::Hosts => {
            for host in services.list_hosts(admin).await? {
                println!(
                    "{}\t{}\t{}:{}\t{}\t{}",
                    host.id,
                    host.name,
                    host.address,
                    host.port,
                    host.project_name,
                    host.host_key_fingerprint
                );
            }
        }
        Listing::Accounts => {
            for account in services.list_host_accounts(admin).await? {
                println!(
                    "{}\t{}@{}\t{}\t{}",
                    account.id,
                    account.login,
                    account.host_name,
                    account.project_name,
                    account.secret_kind.as_str()
                );
            }
        }
        Listing::Grants => {
            for grant in services.list_grants(admin).await? {
                println!(
                    "{}\t{}\t{}",
                    grant.id, grant.username, grant.host_account_label
                );
            }
        }
    }
    Ok(())
}

fn read_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        bail!("no {what} given: pass it as an option or on standard input");
    }
    Ok(line)
}

/// Service errors in words for the terminal; internal causes in full, since
/// whoever runs the command line runs the server.
fn explain(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Internal(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}
