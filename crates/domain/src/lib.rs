//! Tandem's domain rules, independent of storage, transport and the web.
//!
//! Everything here is plain Rust that also builds for wasm32, so the browser
//! can reuse a rule where it helps (for example to explain a form error).

mod api_token;
mod asciicast;
mod audit;
mod control;
mod login_limiter;
mod named_share;
mod records;
mod role;
mod session_end;
mod session_overview;
mod session_window;
mod share;
mod terminal_size;
mod values;

pub use api_token::{
    API_TOKEN_BYTES, API_TOKEN_MAX_DAYS, API_TOKEN_PREFIX, ApiTokenSecret, ApiTokenStatus,
    api_token_days, api_token_name,
};
pub use asciicast::{CastEvent, CastHeader, CastMarker, Utf8Stream, cast_marker, cast_markers};
pub use audit::{AUDIT_PAGE_SIZE, AuditKind, AuditOutcome, AuditPage, AuditQuery, AuditRecord};
pub use control::{Control, ControlError, ControlRequest, REQUEST_TIMEOUT, RequestOutcome};
pub use login_limiter::{LoginLimiter, LoginLimits};
pub use named_share::{
    MAX_SEARCH_CHARS, MemberRecord, MySessionRecord, NotificationRecord, SearchQuery, SessionUse,
    UserMatch, shared_title,
};
pub use records::{
    ApiTokenId, ApiTokenRecord, GrantId, GrantRecord, GrantedAccount, HostAccountId,
    HostAccountRecord, HostId, HostRecord, InvitationRecord, JoinRecord, NewApiToken, OmSessionId,
    OmSessionRecord, ProjectId, ProjectRecord, SecretKind, ShareId, ShareRecord, ShareSpaceRecord,
    UserId, UserRecord,
};
pub use records::{PastSessionRecord, RecordingRecord};
pub use role::Role;
pub use session_end::SessionEnd;
pub use session_overview::{
    LiveSessionOverview, PastSessionOverview, format_duration, format_size,
};
pub use session_window::{
    ENDING_WARNING, MAX_SESSION_LENGTH, MIN_SESSION_LENGTH, OwnerAction, SessionStatus,
    SessionWindow, WindowDue, WindowError, window_minutes,
};
pub use share::{INVITATION_ALPHABET, InvitationCode, JoinRefusal, ShareStatus, ShareValidity};
pub use terminal_size::{ABSURD_SIZE, MAX_COLS, MAX_ROWS, TerminalSize, TerminalSizeError};
pub use values::{
    AccountLogin, Description, DisplayName, EmailAddress, Fingerprint, HostAddress, NewPassword,
    Port, ResourceName, SessionTitle, ShareNote, SharePassword, TypedLoginName, UserName,
};

/// A value that failed validation: which form field, and why (lowercase,
/// safe to show to the user).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
