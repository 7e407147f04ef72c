//! API tokens: the secret's format, its name and its lifetime. Hashing and
//! storage happen in the services; the random bytes come from the caller.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Every secret starts with this, so a leaked one is easy to recognise (and
/// for secret scanners to find).
pub const API_TOKEN_PREFIX: &str = "tandem_";

/// Random bytes in a secret: 256 bits, so guessing is hopeless and a plain
/// SHA-256 of the secret is a safe thing to store.
pub const API_TOKEN_BYTES: usize = 32;

/// How many characters of a secret lists show.
const SHOWN_CHARACTERS: usize = API_TOKEN_PREFIX.len() + 6;

/// The longest lifetime a token may be given.
pub const API_TOKEN_MAX_DAYS: u32 = 3650;

/// A token's secret: the prefix and 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiTokenSecret(String);

impl ApiTokenSecret {
    pub fn from_bytes(bytes: [u8; API_TOKEN_BYTES]) -> Self {
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        Self(format!("{API_TOKEN_PREFIX}{hex}"))
    }

    /// A secret as sent by a client, if it has the right shape. Anything
    /// else cannot be a token, so it is refused before any lookup.
    pub fn parse(value: &str) -> Option<Self> {
        let hex = value.strip_prefix(API_TOKEN_PREFIX)?;
        let well_formed = hex.len() == 2 * API_TOKEN_BYTES
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        well_formed.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The start of the secret, shown in lists to tell tokens apart.
    pub fn shown_prefix(&self) -> String {
        self.0[..SHOWN_CHARACTERS].to_owned()
    }
}

impl std::fmt::Debug for ApiTokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiTokenSecret(..)")
    }
}

/// The name a user gives a token: 1 to 64 characters, no control
/// characters.
pub fn api_token_name(value: &str) -> Result<String, ValidationError> {
    let name = value.trim();
    let length = name.chars().count();
    if length == 0 || length > 64 {
        return Err(ValidationError::new("name", "must be 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// The optional lifetime from the form: empty means the token never
/// expires; otherwise a whole number of days.
pub fn api_token_days(value: &str) -> Result<Option<u32>, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(days) if (1..=API_TOKEN_MAX_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(ValidationError::new(
            "expires_in_days",
            format!("must be a whole number of days from 1 to {API_TOKEN_MAX_DAYS}, or empty"),
        )),
    }
}

/// Whether a token still authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiTokenStatus {
    Active,
    Expired,
    Revoked,
}

impl ApiTokenStatus {
    pub fn label(self) -> &'static str {
        match self {
            ApiTokenStatus::Active => "Active",
            ApiTokenStatus::Expired => "Expired",
            ApiTokenStatus::Revoked => "Revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_hide_in_debug_output() {
        let secret = ApiTokenSecret::from_bytes([0xab; API_TOKEN_BYTES]);
        assert_eq!(secret.as_str().len(), API_TOKEN_PREFIX.len() + 64);
        assert_eq!(ApiTokenSecret::parse(secret.as_str()), Some(secret.clone()));
        assert_eq!(secret.shown_prefix(), "tandem_ababab");
        assert_eq!(format!("{secret:?}"), "ApiTokenSecret(..)");
    }

    #[test]
    fn malformed_secrets_are_refused() {
        let good = ApiTokenSecret::from_bytes([7; API_TOKEN_BYTES]);
        let upper = good.as_str().to_uppercase();
        let short = &good.as_str()[..good.as_str().len() - 1];
        let other_prefix = good.as_str().replace("tandem_", "tandom_");
        for bad in ["", "tandem_", &upper, short, &other_prefix, "tandem_zz"] {
            assert_eq!(ApiTokenSecret::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_and_lifetimes_are_validated() {
        assert_eq!(api_token_name("  ci  ").unwrap(), "ci");
        assert!(api_token_name(" ").is_err());
        assert_eq!(api_token_name(&"x".repeat(64)).unwrap().len(), 64);
        assert!(api_token_name(&"x".repeat(65)).is_err());
        assert!(api_token_name("a\nb").is_err());
        assert_eq!(api_token_days("").unwrap(), None);
        assert_eq!(api_token_days(" 30 ").unwrap(), Some(30));
        for bad in ["0", "-1", "1.5", "x", "3651"] {
            assert!(api_token_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_are_labelled_for_the_profile_page() {
        let labels = [
            ApiTokenStatus::Active,
            ApiTokenStatus::Expired,
            ApiTokenStatus::Revoked,
        ]
        .map(ApiTokenStatus::label);
        assert_eq!(labels, ["Active", "Expired", "Revoked"]);
    }
}
