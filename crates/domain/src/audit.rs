//! The audit log's vocabulary: what kinds of event are recorded, how a
//! search of the log is asked for and paged, and how rows are exported.
//! Storage and time parsing live in `services`; the log is append-only.

use serde::{Deserialize, Serialize};

use crate::{HostId, OmSessionId, ValidationError};

/// Rows per page on the admin's Audit log page.
pub const AUDIT_PAGE_SIZE: u64 = 50;

/// Declares `AuditKind` with the stable name each kind is stored and
/// filtered by.
macro_rules! audit_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal,)*) => {
        /// One kind of audited event. The names are stored: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum AuditKind {
            $($(#[$doc])* $kind,)*
        }

        impl AuditKind {
            pub const ALL: &[AuditKind] = &[$(AuditKind::$kind,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditKind::$kind => $name,)*
                }
            }
        }
    };
}

audit_kinds! {
    Login => "login",
    /// Wrong password, unknown or disabled user, or too many attempts.
    LoginFailed => "login_failed",
    Logout => "logout",
    SessionStarted => "session_started",
    /// The detail is the `SessionEnd` code.
    SessionEnded => "session_ended",
    ShareCreated => "share_created",
    ShareCancelled => "share_cancelled",
    /// Someone opened an invitation page and it admitted them.
    InvitationOpened => "invitation_opened",
    Joined => "joined",
    /// An invitation refused someone; the detail is the `JoinRefusal` code.
    JoinRefused => "join_refused",
    /// An invited user's Exit session.
    Exited => "exited",
    ControlRequested => "control_requested",
    ControlAgreed => "control_agreed",
    ControlRefused => "control_refused",
    ControlTimedOut => "control_timed_out",
    ControlReleased => "control_released",
    ControlTakenBack => "control_taken_back",
    /// An admin created, changed, disabled or enabled a user.
    UserChanged => "user_changed",
    ProjectChanged => "project_changed",
    HostChanged => "host_changed",
    HostAccountChanged => "host_account_changed",
    GrantChanged => "grant_changed",
    ApiTokenCreated => "api_token_created",
    ApiTokenRevoked => "api_token_revoked",
    /// A REST API request authenticated by a token.
    ApiTokenUsed => "api_token_used",
    /// An admin started watching a live session.
    SessionMonitored => "session_monitored",
    /// An admin ended a live session.
    SessionTerminated => "session_terminated",
    /// The detail is the start of the window.
    SessionScheduled => "session_scheduled",
    /// The detail is the new end of the window.
    SessionExtended => "session_extended",
    /// The owner cancelled a scheduled session.
    SessionCancelled => "session_cancelled",
    /// The owner added a user by name (object `user:N`); the detail is the
    /// Session Use answer when they are outside the session's project.
    SessionSharedWith => "session_shared_with",
    /// The owner took a user off the Shared with list.
    MemberRemoved => "member_removed",
    /// The owner confirmed their password to search all users.
    UserSearchWidened => "user_search_widened",
    /// Anything refused for want of permission (or of a valid API token).
    AccessDenied => "access_denied",
}

impl AuditKind {
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        AuditKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == name.trim())
            .ok_or_else(|| ValidationError::new("kind", format!("unknown event kind {name:?}")))
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an audited action turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    Success,
    /// Refused: not permitted, a bad code or password, an invalid token.
    Denied,
    /// Tried and failed for another reason (a session that could not start).
    Failed,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            AuditOutcome::Success,
            AuditOutcome::Denied,
            AuditOutcome::Failed,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == name)
    }
}

/// One row of the audit log as the admin sees it and exports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_id: Option<i64>,
    /// The user name at the time, or what was typed at a failed login.
    pub actor: String,
    pub address: String,
    pub kind: AuditKind,
    pub session_id: Option<i64>,
    pub host_id: Option<i64>,
    /// The object acted on, as `kind:id` (`user:4`, `share:9`, a path).
    pub object: String,
    pub outcome: AuditOutcome,
    /// A code or a short word on what happened (`S_200`, `J_401`, `disabled`).
    pub detail: String,
}

