//! Password hashing with argon2id (the argon2 crate's default parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::rngs::OsRng;

use crate::ServiceError;

/// Hashing takes tens of milliseconds of CPU: run it off the async workers.
pub(crate) async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| ServiceError::Internal(anyhow::anyhow!("hashing: {error}")))
    })
    .await
    .map_err(|error| ServiceError::Internal(error.into()))?
}

pub(crate) async fn verify(password: String, hash: String) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|error| ServiceError::Internal(anyhow::anyhow!("stored hash: {error}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|error| ServiceError::Internal(error.into()))?
}

/// A hash of a random password, verified against when the user is unknown so
/// that a login for a missing user takes as long as one with a wrong
/// password.
pub(crate) const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$JgIiEJkhvVX0sb4hoDP+oLAK2ohBkmxLX3DY1pCjXac";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash("correct horse".to_owned()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".to_owned(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".to_owned(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn the_decoy_hash_parses_and_matches_nothing_likely() {
        assert!(
            !verify("admin".to_owned(), DECOY_HASH.to_owned())
                .await
                .unwrap()
        );
    }
}
