//! Encryption at rest of host account secrets, with ChaCha20-Poly1305.
//!
//! The key comes from configuration (base64 of 32 bytes) or from the file
//! `secret.key` in the data directory, created with mode 0600 at first start.
//! Losing it makes every stored secret unreadable; back it up with the
//! database.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::data_dir::write_new_private_file;

const KEY_FILE: &str = "secret.key";
const NONCE_LEN: usize = 12;

pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn load_or_create(data_dir: &Path, configured: Option<&str>) -> anyhow::Result<Self> {
        let key = match configured {
            Some(encoded) => decode_key(encoded).context("the configured secret key")?,
            None => load_or_create_key_file(&data_dir.join(KEY_FILE))?,
        };
        Ok(Self::from_key(&key))
    }

    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Encrypts under a fresh random nonce; returns nonce then ciphertext.
    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            bail!("sealed secret is too short");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("the secret does not decrypt under this key"))
    }
}

fn decode_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = BASE64
        .decode(encoded.trim())
        .context("it is not valid base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("it must be 32 bytes (44 characters of base64)"))
}

fn load_or_create_key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(encoded) => decode_key(&encoded).with_context(|| format!("reading {}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = ChaCha20Poly1305::generate_key(&mut OsRng).into();
            write_new_private_file(path, BASE64.encode(key).as_bytes())
                .with_context(|| format!("creating {}", path.display()))?;
            Ok(key)
        }
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_under_their_key() {
        let one = SecretBox::from_key(&[1; 32]);
        let other = SecretBox::from_key(&[2; 32]);
        let sealed = one.seal(b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|window| window == b"hunter2"));
        assert_eq!(one.open(&sealed).unwrap(), b"hunter2");
        assert!(other.open(&sealed).is_err());
        // A fresh nonce each time: the same secret never seals the same way.
        assert_ne!(one.seal(b"hunter2").unwrap(), sealed);
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretBox::load_or_create(dir.path(), None).unwrap();
        let sealed = first.seal(b"s3cret").unwrap();
        let again = SecretBox::load_or_create(dir.path(), None).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), b"s3cret");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o600);
    }

    #[test]
    fn a_configured_key_must_be_32_bytes_of_base64() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SecretBox::load_or_create(dir.path(), Some("not base64!")).is_err());
        assert!(SecretBox::load_or_create(dir.path(), Some("AAAA")).is_err());
        let key = BASE64.encode([7u8; 32]);
        assert!(SecretBox::load_or_create(dir.path(), Some(&key)).is_ok());
        assert!(!dir.path().join(KEY_FILE).exists());
    }
}
