//! Shares (the invitation on a live session): the invitation code, the
//! validity choices, the share's status, and why an invitation refuses
//! someone (rule 10).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// The characters of an invitation code.
pub const INVITATION_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const INVITATION_CODE_LENGTH: usize = 8;

/// Eight characters from A-Z and 0-9.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvitationCode(String);

impl InvitationCode {
    /// Accepts what a user typed: surrounding spaces and lower case are
    /// forgiven.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let code = value.trim().to_ascii_uppercase();
        if code.len() == INVITATION_CODE_LENGTH
            && code.bytes().all(|byte| INVITATION_ALPHABET.contains(&byte))
        {
            Ok(Self(code))
        } else {
            Err(ValidationError::new(
                "code",
                "an invitation code is 8 letters and digits",
            ))
        }
    }

    /// A code from eight indexes into the alphabet (each taken modulo its
    /// length); the caller draws them from a cryptographic source.
    pub fn from_indexes(indexes: [usize; INVITATION_CODE_LENGTH]) -> Self {
        Self(
            indexes
                .iter()
                .map(|index| char::from(INVITATION_ALPHABET[index % INVITATION_ALPHABET.len()]))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvitationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long a share admits people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ShareValidity {
    TenMinutes,
    #[default]
    OneHour,
    EightHours,
    TwentyFourHours,
}

impl ShareValidity {
    pub const ALL: [ShareValidity; 4] = [
        ShareValidity::TenMinutes,
        ShareValidity::OneHour,
        ShareValidity::EightHours,
        ShareValidity::TwentyFourHours,
    ];

    pub fn duration(self) -> Duration {
        let minutes = match self {
            ShareValidity::TenMinutes => 10,
            ShareValidity::OneHour => 60,
            ShareValidity::EightHours => 8 * 60,
            ShareValidity::TwentyFourHours => 24 * 60,
        };
        Duration::from_secs(minutes * 60)
    }

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareValidity::TenMinutes => "10m",
            ShareValidity::OneHour => "1h",
            ShareValidity::EightHours => "8h",
            ShareValidity::TwentyFourHours => "24h",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ShareValidity::TenMinutes => "10 minutes",
            ShareValidity::OneHour => "1 hour",
            ShareValidity::EightHours => "8 hours",
            ShareValidity::TwentyFourHours => "24 hours",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|validity| validity.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new("validity", "choose 10 minutes, 1 hour, 8 hours or 24 hours")
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareStatus {
    Open,
    Cancelled,
    Expired,
    Ended,
}

impl ShareStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareStatus::Open => "OPEN",
            ShareStatus::Cancelled => "CANCELLED",
            ShareStatus::Expired => "EXPIRED",
            ShareStatus::Ended => "ENDED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            ShareStatus::Open,
            ShareStatus::Cancelled,
            ShareStatus::Expired,
            ShareStatus::Ended,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// Why an invitation does not admit someone. Each has a stable code and a
/// page of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinRefusal {
    /// No share has this code.
    UnknownCode,
    /// The user holds no grant on the session's host account.
    NotPermitted,
    Expired,
    Cancelled,
    /// The session is over; `reason` is the session's end message.
    SessionEnded {
        reason: String,
    },
    WrongPassword,
    /// Too many failed codes or passwords from this user or address.
    TooManyAttempts,
}

impl JoinRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            JoinRefusal::UnknownCode => "J_404",
            JoinRefusal::NotPermitted => "J_403",
            JoinRefusal::Expired => "J_410",
            JoinRefusal::Cancelled => "J_409",
            JoinRefusal::SessionEnded { .. } => "J_440",
            JoinRefusal::WrongPassword => "J_401",
            JoinRefusal::TooManyAttempts => "J_429",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            JoinRefusal::UnknownCode => "No such invitation",
            JoinRefusal::NotPermitted => "Not permitted",
            JoinRefusal::Expired => "Invitation expired",
            JoinRefusal::Cancelled => "Share cancelled",
            JoinRefusal::SessionEnded { .. } => "Session ended",
            JoinRefusal::WrongPassword => "Wrong password",
            JoinRefusal::TooManyAttempts => "Too many attempts",
        }
    }

    pub fn message(&self) -> String {
        match self {
            JoinRefusal::UnknownCode => {
                "There is no invitation with this code. Check the code, or ask the session's creator for the invitation URL.".to_owned()
            }
            JoinRefusal::NotPermitted => {
                "You are not permitted to join this session: you hold no grant on its host account. Ask an administrator for the grant.".to_owned()
            }
            JoinRefusal::Expired => {
                "This invitation has expired. Ask the session's creator for a new one.".to_owned()
            }
            JoinRefusal::Cancelled => {
                "The creator cancelled this share; the invitation admits no one any more.".to_owned()
            }
            JoinRefusal::SessionEnded { reason } => {
                format!("The session has ended, so no one can join it. {reason}")
            }
            JoinRefusal::WrongPassword => "The invitation password is wrong.".to_owned(),
            JoinRefusal::TooManyAttempts => {
                "Too many failed attempts with invitation codes or passwords. Wait a few minutes and try again.".to_owned()
            }
        }
    }

    /// The refusal a stored code stands for (a session's end reason is not
    /// stored with it).
    /// The HTTP status of the refusal's page and server function answer.
    pub fn http_status(&self) -> u16 {
        match self {
            JoinRefusal::UnknownCode => 404,
            JoinRefusal::NotPermitted => 403,
            JoinRefusal::WrongPassword => 401,
            JoinRefusal::TooManyAttempts => 429,
            JoinRefusal::Expired | JoinRefusal::Cancelled | JoinRefusal::SessionEnded { .. } => 410,
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::all()
            .into_iter()
            .find(|refusal| refusal.code() == code)
    }

    /// One of each kind (with no end reason).
    pub fn all() -> [JoinRefusal; 7] {
        [
            JoinRefusal::UnknownCode,
            JoinRefusal::NotPermitted,
            JoinRefusal::Expired,
            JoinRefusal::Cancelled,
            JoinRefusal::SessionEnded {
                reason: String::new(),
            },
            JoinRefusal::WrongPassword,
            JoinRefusal::TooManyAttempts,
        ]
    }

    /// Whether the attempt counts against the rate limit: guessing codes
    /// or passwords does; being refused a real invitation does not.
    pub fn is_failed_guess(&self) -> bool {
        matches!(self, JoinRefusal::UnknownCode | JoinRefusal::WrongPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_codes_are_eight_letters_and_digits() {
        assert_eq!(
            InvitationCode::parse(" ab12cd34 ").unwrap().as_str(),
            "AB12CD34"
        );
        for bad in ["", "AB12CD3", "AB12CD345", "AB12CD3!", "ÄB12CD34"] {
            assert!(InvitationCode::parse(bad).is_err(), "{bad}");
        }
        let code = InvitationCode::from_indexes([0, 25, 26, 35, 36, 71, 1, 2]);
        assert_eq!(code.as_str(), "AZ09A9BC");
        assert_eq!(InvitationCode::parse(code.as_str()).unwrap(), code);
    }

    #[test]
    fn validity_choices_round_trip_and_default_to_one_hour() {
        assert_eq!(ShareValidity::default(), ShareValidity::OneHour);
        for validity in ShareValidity::ALL {
            assert_eq!(ShareValidity::parse(validity.as_str()).unwrap(), validity);
        }
        let minutes = ShareValidity::ALL.map(|validity| validity.duration().as_secs() / 60);
        assert_eq!(minutes, [10, 60, 8 * 60, 24 * 60]);
        let labels = ShareValidity::ALL.map(ShareValidity::label);
        assert_eq!(labels, ["10 minutes", "1 hour", "8 hours", "24 hours"]);
        assert!(ShareValidity::parse("2h").is_err());
    }

    #[test]
    fn refusals_have_distinct_codes() {
        let all = JoinRefusal::all();
        for refusal in &all {
            assert_eq!(
                JoinRefusal::from_code(refusal.code()).as_ref(),
                Some(refusal)
            );
        }
        let mut codes: Vec<_> = all.iter().map(JoinRefusal::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().filter(|r| r.is_failed_guess()).count() == 2);
    }

    #[test]
    fn share_statuses_use_the_api_spelling() {
        for status in [
            ShareStatus::Open,
            ShareStatus::Cancelled,
            ShareStatus::Expired,
            ShareStatus::Ended,
        ] {
            assert_eq!(ShareStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ShareStatus::Open.as_str(), "OPEN");
    }
}
