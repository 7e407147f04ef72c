//! What participants and services ask of a live session's driver, and its
//! answers: plain values, so that another node can carry them unchanged.

use domain::{ControlError, SessionEnd, SessionWindow, UserId};
use serde::{Deserialize, Serialize};

/// One browser's socket on the session, numbered by whoever opens it.
pub type ConnectionId = u64;

/// What participants and services ask of a live session. Plain values, so
/// that another node can send them unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A browser of `user` opens; as a monitor, `user` watches without
    /// being in the session.
    Attach {
        connection: ConnectionId,
        user: UserId,
        name: String,
        monitor: bool,
    },
    Detach {
        connection: ConnectionId,
    },
    Input {
        connection: ConnectionId,
        bytes: Vec<u8>,
    },
    Resize {
        connection: ConnectionId,
        cols: u16,
        rows: u16,
    },
    /// An invitation was opened or closed.
    Shared(bool),
    /// A user comes in: through the invitation, or (`member`) as a user the
    /// owner added by name.
    Enter {
        user: UserId,
        name: String,
        member: bool,
    },
    RemoveMember(UserId),
    Leave(UserId),
    CancelShare,
    SetWindow(SessionWindow),
    RequestControl(UserId),
    Agree {
        answerer: UserId,
        requester: UserId,
    },
    Refuse {
        answerer: UserId,
        requester: UserId,
    },
    Release(UserId),
    TakeBack(UserId),
    Mark(String),
    End(SessionEnd),
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The browser is attached, as a participant or (`monitoring`) a
    /// monitor; otherwise the user is not in the session.
    Attached {
        attached: bool,
        monitoring: bool,
    },
    /// Whether the command changed anything.
    Done(bool),
    /// Who was forced out.
    ForcedOut(Vec<UserId>),
    Control(Result<(), ControlError>),
}
