//! The one error type of the application layer.

use domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input, with the form field it concerns.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No such object (or one the caller may not know of).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The change would break a uniqueness rule or another invariant.
    #[error("{0}")]
    Conflict(String),
    #[error("not permitted")]
    Forbidden,
    /// Only the session's creator may do this.
    #[error("only the session's creator may do this")]
    NotCreator,
    /// An API token that does not authenticate, and why.
    #[error("the API token was not accepted")]
    Unauthenticated(crate::TokenRejection),
    /// Wrong user name or password, unknown or disabled user, or too many
    /// attempts: deliberately one case, so a caller cannot tell them apart.
    #[error("invalid user name or password")]
    LoginFailed,
    /// A host could not be reached; the text says why and is safe to show.
    #[error("{0}")]
    HostUnreachable(String),
    /// The session is over, for this reason.
    #[error("{}", .0.message())]
    Ended(domain::SessionEnd),
    /// An invitation does not admit the caller, for this reason.
    #[error("{}", .0.message())]
    Refused(domain::JoinRefusal),
    /// Anything else: logged with its cause, shown as a generic failure.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(error: sea_orm::DbErr) -> Self {
        ServiceError::Internal(error.into())
    }
}

impl From<domain::ControlError> for ServiceError {
    fn from(error: domain::ControlError) -> Self {
        match error {
            domain::ControlError::NotInSession => ServiceError::Forbidden,
            other => ServiceError::Conflict(other.to_string()),
        }
    }
}

/// Maps a unique-constraint violation to `Conflict(message)`, anything else
/// to `Internal`.
pub(crate) fn conflict_on_duplicate(error: sea_orm::DbErr, message: String) -> ServiceError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ServiceError::Conflict(message),
        _ => error.into(),
    }
}
