//! Parsing what an admin pastes: a host key to pin, an account's private key.

use domain::{Fingerprint, ValidationError};
use russh::keys::{HashAlg, PublicKey};

/// Turns a pasted host key into the fingerprint to pin. Accepts an OpenSSH
/// public key line (`ssh-ed25519 AAAA... comment`, as in `known_hosts` or
/// `ssh-keyscan` output, with or without a leading host name) or a
/// `SHA256:...` fingerprint.
pub fn parse_pinned_key(pasted: &str) -> Result<Fingerprint, ValidationError> {
    let pasted = pasted.trim();
    if pasted.starts_with("SHA256:") {
        return Fingerprint::parse(pasted);
    }
    let words: Vec<&str> = pasted.split_whitespace().collect();
    // known_hosts and ssh-keyscan lines start with the host name.
    let start = words
        .iter()
        .position(|word| word.starts_with("ssh-") || word.starts_with("ecdsa-"))
        .ok_or_else(|| {
            ValidationError::new(
                "host_key",
                "must be a SHA256 fingerprint (SHA256:...) or an OpenSSH public key",
            )
        })?;
    let line = words[start..].join(" ");
    let key = PublicKey::from_openssh(&line)
        .map_err(|_| ValidationError::new("host_key", "is not a valid OpenSSH public key"))?;
    Fingerprint::parse(&key.fingerprint(HashAlg::Sha256).to_string())
}

/// Checks that a pasted private key is one Tandem can log in with.
pub fn check_private_key(pem: &str) -> Result<(), ValidationError> {
    match russh::keys::decode_secret_key(pem.trim(), None) {
        Ok(_) => Ok(()),
        Err(russh::keys::Error::KeyIsEncrypted) => Err(ValidationError::new(
            "secret",
            "the private key is protected by a passphrase: remove it first (ssh-keygen -p)",
        )),
        Err(_) => Err(ValidationError::new(
            "secret",
            "is not a valid private key (OpenSSH or PEM format)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A throwaway key made for these tests with `ssh-keygen -t ed25519`.
    const PUBLIC: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1gstGHxbP2NfpbIfGTC4ApdhKSN9V6bSx1KJq3WsEw test@tandem";
    const FINGERPRINT: &str = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";

    #[test]
    fn a_public_key_line_becomes_its_fingerprint() {
        let fingerprint = parse_pinned_key(PUBLIC).unwrap();
        assert_eq!(fingerprint.as_str(), FINGERPRINT);
        let with_host = format!("[127.0.0.1]:2222 {PUBLIC}");
        assert_eq!(parse_pinned_key(&with_host).unwrap(), fingerprint);
    }

    #[test]
    fn a_fingerprint_is_taken_as_it_is() {
        let fingerprint = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
        assert_eq!(parse_pinned_key(fingerprint).unwrap().as_str(), fingerprint);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse_pinned_key("hello").is_err());
        assert!(parse_pinned_key("ssh-ed25519 notbase64!").is_err());
        assert!(check_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n").is_err());
    }
}
