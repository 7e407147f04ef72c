//! When an O&M session runs: every session has a window, from its start to
//! its end. A scheduled one waits for its start; an active one ends at the
//! end of its window unless its owner extends it first. Every rule takes
//! the clock as an argument, so tests choose the time.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// The shortest window a session may be scheduled or opened with.
pub const MIN_SESSION_LENGTH: Duration = Duration::minutes(5);
/// The longest a window may last, extensions included.
pub const MAX_SESSION_LENGTH: Duration = Duration::hours(24);
/// How far ahead a session may be scheduled.
pub const MAX_SCHEDULE_AHEAD: Duration = Duration::days(90);
/// Participants are warned this long before the end.
pub const ENDING_WARNING: Duration = Duration::minutes(5);
/// A start this little in the past (the time it took to fill in the form)
/// still counts as now.
const START_TOLERANCE: Duration = Duration::minutes(2);

/// Where a session is in its life, as stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionStatus {
    /// Waiting for the start of its window.
    Scheduled,
    Active,
    Ended,
    /// The host or the recording failed, at the start or later.
    Failed,
    /// Its owner cancelled it before it started.
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Active => "active",
            SessionStatus::Ended => "ended",
            SessionStatus::Failed => "failed",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            SessionStatus::Scheduled,
            SessionStatus::Active,
            SessionStatus::Ended,
            SessionStatus::Failed,
            SessionStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }

    /// How My Sessions shows it.
    pub fn label(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "Scheduled",
            SessionStatus::Active => "Active",
            SessionStatus::Ended => "Ended",
            SessionStatus::Failed => "Failed",
            SessionStatus::Cancelled => "Cancelled",
        }
    }
}

/// What the owner may do to a session, checked against its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerAction {
    Extend,
    Stop,
    Cancel,
    Share,
}

