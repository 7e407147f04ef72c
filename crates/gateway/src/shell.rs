//! An interactive shell on a managed host: a russh client connection run as
//! an actor. Commands go in through one channel and events come out of
//! another; nothing outside this module touches russh.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Fingerprint, HostAddress, Port, SessionEnd, TerminalSize};
use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::sync::mpsc;

use crate::host_key::host_key;

/// Where and as whom to log in.
#[derive(Clone)]
pub struct ShellTarget {
    pub address: HostAddress,
    pub port: Port,
    /// The pinned host key; any other key is refused before authenticating.
    pub fingerprint: Fingerprint,
    pub login: String,
    pub credential: Credential,
}

#[derive(Clone)]
pub enum Credential {
    Password(String),
    /// An unencrypted private key in OpenSSH or PEM format.
    PrivateKey(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect, SSH handshake, host key check and authentication.
    pub connect: Duration,
    /// How often an idle connection is probed.
    pub keepalive_interval: Duration,
    /// Unanswered probes after which the host counts as gone (T_514).
    pub keepalive_max: usize,
}

#[derive(Debug)]
pub enum ShellCommand {
    Input(Vec<u8>),
    Resize(TerminalSize),
    Close,
}

#[derive(Debug)]
pub enum ShellEvent {
    Output(Vec<u8>),
    /// The last event: why the shell is gone (`None` when Tandem closed it).
    Closed(Option<SessionEnd>),
}

/// Output events buffered between the SSH reader and its consumer; when
/// full, the reader stops and SSH flow control slows the host.
const EVENT_BUFFER: usize = 256;

/// The terminal type the host's shell is given: what xterm.js emulates.
pub const TERM: &str = "xterm-256color";

/// Opens a PTY (`xterm-256color`) and a login shell, then carries out
/// `commands` (those sent while connecting wait their turn; closing the
/// channel closes the shell) and returns the shell's events. Fails with the
/// `SessionEnd` to report: a host key mismatch is detected before any
/// credential is sent.
pub async fn open_shell(
    target: ShellTarget,
    size: TerminalSize,
    timeouts: Timeouts,
    mut commands: mpsc::UnboundedReceiver<ShellCommand>,
) -> Result<mpsc::Receiver<ShellEvent>, SessionEnd> {
    let failure = Arc::new(Mutex::new(None));
    let handler = Client {
        pinned: target.fingerprint.clone(),
        failure: failure.clone(),
    };
    let config = Arc::new(client::Config {
        nodelay: true,
        keepalive_interval: Some(timeouts.keepalive_interval),
        keepalive_max: timeouts.keepalive_max,
        ..Default::default()
    });
    // A peer that never speaks SSH makes connect wait forever: one timeout
    // covers everything up to a ready shell.
    let opened = tokio::time::timeout(timeouts.connect, async {
        let address = (target.address.as_str(), target.port.get());
        let mut session = client::connect(config, address, handler)
            .await
            .map_err(|error| connect_error(&error, &failure))?;
        authenticate(&mut session, &target).await?;
        let channel = session
            .channel_open_session()
            .await
            .map_err(|error| connect_error(&error, &failure))?;
        // Browsers speak UTF-8; hosts that accept LANG (Debian's default)
        // then give the shell a UTF-8 locale, as OpenSSH's client would.
        let _ = channel.set_env(false, "LANG", "C.UTF-8").await;
        channel
            .request_pty(
                true,
                TERM,
                u32::from(size.cols()),
                u32::from(size.rows()),
                0,
                0,
                &[],
            )
            .await
            .map_err(|error| connect_error(&error, &failure))?;
        channel
            .request_shell(true)
            .await
            .map_err(|error| connect_error(&error, &failure))?;
        Ok::<_, SessionEnd>((session, channel))
    })
    .await;
    let (session, channel) = match opened {
        Ok(result) => result?,
        Err(_) => return Err(SessionEnd::HostTimeout),
    };

    let (event_sender, events) = mpsc::channel(EVENT_BUFFER);
    let (mut reader, writer) = channel.split();

    // Writes in their own task, so a large paste waiting for the host's
    // window never stops output from being read.
    tokio::spawn(async move {
        while let Some(command) = commands.recv().await {
            let result = match command {
                ShellCommand::Input(bytes) => writer.data(&bytes[..]).await,
                ShellCommand::Resize(size) => {
                    let (cols, rows) = (u32::from(size.cols()), u32::from(size.rows()));
                    writer.window_change(cols, rows, 0, 0).await
                }
                ShellCommand::Close => break,
            };
            if result.is_err() {
                break;
            }
        }
        let _ = writer.close().await;
        let _ = session
            .disconnect(Disconnect::ByApplication, "session closed", "en")
            .await;
    });

    tokio::spawn(async move {
        let mut exited = false;
        while let Some(message) = reader.wait().await {
            match message {
                ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                    let delivered = event_sender.send(ShellEvent::Output(data.to_vec())).await;
                    // Nobody listens any more: the session is gone.
                    if delivered.is_err() {
                        return;
                    }
                }
                ChannelMsg::ExitStatus { .. } | ChannelMsg::ExitSignal { .. } | ChannelMsg::Eof => {
                    exited = true;
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let recorded = failure.lock().ok().and_then(|mut failure| failure.take());
        let end = match recorded {
            Some(failure) => Some(failure),
            None if exited => Some(SessionEnd::ShellExited),
            // The channel vanished without an exit: closed by us, or the
            // connection broke.
            None => None,
        };
        let _ = event_sender.send(ShellEvent::Closed(end)).await;
    });

    Ok(events)
}

async fn authenticate(
    session: &mut client::Handle<Client>,
    target: &ShellTarget,
) -> Result<(), SessionEnd> {
    let result = match &target.credential {
        Credential::Password(password) => {
            session
                .authenticate_password(target.login.clone(), password.clone())
                .await
        }
        Credential::PrivateKey(pem) => {
            let key = russh::keys::decode_secret_key(pem, None)
                .map_err(|_| SessionEnd::AuthenticationRejected)?;
            let hash = session
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten();
            session
                .authenticate_publickey(
                    target.login.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
        }
    };
    match result {
        Ok(outcome) if outcome.success() => Ok(()),
        Ok(_) => Err(SessionEnd::AuthenticationRejected),
        Err(_) => Err(SessionEnd::ConnectionFailed),
    }
}

/// The russh handler: checks the host key against the pinned one and
/// records why the connection failed, for the actor to report.
struct Client {
    pinned: Fingerprint,
    /// A std Mutex: set once from the handler, read once by the reader task.
    failure: Arc<Mutex<Option<SessionEnd>>>,
}

impl Client {
    fn record(&self, end: SessionEnd) {
        if let Ok(mut failure) = self.failure.lock() {
            failure.get_or_insert(end);
        }
    }
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let matches = host_key(presented).is_some_and(|key| key.fingerprint == self.pinned);
        if !matches {
            tracing::warn!(pinned = %self.pinned, "host key mismatch");
            self.record(SessionEnd::HostKeyMismatch);
        }
        Ok(matches)
    }

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            client::DisconnectReason::Error(error) => {
                self.record(match error {
                    russh::Error::KeepaliveTimeout | russh::Error::InactivityTimeout => {
                        SessionEnd::HostTimeout
                    }
                    _ => SessionEnd::ConnectionFailed,
                });
                Err(error)
            }
        }
    }
}

fn connect_error(error: &russh::Error, failure: &Mutex<Option<SessionEnd>>) -> SessionEnd {
    if let Some(recorded) = failure.lock().ok().and_then(|failure| failure.clone()) {
        return recorded;
    }
    match error {
        russh::Error::IO(_) => SessionEnd::HostUnreachable,
        russh::Error::KeepaliveTimeout
        | russh::Error::InactivityTimeout
        | russh::Error::ConnectionTimeout => SessionEnd::HostTimeout,
        russh::Error::UnknownKey => SessionEnd::HostKeyMismatch,
        _ => SessionEnd::ConnectionFailed,
    }
}
