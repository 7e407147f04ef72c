//! Fetching a host's key so an admin can confirm it before pinning it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Fingerprint, HostAddress, Port};
use russh::client;
use russh::keys::{HashAlg, PublicKeyOrCertificate};

/// A host key as shown to the admin who pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// The key's algorithm, such as `ssh-ed25519`.
    pub algorithm: String,
    pub fingerprint: Fingerprint,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchHostKeyError {
    #[error("the host did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the host: {0}")]
    Unreachable(String),
    #[error("the host did not present an SSH host key: {0}")]
    NotSsh(String),
}

/// Records the key the server presents, then refuses it: fetching never
/// authenticates or sends anything beyond the key exchange.
struct KeyRecorder {
    seen: Arc<Mutex<Option<HostKey>>>,
}

impl client::Handler for KeyRecorder {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // A std Mutex: held for one assignment, never across an await.
        if let (Some(key), Ok(mut seen)) = (host_key(key), self.seen.lock()) {
            *seen = Some(key);
        }
        Ok(false)
    }
}

pub async fn fetch_host_key(
    address: &HostAddress,
    port: Port,
    timeout: Duration,
) -> Result<HostKey, FetchHostKeyError> {
    let seen = Arc::new(Mutex::new(None));
    let recorder = KeyRecorder { seen: seen.clone() };
    let config = Arc::new(client::Config {
        nodelay: true,
        ..Default::default()
    });
    let target = (address.as_str(), port.get());
    // A listener that never speaks SSH makes connect wait forever: the
    // timeout covers TCP, banner and key exchange together.
    let outcome = tokio::time::timeout(timeout, client::connect(config, target, recorder)).await;
    let key = seen.lock().ok().and_then(|mut seen| seen.take());
    match (outcome, key) {
        (_, Some(key)) => Ok(key),
        (Err(_), None) => Err(FetchHostKeyError::Timeout(timeout)),
        (Ok(Err(russh::Error::IO(error))), None) => {
            Err(FetchHostKeyError::Unreachable(error.to_string()))
        }
        (Ok(Err(error)), None) => Err(FetchHostKeyError::NotSsh(error.to_string())),
        (Ok(Ok(_)), None) => Err(FetchHostKeyError::NotSsh(
            "the connection succeeded without a key check".to_owned(),
        )),
    }
}

/// The algorithm and fingerprint of what the host presents; for a host
/// certificate, those of its key.
pub(crate) fn host_key(presented: &PublicKeyOrCertificate) -> Option<HostKey> {
    let (algorithm, fingerprint) = match presented {
        PublicKeyOrCertificate::PublicKey { key, .. } => {
            (key.algorithm(), key.fingerprint(HashAlg::Sha256))
        }
        PublicKeyOrCertificate::Certificate(certificate) => (
            certificate.algorithm(),
            certificate.public_key().fingerprint(HashAlg::Sha256),
        ),
    };
    Some(HostKey {
        algorithm: algorithm.to_string(),
        fingerprint: Fingerprint::parse(&fingerprint.to_string()).ok()?,
    })
}