impl AuditRecord {
    pub const CSV_HEADER: &str =
        "id,at,actor_id,actor,address,kind,session_id,host_id,object,outcome,detail";

    /// The row as one CSV line (RFC 4180 quoting), without the line break.
    pub fn to_csv(&self) -> String {
        let optional =
            |value: Option<i64>| value.map(|value| value.to_string()).unwrap_or_default();
        [
            self.id.to_string(),
            self.at.clone(),
            optional(self.actor_id),
            self.actor.clone(),
            self.address.clone(),
            self.kind.as_str().to_owned(),
            optional(self.session_id),
            optional(self.host_id),
            self.object.clone(),
            self.outcome.as_str().to_owned(),
            self.detail.clone(),
        ]
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// Quotes a field when it holds a comma, a quote or a line break. A field
/// that a spreadsheet would run as a formula is prefixed with a quote mark,
/// since user names and typed logins end up here.
fn csv_field(field: &str) -> String {
    let defused = match field.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{field}"),
        _ => field.to_owned(),
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// A search of the audit log, parsed from the admin's filter form. Times
/// stay text here (RFC 3339 or the browser's `YYYY-MM-DDTHH:MM`); the
/// services parse them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// A user name, matched exactly.
    pub user: Option<String>,
    pub session: Option<OmSessionId>,
    pub host: Option<HostId>,
    pub kind: Option<AuditKind>,
    /// From this time on (inclusive).
    pub from: Option<String>,
    /// Before this time (exclusive).
    pub to: Option<String>,
    /// Keyset paging: only rows after this one (by id) in the page order,
    /// newest first by time, then id.
    pub before: Option<i64>,
}

impl AuditQuery {
    /// Parses the filter form's fields; empty fields mean "any".
    pub fn parse(
        user: &str,
        session: &str,
        host: &str,
        kind: &str,
        from: &str,
        to: &str,
        before: &str,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            user: non_empty(user).map(str::to_lowercase),
            session: id_field("session", session)?.map(OmSessionId),
            host: id_field("host", host)?.map(HostId),
            kind: non_empty(kind).map(AuditKind::parse).transpose()?,
            from: non_empty(from).map(str::to_owned),
            to: non_empty(to).map(str::to_owned),
            before: id_field("before", before)?,
        })
    }

    /// The same search, one page further back.
    pub fn older_than(&self, id: i64) -> Self {
        Self {
            before: Some(id),
            ..self.clone()
        }
    }

    /// The search as URL query parameters (without `before`), for links to
    /// the next page and to the exports.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(user) = &self.user {
            pairs.push(("user", user.clone()));
        }
        if let Some(session) = self.session {
            pairs.push(("session", session.to_string()));
        }
        if let Some(host) = self.host {
            pairs.push(("host", host.to_string()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(from) = &self.from {
            pairs.push(("from", from.clone()));
        }
        if let Some(to) = &self.to {
            pairs.push(("to", to.clone()));
        }
        pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn non_empty(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|value| !value.is_empty())
}

fn id_field(field: &'static str, value: &str) -> Result<Option<i64>, ValidationError> {
    non_empty(value)
        .map(|value| {
            value
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ValidationError::new(field, "must be a positive whole number"))
        })
        .transpose()
}

/// Encodes everything but unreserved characters (RFC 3986).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// One page of a search, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRecord>,
    /// The `before` of the next page, when there are older rows.
    pub older: Option<i64>,
}