impl OwnerAction {
    /// Refuses the action when the session's status does not allow it.
    pub fn check(self, status: SessionStatus) -> Result<(), WindowError> {
        let allowed = match self {
            OwnerAction::Extend | OwnerAction::Share => {
                matches!(status, SessionStatus::Scheduled | SessionStatus::Active)
            }
            OwnerAction::Stop => status == SessionStatus::Active,
            OwnerAction::Cancel => status == SessionStatus::Scheduled,
        };
        match allowed {
            true => Ok(()),
            false => Err(WindowError::NotAllowed {
                action: self,
                status,
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the session is {}, so it cannot be {}", .status.as_str(), .action.done())]
    NotAllowed {
        action: OwnerAction,
        status: SessionStatus,
    },
    #[error("the session's window is already over")]
    Over,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl OwnerAction {
    fn done(self) -> &'static str {
        match self {
            OwnerAction::Extend => "extended",
            OwnerAction::Stop => "stopped",
            OwnerAction::Cancel => "cancelled",
            OwnerAction::Share => "shared",
        }
    }
}

/// What the clock asks of a session now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowDue {
    /// A scheduled session's start has come: open its shell.
    Start,
    /// The window is over: end the session.
    End,
    /// Less than `ENDING_WARNING` is left: warn the participants.
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl SessionWindow {
    /// The window of a session opened now.
    pub fn immediate(now: DateTime<Utc>, length: Duration) -> Result<Self, ValidationError> {
        check_length(length)?;
        Ok(Self {
            start: now,
            end: now + length,
        })
    }

    /// The window of a session scheduled to start at `start`. A start a
    /// moment ago counts as now.
    pub fn scheduled(
        now: DateTime<Utc>,
        start: DateTime<Utc>,
        length: Duration,
    ) -> Result<Self, ValidationError> {
        if start < now - START_TOLERANCE {
            return Err(ValidationError::new("start", "must not be in the past"));
        }
        if start > now + MAX_SCHEDULE_AHEAD {
            return Err(ValidationError::new(
                "start",
                format!(
                    "must be within {} days from now",
                    MAX_SCHEDULE_AHEAD.num_days()
                ),
            ));
        }
        check_length(length)?;
        let start = start.max(now);
        Ok(Self {
            start,
            end: start + length,
        })
    }

    pub fn length(&self) -> Duration {
        self.end - self.start
    }

    /// The window with its end moved `by` later. An active session's end
    /// may not have passed: what has ended stays ended.
    pub fn extended(&self, now: DateTime<Utc>, by: Duration) -> Result<Self, WindowError> {
        if by <= Duration::zero() {
            return Err(ValidationError::new("by", "must be longer than zero").into());
        }
        if self.end <= now {
            return Err(WindowError::Over);
        }
        let extended = Self {
            start: self.start,
            end: self.end + by,
        };
        if extended.length() > MAX_SESSION_LENGTH {
            return Err(ValidationError::new(
                "by",
                format!(
                    "a session may last at most {} hours in all",
                    MAX_SESSION_LENGTH.num_hours()
                ),
            )
            .into());
        }
        Ok(extended)
    }

    /// What a session with this window and status needs now, if anything.
    /// A scheduled session whose whole window passed (Tandem was down)
    /// ends without starting.
    pub fn due(&self, status: SessionStatus, now: DateTime<Utc>) -> Option<WindowDue> {
        match status {
            SessionStatus::Scheduled if self.end <= now => Some(WindowDue::End),
            SessionStatus::Scheduled if self.start <= now => Some(WindowDue::Start),
            SessionStatus::Active if self.end <= now => Some(WindowDue::End),
            SessionStatus::Active if self.end - now <= ENDING_WARNING => Some(WindowDue::Warn),
            _ => None,
        }
    }
}

/// Minutes from a form (a window's length, an extension) as a duration:
/// from 1 to the longest window, checked before any time arithmetic (a
/// number near `i64::MAX` would overflow it).
pub fn window_minutes(minutes: i64) -> Result<Duration, ValidationError> {
    let longest = MAX_SESSION_LENGTH.num_minutes();
    match (1..=longest).contains(&minutes) {
        true => Ok(Duration::minutes(minutes)),
        false => Err(ValidationError::new(
            "minutes",
            format!("must be a number of minutes from 1 to {longest}"),
        )),
    }
}

fn check_length(length: Duration) -> Result<(), ValidationError> {
    if length < MIN_SESSION_LENGTH || length > MAX_SESSION_LENGTH {
        return Err(ValidationError::new(
            "length",
            format!(
                "must be between {} minutes and {} hours",
                MIN_SESSION_LENGTH.num_minutes(),
                MAX_SESSION_LENGTH.num_hours()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, hour, minute, 0).unwrap()
    }

    fn hours(hours: i64) -> Duration {
        Duration::hours(hours)
    }

    #[test]
    fn my_sessions_labels_each_status() {
        let labels = [
            SessionStatus::Scheduled,
            SessionStatus::Active,
            SessionStatus::Ended,
            SessionStatus::Failed,
            SessionStatus::Cancelled,
        ]
        .map(SessionStatus::label);
        assert_eq!(
            labels,
            ["Scheduled", "Active", "Ended", "Failed", "Cancelled"]
        );
    }

    #[test]
    fn an_immediate_window_starts_now() {
        let window = SessionWindow::immediate(at(9, 0), hours(2)).unwrap();
        assert_eq!((window.start, window.end), (at(9, 0), at(11, 0)));
    }

    #[test]
    fn a_scheduled_window_starts_in_the_future_or_just_now() {
        let window = SessionWindow::scheduled(at(9, 0), at(10, 30), hours(1)).unwrap();
        assert_eq!((window.start, window.end), (at(10, 30), at(11, 30)));
        // A minute ago counts as now, and the window keeps its length.
        let window = SessionWindow::scheduled(at(9, 0), at(8, 59), hours(1)).unwrap();
        assert_eq!((window.start, window.end), (at(9, 0), at(10, 0)));
        let past = SessionWindow::scheduled(at(9, 0), at(8, 50), hours(1)).unwrap_err();
        assert_eq!(past.field, "start");
        let far = at(9, 0) + Duration::days(91);
        assert_eq!(
            SessionWindow::scheduled(at(9, 0), far, hours(1))
                .unwrap_err()
                .field,
            "start"
        );
        // The edges themselves are allowed: two minutes ago, 90 days ahead.
        assert!(SessionWindow::scheduled(at(9, 0), at(8, 58), hours(1)).is_ok());
        let farthest = at(9, 0) + MAX_SCHEDULE_AHEAD;
        let window = SessionWindow::scheduled(at(9, 0), farthest, hours(1)).unwrap();
        assert_eq!(window.start, farthest);
    }

    #[test]
    fn minutes_from_a_form_are_bounded_before_they_become_a_duration() {
        assert_eq!(window_minutes(1), Ok(Duration::minutes(1)));
        assert_eq!(window_minutes(1440), Ok(Duration::minutes(1440)));
        for minutes in [0, -1, 1441, i64::MAX, i64::MIN] {
            assert_eq!(
                window_minutes(minutes),
                Err(ValidationError::new(
                    "minutes",
                    "must be a number of minutes from 1 to 1440"
                )),
                "{minutes}"
            );
        }
    }

    #[test]
    fn a_window_is_between_five_minutes_and_a_day_long() {
        for length in [Duration::minutes(4), hours(25), Duration::zero()] {
            let error = SessionWindow::immediate(at(9, 0), length).unwrap_err();
            assert_eq!(error.field, "length");
        }
        assert!(SessionWindow::immediate(at(9, 0), MIN_SESSION_LENGTH).is_ok());
        assert!(SessionWindow::immediate(at(9, 0), MAX_SESSION_LENGTH).is_ok());
    }

    #[test]
    fn extending_moves_the_end_up_to_a_day_in_all() {
        let window = SessionWindow::immediate(at(9, 0), hours(2)).unwrap();
        let extended = window.extended(at(10, 0), Duration::minutes(30)).unwrap();
        assert_eq!((extended.start, extended.end), (at(9, 0), at(11, 30)));
        let too_long = window.extended(at(10, 0), hours(23)).unwrap_err();
        assert!(matches!(too_long, WindowError::Invalid(error) if error.field == "by"));
        let whole_day = window.extended(at(10, 0), hours(22)).unwrap();
        assert_eq!(
            whole_day.length(),
            MAX_SESSION_LENGTH,
            "a day in all is allowed"
        );
        assert!(matches!(
            window.extended(at(10, 0), Duration::zero()),
            Err(WindowError::Invalid(_))
        ));
    }

    #[test]
    fn a_window_that_is_over_cannot_be_extended() {
        let window = SessionWindow::immediate(at(9, 0), hours(1)).unwrap();
        assert_eq!(window.extended(at(10, 0), hours(1)), Err(WindowError::Over));
    }

    #[test]
    fn the_clock_starts_warns_and_ends_a_session() {
        let window = SessionWindow::scheduled(at(9, 0), at(10, 0), hours(1)).unwrap();
        let scheduled = SessionStatus::Scheduled;
        let active = SessionStatus::Active;
        assert_eq!(window.due(scheduled, at(9, 59)), None);
        assert_eq!(window.due(scheduled, at(10, 0)), Some(WindowDue::Start));
        assert_eq!(window.due(active, at(10, 54)), None);
        assert_eq!(window.due(active, at(10, 55)), Some(WindowDue::Warn));
        assert_eq!(window.due(active, at(11, 0)), Some(WindowDue::End));
        // Tandem was down for the whole window: it ends unstarted.
        assert_eq!(window.due(scheduled, at(11, 0)), Some(WindowDue::End));
    }

    #[test]
    fn an_extension_takes_back_the_warning() {
        let window = SessionWindow::immediate(at(9, 0), hours(1)).unwrap();
        let active = SessionStatus::Active;
        assert_eq!(window.due(active, at(9, 57)), Some(WindowDue::Warn));
        let extended = window.extended(at(9, 57), Duration::minutes(30)).unwrap();
        assert_eq!(extended.due(active, at(9, 57)), None);
    }

    #[test]
    fn a_stopped_or_cancelled_session_is_left_alone_by_the_clock() {
        // A stop and the end of the window overlap: whichever is first
        // leaves a status the other finds nothing to do with.
        let window = SessionWindow::immediate(at(9, 0), hours(1)).unwrap();
        for status in [
            SessionStatus::Ended,
            SessionStatus::Failed,
            SessionStatus::Cancelled,
        ] {
            assert_eq!(window.due(status, at(10, 0)), None);
            assert_eq!(window.due(status, at(12, 0)), None);
            assert!(OwnerAction::Stop.check(status).is_err());
        }
    }

    #[test]
    fn the_owner_stops_active_sessions_and_cancels_scheduled_ones() {
        use OwnerAction::*;
        use SessionStatus::*;
        assert!(Stop.check(Active).is_ok());
        assert!(Cancel.check(Scheduled).is_ok());
        let error = Stop.check(Scheduled).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the session is scheduled, so it cannot be stopped"
        );
        assert!(Cancel.check(Active).is_err());
        for action in [Extend, Share] {
            assert!(action.check(Scheduled).is_ok());
            assert!(action.check(Active).is_ok());
            assert!(action.check(Ended).is_err());
        }
    }

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for status in [
            SessionStatus::Scheduled,
            SessionStatus::Active,
            SessionStatus::Ended,
            SessionStatus::Failed,
            SessionStatus::Cancelled,
        ] {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SessionStatus::parse("paused"), None);
    }
}
