//! Sharing a live session: invited users entering and leaving, and control
//! changing hands. Each change applies a control rule, then publishes the
//! new panel and tells the users it concerns what happened to them.

use std::time::Instant;

use domain::{ControlError, UserId};
use protocol::{PANEL_LISTED, ServerEvent};

use super::driver::Core;

impl Core {
    /// Publishes the panel when `change` succeeds.
    fn change<T>(
        &mut self,
        change: impl FnOnce(&mut Self) -> Result<T, ControlError>,
    ) -> Result<T, ControlError> {
        let outcome = change(self)?;
        self.publish();
        Ok(outcome)
    }

    fn tell(&self, user: UserId, message: impl Into<String>) {
        let message = message.into();
        self.notify(user, ServerEvent::Notice { message });
    }

    fn force_out(&self, user: UserId, message: &str, may_enter_again: bool) {
        let message = message.to_owned();
        self.notify(
            user,
            ServerEvent::Left {
                message,
                may_enter_again,
            },
        );
    }

    pub(super) fn set_shared(&mut self, shared: bool) -> bool {
        self.shared = shared;
        self.publish();
        true
    }

    /// A user comes in: through the invitation, or as a user the owner
    /// added by name (`member`), whom Cancel share leaves in. Returns
    /// false when they were already in.
    pub(super) fn enter(&mut self, user: UserId, name: String, member: bool) -> bool {
        if member {
            self.members.insert(user);
        }
        self.names.insert(user, name);
        let entered = self.control.enter(user);
        self.publish();
        entered
    }

    /// The owner took a user off the session's Shared with list: if they
    /// are in, they are forced out. Returns whether they were in.
    pub(super) fn remove_member(&mut self, user: UserId) -> bool {
        self.members.remove(&user);
        let removed = self.change(|core| match core.control.leave(user) {
            true => Ok(()),
            false => Err(ControlError::NotInSession),
        });
        if removed.is_ok() {
            self.force_out(user, "The owner removed you from this session.", false);
        }
        removed.is_ok()
    }

    /// An invited user's Exit session. Their browsers are told and close.
    pub(super) fn leave(&mut self, user: UserId) -> bool {
        let left = self.change(|core| match core.control.leave(user) {
            true => Ok(()),
            false => Err(ControlError::NotInSession),
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
    pub(super) fn cancel_share(&mut self) -> Vec<UserId> {
        self.shared = false;
        let members = &self.members;
        let forced_out = self.control.cancel_share(|user| members.contains(&user));
        self.publish();
        for user in &forced_out {
            self.force_out(
                *user,
                "The creator cancelled the share: you were removed from the session.",
                false,
            );
        }
        forced_out
    }

    pub(super) fn request(&mut self, user: UserId, now: Instant) -> Result<(), ControlError> {
        self.change(|core| core.control.request(user, now))
    }

    pub(super) fn agree(
        &mut self,
        answerer: UserId,
        requester: UserId,
    ) -> Result<(), ControlError> {
        self.change(|core| core.control.agree(answerer, requester))?;
        self.tell(requester, "Your request was accepted: you have control.");
        Ok(())
    }

    pub(super) fn refuse(
        &mut self,
        answerer: UserId,
        requester: UserId,
    ) -> Result<(), ControlError> {
        self.change(|core| core.control.refuse(answerer, requester))?;
        self.tell(requester, "Your request for control was refused.");
        Ok(())
    }

    pub(super) fn release(&mut self, user: UserId) -> Result<(), ControlError> {
        self.change(|core| core.control.release(user))
    }

    pub(super) fn take_back(&mut self, user: UserId) -> Result<(), ControlError> {
        let previous = self.control.controller();
        self.change(|core| core.control.take_back(user))?;
        self.tell(previous, "The creator took control back.");
        Ok(())
    }

    /// Lets requests that waited too long lapse and tells their requesters.
    /// Returns who they were.
    pub(super) fn expire_requests(&mut self, now: Instant) -> Vec<UserId> {
        let expired = self.control.expire_requests(now);
        if expired.is_empty() {
            return expired;
        }
        self.publish();
        let seconds = self.control.request_timeout().as_secs();
        for user in &expired {
            self.tell(
                *user,
                format!(
                    "Your request for control timed out: nobody answered within {seconds} seconds."
                ),
            );
        }
        expired
    }

    /// The panel as everyone sees it. A crowd is not listed in full: the
    /// creator, whoever has control or asks for it, then the first to
    /// enter, at most `PANEL_LISTED` of them, and the count of everyone.
    pub(super) fn panel(&self) -> protocol::Panel {
        let control = &self.control;
        let requesters = control.requests().iter().map(|request| request.requester);
        let everyone: Vec<UserId> = control.participants().collect();
        let listed: Vec<UserId> = match everyone.len() <= PANEL_LISTED {
            true => everyone.clone(),
            false => {
                let mut listed = vec![control.creator(), control.controller()];
                listed.extend(requesters.clone());
                listed.extend(everyone.iter().copied());
                let mut seen = std::collections::HashSet::new();
                listed.retain(|user| seen.insert(*user));
                listed.truncate(PANEL_LISTED);
                listed
            }
        };
        protocol::Panel {
            creator: control.creator().0,
            controller: control.controller().0,
            participants: listed
                .into_iter()
                .map(|user| protocol::Participant {
                    id: user.0,
                    name: self.name(user),
                    online: self.is_online(user),
                })
                .collect(),
            participant_count: u32::try_from(everyone.len()).unwrap_or(u32::MAX),
            requests: requesters.map(|user| user.0).collect(),
            shared: self.shared,
            monitors: self.monitors.iter().map(|user| self.name(*user)).collect(),
            ends_at: self.window.map(|window| window.end.to_rfc3339()),
            ending_soon: self.ending_soon,
        }
    }
}
