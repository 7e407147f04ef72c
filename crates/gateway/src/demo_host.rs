//! The built-in demo host: an SSH server inside Tandem, on loopback only,
//! that gives a login shell in a PTY as the user running Tandem, so that a
//! newcomer reaches a working terminal without an SSH server of their own.
//! It admits one key, Tandem's own, kept (like its host key) in the data
//! directory.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use domain::{AccountLogin, Fingerprint};
use rand::RngCore;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::server::{self, Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HOST_KEY_FILE: &str = "demo-host-key";
const CLIENT_KEY_FILE: &str = "demo-client-key";

/// A running demo host and what Tandem needs to log in to it.
pub struct DemoHost {
    pub port: u16,
    pub fingerprint: Fingerprint,
    pub login: AccountLogin,
    /// The private key (OpenSSH format) the demo host admits.
    pub client_key: String,
}

/// Starts the demo host on 127.0.0.1 (port 0 picks a free one).
pub async fn start_demo_host(data_dir: &Path, port: u16) -> io::Result<DemoHost> {
    let host_key = load_or_create_key(&data_dir.join(HOST_KEY_FILE))?;
    let client_key = load_or_create_key(&data_dir.join(CLIENT_KEY_FILE))?;
    let login = current_login()?;
    let fingerprint = Fingerprint::parse(
        &host_key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string(),
    )
    .map_err(io::Error::other)?;
    let authorized = client_key.public_key().clone();
    let config = Arc::new(server::Config {
        keys: vec![host_key],
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: std::time::Duration::from_millis(300),
        nodelay: true,
        ..Default::default()
    });
    // Loopback only, whatever the configuration says.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let port = listener.local_addr()?.port();
    let admitted = login.to_string();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let connection = DemoConnection {
                login: admitted.clone(),
                authorized: authorized.clone(),
                size: (80, 24),
                pty: None,
            };
            let config = config.clone();
            tokio::spawn(async move {
                if let Ok(running) = server::run_stream(config, stream, connection).await {
                    let _ = running.await;
                }
            });
        }
    });
    Ok(DemoHost {
        port,
        fingerprint,
        client_key: client_key
            .to_openssh(LineEnding::LF)
            .map_err(io::Error::other)?
            .to_string(),
        login,
    })
}

fn load_or_create_key(path: &Path) -> io::Result<PrivateKey> {
    match std::fs::read_to_string(path) {
        Ok(pem) => russh::keys::decode_secret_key(&pem, None).map_err(io::Error::other),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut seed);
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let pem = key.to_openssh(LineEnding::LF).map_err(io::Error::other)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(path)?, pem.as_bytes())?;
            Ok(key)
        }
        Err(error) => Err(error),
    }
}

/// The user Tandem runs as: the demo host logs in as them.
fn current_login() -> io::Result<AccountLogin> {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_owned());
    AccountLogin::parse(&name).map_err(io::Error::other)
}

struct DemoConnection {
    login: String,
    authorized: PublicKey,
    size: (u16, u16),
    pty: Option<pty_process::OwnedWritePty>,
}

impl server::Handler for DemoConnection {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if user == self.login && key.public_key.key_data() == self.authorized.key_data() {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _pixel_width: u32,
        _pixel_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = (clamp(cols), clamp(rows));
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match spawn_login_shell(channel, self.size, session.handle()) {
            Ok(writer) => {
                self.pty = Some(writer);
                session.channel_success(channel)
            }
            Err(error) => {
                tracing::warn!(%error, "the demo host could not start a shell");
                session.channel_failure(channel)
            }
        }
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(pty) = self.pty.as_mut() {
            pty.write_all(data).await?;
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _pixel_width: u32,
        _pixel_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = (clamp(cols), clamp(rows));
        if let Some(pty) = &self.pty {
            let _ = pty.resize(pty_process::Size::new(self.size.1, self.size.0));
        }
        Ok(())
    }
}

fn clamp(cells: u32) -> u16 {
    u16::try_from(cells).unwrap_or(u16::MAX).max(1)
}

/// Starts the user's login shell on a new PTY and relays its output to the
/// channel until it exits.
fn spawn_login_shell(
    channel: ChannelId,
    (cols, rows): (u16, u16),
    handle: server::Handle,
) -> io::Result<pty_process::OwnedWritePty> {
    let (pty, pts) = pty_process::open().map_err(io::Error::other)?;
    pty.resize(pty_process::Size::new(rows, cols))
        .map_err(io::Error::other)?;
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/bash".to_owned());
    let name = Path::new(&shell)
        .file_name()
        .map_or("sh".into(), |name| name.to_string_lossy().into_owned());
    let home = std::env::var("HOME").unwrap_or_else(|_| "/".to_owned());
    // A leading dash in argv[0] makes it a login shell.
    let mut child = pty_process::Command::new(&shell)
        .arg0(format!("-{name}"))
        .env("TERM", "xterm-256color")
        .current_dir(home)
        .kill_on_drop(true)
        .spawn(pts)
        .map_err(io::Error::other)?;
    let (mut reader, writer) = pty.into_split();
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if handle.data(channel, buffer[..read].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        }
        let status = child.wait().await.ok().and_then(|status| status.code());
        let code = u32::try_from(status.unwrap_or(1)).unwrap_or(1);
        let _ = handle.exit_status_request(channel, code).await;
        let _ = handle.eof(channel).await;
        let _ = handle.close(channel).await;
    });
    Ok(writer)
}
