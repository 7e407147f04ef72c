//! Why an O&M session ended or could not start: a stable code, stored with
//! the session and shown to users with its message.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionEnd {
    /// The creator chose Exit session.
    ClosedByCreator,
    /// The creator's connection dropped and did not come back within the
    /// reconnect grace period.
    CreatorGone,
    /// The shell on the host exited.
    ShellExited,
    /// Connect, handshake or keepalive timeout.
    HostTimeout,
    /// Connection refused, no route or a name that does not resolve.
    HostUnreachable,
    /// The host presented a key other than the pinned one.
    HostKeyMismatch,
    /// The host refused the account's password or key.
    AuthenticationRejected,
    /// The SSH connection failed for another reason.
    ConnectionFailed,
    /// Tandem stopped while the session ran.
    ServerStopped,
    /// The recording could not be opened, so the session did not start.
    RecordingUnavailable,
    /// Writing the recording failed, so the session was ended.
    RecordingFailed,
    /// An administrator chose Terminate on the Sessions page.
    TerminatedByAdmin,
    /// The end of the session's window came and its owner had not
    /// extended it.
    WindowOver,
    /// A scheduled session's owner no longer held the grant (or was
    /// disabled) when its start came.
    NotPermitted,
}

impl SessionEnd {
    pub const ALL: [SessionEnd; 14] = [
        SessionEnd::ClosedByCreator,
        SessionEnd::CreatorGone,
        SessionEnd::ShellExited,
        SessionEnd::HostTimeout,
        SessionEnd::HostUnreachable,
        SessionEnd::HostKeyMismatch,
        SessionEnd::AuthenticationRejected,
        SessionEnd::ConnectionFailed,
        SessionEnd::ServerStopped,
        SessionEnd::RecordingUnavailable,
        SessionEnd::RecordingFailed,
        SessionEnd::TerminatedByAdmin,
        SessionEnd::WindowOver,
        SessionEnd::NotPermitted,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            SessionEnd::ClosedByCreator => "S_200",
            SessionEnd::CreatorGone => "S_408",
            SessionEnd::ShellExited => "S_210",
            SessionEnd::HostTimeout => "T_514",
            SessionEnd::HostUnreachable => "T_502",
            SessionEnd::HostKeyMismatch => "T_495",
            SessionEnd::AuthenticationRejected => "T_401",
            SessionEnd::ConnectionFailed => "T_503",
            SessionEnd::ServerStopped => "S_503",
            SessionEnd::RecordingUnavailable => "R_500",
            SessionEnd::RecordingFailed => "R_507",
            SessionEnd::TerminatedByAdmin => "S_451",
            SessionEnd::WindowOver => "S_410",
            SessionEnd::NotPermitted => "S_403",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            SessionEnd::ClosedByCreator => "The session was closed by its creator.",
            SessionEnd::CreatorGone => {
                "The session ended: its creator's connection was lost and did not come back."
            }
            SessionEnd::ShellExited => "The session ended: the shell on the host exited.",
            SessionEnd::HostTimeout => {
                "Connection error (T_514): the server has not responded for a long time and the connection was closed. Check your network and try again."
            }
            SessionEnd::HostUnreachable => {
                "Connection error (T_502): the host could not be reached (connection refused, no route or unknown name)."
            }
            SessionEnd::HostKeyMismatch => {
                "Connection refused (T_495): the host presented a different SSH host key than the one pinned for it. Nothing was sent to the host; ask an administrator to check the host."
            }
            SessionEnd::AuthenticationRejected => {
                "Connection refused (T_401): the host rejected the account's credentials."
            }
            SessionEnd::ConnectionFailed => {
                "Connection error (T_503): the SSH connection to the host failed."
            }
            SessionEnd::ServerStopped => "The session ended: Tandem was restarted.",
            SessionEnd::RecordingUnavailable => {
                "The session did not start (R_500): its recording could not be opened, and no session runs unrecorded. Ask an administrator to check Tandem's data directory."
            }
            SessionEnd::RecordingFailed => {
                "The session was ended (R_507): writing its recording failed (is the disk full?), and no session runs unrecorded."
            }
            SessionEnd::TerminatedByAdmin => "The session was terminated by an administrator.",
            SessionEnd::NotPermitted => {
                "The session did not start (S_403): its owner no longer holds the grant on the host account."
            }
            SessionEnd::WindowOver => {
                "The session ended: its scheduled time was over. Its owner can extend a session before it ends."
            }
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|end| end.code() == code)
    }

    /// Whether the session failed rather than ended normally: the host
    /// (`T_`) or its recording (`R_`) failed, or it could not start.
    pub fn is_failure(&self) -> bool {
        self.code().starts_with("T_")
            || self.code().starts_with("R_")
            || *self == SessionEnd::NotPermitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let all = SessionEnd::ALL;
        for end in &all {
            assert_eq!(SessionEnd::from_code(end.code()).as_ref(), Some(end));
        }
        let mut codes: Vec<_> = all.iter().map(SessionEnd::code).collect();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn the_host_s_and_the_recording_s_failures_and_a_refused_start_are_failures() {
        let failures: Vec<&str> = SessionEnd::ALL
            .iter()
            .filter(|end| end.is_failure())
            .map(SessionEnd::code)
            .collect();
        assert_eq!(
            failures,
            [
                "T_514", "T_502", "T_495", "T_401", "T_503", "R_500", "R_507", "S_403"
            ]
        );
    }

    #[test]
    fn t_514_says_what_the_product_says() {
        assert_eq!(
            SessionEnd::HostTimeout.message(),
            "Connection error (T_514): the server has not responded for a long time and the connection was closed. Check your network and try again."
        );
        assert!(SessionEnd::HostTimeout.is_failure());
        assert!(!SessionEnd::ShellExited.is_failure());
    }

    #[test]
    fn an_administrator_s_termination_is_an_end_not_a_failure() {
        let end = SessionEnd::from_code("S_451");
        assert_eq!(end, Some(SessionEnd::TerminatedByAdmin));
        assert_eq!(
            SessionEnd::TerminatedByAdmin.message(),
            "The session was terminated by an administrator."
        );
        assert!(!SessionEnd::TerminatedByAdmin.is_failure());
    }
}
