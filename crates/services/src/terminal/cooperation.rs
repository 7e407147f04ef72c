//! Sharing a live session: invited users entering and leaving, and control
//! changing hands. Each change applies a control rule under the session's
//! lock, then tells everyone the new panel and the users it concerns what
//! happened to them.

use std::time::Instant;

use chrono::{DateTime, Utc};
use domain::{ControlError, SessionStatus, SessionWindow, UserId, WindowDue};
use protocol::ServerEvent;

use super::{Frame, LiveSession, State};

impl LiveSession {
    /// Applies `change` and, when it succeeds, publishes the new panel.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut State) -> Result<T, ControlError>,
    ) -> Result<T, ControlError> {
        let mut state = self.lock();
        let outcome = change(&mut state)?;
        self.publish_panel(&mut state);
        Ok(outcome)
    }

    fn notify(&self, user: UserId, message: impl Into<String>) {
        self.send(Frame::to(
            user,
            ServerEvent::Notice {
                message: message.into(),
            },
        ));
    }

    fn force_out(&self, user: UserId, message: &str, may_enter_again: bool) {
        self.send(Frame::to(
            user,
            ServerEvent::Left {
                message: message.to_owned(),
                may_enter_again,
            },
        ));
    }

    pub fn is_in(&self, user: UserId) -> bool {
        self.lock().control.is_in(user)
    }

    /// Display names of everyone in, the creator first.
    pub fn participant_names(&self) -> Vec<String> {
        let state = self.lock();
        state
            .control
            .participants()
            .map(|user| state.name(user))
            .collect()
    }

    /// An invitation was opened or closed.
    pub(crate) fn set_shared(&self, shared: bool) {
        let _ = self.change(|state| {
            state.shared = shared;
            Ok(())
        });
    }

    /// An invited user enters. Returns false when they were already in.
    pub(crate) fn enter(&self, user: UserId, name: String) -> bool {
        self.change(|state| {
            state.names.insert(user, name);
            Ok(state.control.enter(user))
        })
        .unwrap_or(false)
    }

    /// A user the owner added by name comes in (View on My Sessions).
    /// Returns false when they were already in.
    pub(crate) fn enter_as_member(&self, user: UserId, name: String) -> bool {
        self.change(|state| {
            state.members.insert(user);
            state.names.insert(user, name);
            Ok(state.control.enter(user))
        })
        .unwrap_or(false)
    }

    /// The owner took a user off the session's Shared with list: if they
    /// are in, they are forced out. Returns whether they were in.
    pub(crate) fn remove_member(&self, user: UserId) -> bool {
        let removed = self.change(|state| {
            state.members.remove(&user);
            match state.control.leave(user) {
                true => Ok(()),
                false => Err(ControlError::NotInSession),
            }
        });
        if removed.is_ok() {
            self.force_out(user, "The owner removed you from this session.", false);
        }
        removed.is_ok()
    }

    /// The session's window is set or extended, which takes back any
    /// warning of its end; everyone's panel shows it.
    pub(crate) fn set_window(&self, window: SessionWindow) {
        let mut state = self.lock();
        state.window = Some(window);
        state.ending_soon = false;
        self.publish_panel(&mut state);
    }

    /// What the clock must do now, if anything. A warning that is due is
    /// shown here, under the same lock as an Extend, so that neither undoes
    /// the other.
    pub(crate) fn window_due(&self, now: DateTime<Utc>) -> Option<WindowDue> {
        let mut state = self.lock();
        let due = state.window?.due(SessionStatus::Active, now);
        if due == Some(WindowDue::Warn) && !state.ending_soon {
            state.ending_soon = true;
            self.publish_panel(&mut state);
        }
        due
    }

    /// An invited user's Exit session. Their browsers are told and close.
    pub(crate) fn leave(&self, user: UserId) -> bool {
        let left = self.change(|state| {
            if state.control.leave(user) {
                Ok(())
            } else {
                Err(ControlError::NotInSession)
            }
        });
        if left.is_ok() {
            self.force_out(
                user,
                "You left the session. You may enter again through the invitation while the share is open.",
                true,
            );
        }
        left.is_ok()
    }

    /// Cancel share: every invited user is forced out at once. Returns who.
    pub(crate) fn cancel_share(&self) -> Vec<UserId> {
        let forced_out = self
            .change(|state| {
                state.shared = false;
                let members = &state.members;
                Ok(state.control.cancel_share(|user| members.contains(&user)))
            })
            .unwrap_or_default();
        for user in &forced_out {
            self.force_out(
                *user,
                "The creator cancelled the share: you were removed from the session.",
                false,
            );
        }
        forced_out
    }

    pub fn request_control(&self, user: UserId, now: Instant) -> Result<(), ControlError> {
        self.change(|state| state.control.request(user, now))
    }

    pub fn agree(&self, answerer: UserId, requester: UserId) -> Result<(), ControlError> {
        self.change(|state| state.control.agree(answerer, requester))?;
        self.notify(requester, "Your request was accepted: you have control.");
        Ok(())
    }

    pub fn refuse(&self, answerer: UserId, requester: UserId) -> Result<(), ControlError> {
        self.change(|state| state.control.refuse(answerer, requester))?;
        self.notify(requester, "Your request for control was refused.");
        Ok(())
    }

    pub fn release_control(&self, user: UserId) -> Result<(), ControlError> {
        self.change(|state| state.control.release(user))
    }

    pub fn take_control_back(&self, user: UserId) -> Result<(), ControlError> {
        let previous = self.change(|state| {
            let previous = state.control.controller();
            state.control.take_back(user).map(|()| previous)
        })?;
        self.notify(previous, "The creator took control back.");
        Ok(())
    }

    /// Lets requests that waited too long lapse and tells their requesters.
    /// Returns who they were.
    pub(crate) fn expire_requests(&self, now: Instant) -> Vec<UserId> {
        let (expired, timeout) = {
            let mut state = self.lock();
            let expired = state.control.expire_requests(now);
            if !expired.is_empty() {
                self.publish_panel(&mut state);
            }
            (expired, state.control.request_timeout())
        };
        for user in &expired {
            self.notify(
                *user,
                format!(
                    "Your request for control timed out: nobody answered within {} seconds.",
                    timeout.as_secs()
                ),
            );
        }
        expired
    }

    /// How long a request for control waits for an answer.
    pub(crate) fn request_timeout(&self) -> std::time::Duration {
        self.lock().control.request_timeout()
    }
}