impl AuditPage {
    /// Builds a page from up to `size + 1` rows fetched newest first: the
    /// extra row only tells that an older page exists.
    pub fn from_fetched(mut rows: Vec<AuditRecord>, size: u64) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let older = more.then(|| rows.last().map(|row| row.id)).flatten();
        Self { rows, older }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_show_and_outcomes_read_back_by_their_stored_names() {
        assert_eq!(AuditKind::LoginFailed.to_string(), "login_failed");
        for outcome in [
            AuditOutcome::Success,
            AuditOutcome::Denied,
            AuditOutcome::Failed,
        ] {
            assert_eq!(AuditOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(AuditOutcome::parse("succeeded"), None);
    }

    fn record(id: i64) -> AuditRecord {
        AuditRecord {
            id,
            at: "2026-12-01T10:00:00+00:00".to_owned(),
            actor_id: Some(3),
            actor: "alice".to_owned(),
            address: "127.0.0.1".to_owned(),
            kind: AuditKind::Login,
            session_id: None,
            host_id: None,
            object: "user:3".to_owned(),
            outcome: AuditOutcome::Success,
            detail: String::new(),
        }
    }

    #[test]
    fn every_kind_has_a_distinct_name_that_parses_back() {
        let mut names: Vec<_> = AuditKind::ALL.iter().map(|kind| kind.as_str()).collect();
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Ok(*kind));
            // The JSON Lines export spells it the same way.
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        assert!(AuditKind::parse("logins").is_err());
    }

    #[test]
    fn a_page_tells_whether_older_rows_exist() {
        let fetched: Vec<_> = (1..=4).rev().map(record).collect();
        let page = AuditPage::from_fetched(fetched.clone(), 3);
        assert_eq!(
            page.rows.iter().map(|row| row.id).collect::<Vec<_>>(),
            [4, 3, 2]
        );
        assert_eq!(page.older, Some(2));
        let last = AuditPage::from_fetched(fetched[..3].to_vec(), 3);
        assert_eq!(last.rows.len(), 3);
        assert_eq!(last.older, None);
        assert_eq!(AuditPage::from_fetched(Vec::new(), 3).older, None);
    }

    #[test]
    fn the_filter_form_parses_empty_fields_as_any() {
        let query = AuditQuery::parse(" Alice ", "12", "", "join_refused", "", "", "").unwrap();
        assert_eq!(query.user.as_deref(), Some("alice"));
        assert_eq!(query.session, Some(OmSessionId(12)));
        assert_eq!(query.host, None);
        assert_eq!(query.kind, Some(AuditKind::JoinRefused));
        assert_eq!(
            AuditQuery::parse("", "", "", "", "", "", "").unwrap(),
            AuditQuery::default()
        );
    }

    #[test]
    fn the_filter_form_refuses_bad_ids_and_kinds() {
        assert_eq!(
            AuditQuery::parse("", "x", "", "", "", "", "")
                .unwrap_err()
                .field,
            "session"
        );
        assert_eq!(
            AuditQuery::parse("", "", "-1", "", "", "", "")
                .unwrap_err()
                .field,
            "host"
        );
        assert_eq!(
            AuditQuery::parse("", "0", "", "", "", "", "")
                .unwrap_err()
                .field,
            "session"
        );
        let first = AuditQuery::parse("", "1", "1", "", "", "", "").unwrap();
        assert_eq!(
            (first.session, first.host),
            (Some(OmSessionId(1)), Some(HostId(1)))
        );
        assert_eq!(
            AuditQuery::parse("", "", "", "nope", "", "", "")
                .unwrap_err()
                .field,
            "kind"
        );
    }

    #[test]
    fn the_query_string_keeps_every_filter_but_the_page() {
        let query =
            AuditQuery::parse("bob smith", "", "4", "login", "2026-12-01T10:00", "", "99").unwrap();
        assert_eq!(
            query.to_query_string(),
            "user=bob%20smith&host=4&kind=login&from=2026-12-01T10%3A00"
        );
        assert_eq!(query.older_than(7).before, Some(7));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut row = record(9);
        row.actor = "=cmd|' /C calc'!A0".to_owned();
        row.detail = "said \"hi\", left".to_owned();
        let line = row.to_csv();
        assert!(line.starts_with("9,2026-12-01T10:00:00+00:00,3,'=cmd|' /C calc'!A0,"));
        assert!(line.ends_with(",success,\"said \"\"hi\"\", left\""));
        assert_eq!(
            AuditRecord::CSV_HEADER.split(',').count(),
            record(1).to_csv().split(',').count()
        );
    }
}
