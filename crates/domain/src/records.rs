//! What Tandem shows of its objects: plain records that cross from the
//! server to the browser. Secrets never appear in them.

use serde::{Deserialize, Serialize};

use crate::Role;

/// Declares an id newtype over the database's `i64`.
macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    UserId,
    ProjectId,
    HostId,
    HostAccountId,
    GrantId,
    OmSessionId,
    ShareId,
    ApiTokenId
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    pub id: HostId,
    pub project_id: ProjectId,
    pub project_name: String,
    pub name: String,
    pub address: String,
    pub port: u16,
    pub host_key_fingerprint: String,
    pub disabled: bool,
}

/// How a host account proves itself to its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretKind {
    Password,
    PrivateKey,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Password => "password",
            SecretKind::PrivateKey => "private_key",
        }
    }

    pub fn parse(value: &str) -> Result<Self, crate::ValidationError> {
        match value.trim() {
            "password" => Ok(SecretKind::Password),
            "private_key" => Ok(SecretKind::PrivateKey),
            _ => Err(crate::ValidationError::new(
                "secret_kind",
                "must be password or private_key",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAccountRecord {
    pub id: HostAccountId,
    pub host_id: HostId,
    pub host_name: String,
    pub project_name: String,
    pub login: String,
    pub secret_kind: SecretKind,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: GrantId,
    pub user_id: UserId,
    pub username: String,
    pub host_account_id: HostAccountId,
    /// `login@host (project)`, for lists.
    pub host_account_label: String,
}

/// A host account as the user it is granted to sees it on Host Operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedAccount {
    pub host_account_id: HostAccountId,
    pub project_id: ProjectId,
    pub project_name: String,
    pub host_id: HostId,
    pub host_name: String,
    pub address: String,
    pub port: u16,
    pub login: String,
}

/// An O&M session as its session page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OmSessionRecord {
    pub id: OmSessionId,
    pub account: GrantedAccount,
    pub creator: String,
    pub title: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The end of its window, RFC 3339, UTC.
    pub ends_at: Option<String>,
    /// Why it ended, once it has: `(code, message)`.
    pub ended: Option<(String, String)>,
    /// The user looking at it.
    pub viewer: UserId,
    /// Whether the viewer is the creator (otherwise an invited user or a
    /// monitor).
    pub viewer_is_creator: bool,
    /// Whether the viewer is an administrator watching without being in
    /// the session: read-only, with none of the session's buttons.
    pub viewer_is_monitor: bool,
    /// The invitation code that let an invited viewer in, to enter again.
    pub invitation: Option<String>,
}

/// A session's share as its creator sees it in the Share dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRecord {
    pub id: ShareId,
    pub code: String,
    /// The invitation URL, from the configured public base URL.
    pub url: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub has_password: bool,
    pub status: crate::ShareStatus,
}

/// What the invitation page shows before Enter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub code: String,
    pub session: OmSessionId,
    pub inviter: String,
    pub host_name: String,
    pub login: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub expires_at: String,
    /// Display names of everyone in the session, the creator first.
    pub participants: Vec<String>,
    pub needs_password: bool,
}

/// One entry into a session through its share, or one refused attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRecord {
    pub username: String,
    pub address: String,
    /// RFC 3339, UTC: when they entered or were refused.
    pub at: String,
    pub left_at: Option<String>,
    /// `(code, message)` of the refusal; `None` for an entry.
    pub refusal: Option<(String, String)>,
}

/// An API token as its owner sees it on the profile page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub id: ApiTokenId,
    pub name: String,
    /// The secret's first characters.
    pub prefix: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub status: crate::ApiTokenStatus,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: ApiTokenRecord,
    pub secret: String,
}

/// A share as the REST API shows it (a "share space"). A session that
/// ended or failed without ever being shared has no share: then the id,
/// code and links are `None`, and the name and time are the session's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSpaceRecord {
    pub id: Option<ShareId>,
    pub code: Option<String>,
    pub name: String,
    /// Only for the session's creator, and only when the share has one.
    pub password: Option<String>,
    /// The invitation URL from the internal base URL.
    pub private_link: Option<String>,
    /// The invitation URL from the public base URL.
    pub internet_link: Option<String>,
    /// UTC, `yyyy-MM-ddTHH:mm:ssZ`.
    pub created_at: String,
    pub status: crate::ShareStatus,
    /// Why the session failed, when it did.
    pub failure: Option<crate::SessionEnd>,
}

/// A recorded session as its player page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingRecord {
    pub id: OmSessionId,
    /// The creator's user name.
    pub creator: String,
    /// `login@host`.
    pub label: String,
    pub project_name: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Why it ended, once it has: `(code, message)`.
    pub ended: Option<(String, String)>,
    /// Known once the session is over.
    pub duration_ms: Option<u64>,
    pub size: Option<u64>,
    pub markers: Vec<crate::CastMarker>,
}

/// One of my ended sessions, as Past sessions lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastSessionRecord {
    pub id: OmSessionId,
    /// `login@host`.
    pub label: String,
    pub project_name: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// `(code, message)`.
    pub ended: Option<(String, String)>,
    pub duration_ms: Option<u64>,
    pub size: Option<u64>,
    /// Whether there is a file to play (a session that could not open its
    /// recording has none).
    pub has_recording: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_kinds_read_back_by_their_form_values() {
        for (kind, value) in [
            (SecretKind::Password, "password"),
            (SecretKind::PrivateKey, "private_key"),
        ] {
            assert_eq!(kind.as_str(), value);
            assert_eq!(SecretKind::parse(&format!(" {value} ")), Ok(kind));
        }
        assert_eq!(
            SecretKind::parse("certificate").unwrap_err().field,
            "secret_kind"
        );
    }
}
