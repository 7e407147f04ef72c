//! Named shares (the dCloud flow): the owner of a session adds registered
//! users to it by name, with a note; users outside the session's project
//! need a Session Use answer. Added users work in the session as the owner
//! does, except that only the owner may stop, cancel, extend or share it.

use serde::{Deserialize, Serialize};

use crate::records::{OmSessionId, UserId};
use crate::{SessionStatus, ValidationError};

/// Why users outside the session's project are added: purpose and
/// customer are mandatory, the comment is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUse {
    pub purpose: String,
    pub customer: String,
    pub comment: String,
}

impl SessionUse {
    pub fn parse(purpose: &str, customer: &str, comment: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            purpose: required("purpose", purpose, 200)?,
            customer: required("customer", customer, 200)?,
            comment: crate::ShareNote::parse(comment)
                .map_err(|error| ValidationError::new("comment", error.message))?
                .into_inner(),
        })
    }
}

fn required(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// The title an added user sees: the owner's, with who shared it.
pub fn shared_title(title: &str, sharer: &str) -> String {
    format!("{title} (shared by {sharer})")
}

/// The longest text the Share Session search takes: longer than any user
/// name, display name or email address it could match.
pub const MAX_SEARCH_CHARS: usize = 100;

/// What the owner typed into the Share Session search, trimmed and
/// lowercased (the search ignores case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if value.chars().count() > MAX_SEARCH_CHARS {
            return Err(ValidationError::new(
                "query",
                format!("must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        Ok(Self(value.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered user found by the Share Session search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMatch {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// Whether they hold a grant in the session's project; adding anyone
    /// else needs a Session Use answer.
    pub in_project: bool,
}

/// A user added to a session, as its owner's Shared with list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub user: UserId,
    pub username: String,
    pub display_name: String,
}

/// One row of My Dashboard > My Sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySessionRecord {
    pub id: OmSessionId,
    /// For a session shared with me, with the sharer's user ID.
    pub title: String,
    pub host_name: String,
    pub login: String,
    pub status: SessionStatus,
    /// RFC 3339, UTC: the window.
    pub start: String,
    pub end: Option<String>,
    pub owner: String,
    pub viewer_is_owner: bool,
    /// Who the owner added; empty on rows shared with me.
    pub members: Vec<MemberRecord>,
    /// Why a scheduled start failed: `(code, message)`.
    pub failure: Option<(String, String)>,
}

/// An in-app notification, the bell's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub id: i64,
    pub text: String,
    pub link: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_use_needs_a_purpose_and_a_customer() {
        let answer = SessionUse::parse(" Demo ", "Acme Corp", "").unwrap();
        assert_eq!(
            (answer.purpose.as_str(), answer.customer.as_str()),
            ("Demo", "Acme Corp")
        );
        assert_eq!(
            SessionUse::parse("", "Acme", "x").unwrap_err().field,
            "purpose"
        );
        assert_eq!(
            SessionUse::parse("Demo", "  ", "x").unwrap_err().field,
            "customer"
        );
        let longest = "x".repeat(200);
        let answer = SessionUse::parse(&longest, &longest, "").unwrap();
        assert_eq!((answer.purpose.len(), answer.customer.len()), (200, 200));
        for (purpose, customer, field) in [
            (format!("{longest}x"), "Acme".to_owned(), "purpose"),
            ("Demo".to_owned(), format!("{longest}x"), "customer"),
        ] {
            let error = SessionUse::parse(&purpose, &customer, "").unwrap_err();
            assert_eq!(
                (error.field, error.message.as_str()),
                (field, "must be at most 200 characters")
            );
        }
        let long = "x".repeat(1001);
        assert_eq!(
            SessionUse::parse("Demo", "Acme", &long).unwrap_err().field,
            "comment"
        );
    }

    #[test]
    fn a_search_is_at_most_a_hundred_characters() {
        assert_eq!(SearchQuery::parse("  Alice ").unwrap().as_str(), "alice");
        let longest = "é".repeat(MAX_SEARCH_CHARS);
        assert_eq!(SearchQuery::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(
            SearchQuery::parse(&"x".repeat(MAX_SEARCH_CHARS + 1)),
            Err(ValidationError::new(
                "query",
                "must be at most 100 characters"
            ))
        );
    }

    #[test]
    fn a_shared_title_names_the_sharer() {
        assert_eq!(
            shared_title("Fix nginx", "alice"),
            "Fix nginx (shared by alice)"
        );
    }
}
