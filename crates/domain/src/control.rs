//! Who may type in a shared session: the control rules as a state machine.
//!
//! Plain data, no clock and no I/O: the caller passes the time in and acts on
//! what each method returns (tell a requester the outcome, force users out).
//! The live session holds one `Control` under its lock, so every rule is
//! decided in one place and races are decided by the order of calls.

use std::time::{Duration, Instant};

use crate::UserId;

/// How long a request for control waits for an answer by default (rule 3).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Control {
    creator: UserId,
    /// The one participant whose keystrokes and resizes reach the host.
    controller: UserId,
    /// Users who entered through the share and have not left, in order of
    /// entry. The creator is always in and is not listed here.
    invited: Vec<UserId>,
    /// Pending requests, oldest first; at most one per user.
    requests: Vec<ControlRequest>,
    /// How long a request waits for an answer.
    request_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRequest {
    pub requester: UserId,
    pub made_at: Instant,
}

/// Why a control action was refused. Messages are safe to show.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
pub enum ControlError {
    #[error("you are not in this session")]
    NotInSession,
    #[error("you already have control")]
    AlreadyInControl,
    #[error("your request for control is already waiting for an answer")]
    AlreadyRequested,
    #[error("only the controller or the creator may answer requests for control")]
    NotAnswerer,
    #[error("that request for control is no longer pending")]
    NoSuchRequest,
    #[error("you do not have control")]
    NotInControl,
    #[error("only the creator may do this")]
    NotCreator,
}

/// What happened to a user's request for control, to tell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Agreed,
    Refused,
    TimedOut,
}

impl Control {
    /// Rule 1: the creator holds control when the session starts.
    pub fn new(creator: UserId, request_timeout: Duration) -> Self {
        Self {
            creator,
            controller: creator,
            invited: Vec::new(),
            requests: Vec::new(),
            request_timeout,
        }
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    pub fn creator(&self) -> UserId {
        self.creator
    }

    pub fn controller(&self) -> UserId {
        self.controller
    }

    /// The invited users who are in, in order of entry.
    pub fn invited(&self) -> &[UserId] {
        &self.invited
    }

    /// Everyone in: the creator first, then invited users in order of
    /// entry.
    pub fn participants(&self) -> impl Iterator<Item = UserId> + '_ {
        std::iter::once(self.creator).chain(self.invited.iter().copied())
    }

    pub fn requests(&self) -> &[ControlRequest] {
        &self.requests
    }

    pub fn is_in(&self, user: UserId) -> bool {
        user == self.creator || self.invited.contains(&user)
    }

    /// Rule 2: only the controller's input and resizes reach the host.
    pub fn may_type(&self, user: UserId) -> bool {
        user == self.controller
    }

    /// An invited user enters. Returns false when they were already in.
    pub fn enter(&mut self, user: UserId) -> bool {
        if self.is_in(user) {
            return false;
        }
        self.invited.push(user);
        true
    }

    /// Rule 3: Apply for control.
    pub fn request(&mut self, user: UserId, now: Instant) -> Result<(), ControlError> {
        if !self.is_in(user) {
            return Err(ControlError::NotInSession);
        }
        if user == self.controller {
            return Err(ControlError::AlreadyInControl);
        }
        if self.pending(user).is_some() {
            return Err(ControlError::AlreadyRequested);
        }
        self.requests.push(ControlRequest {
            requester: user,
            made_at: now,
        });
        Ok(())
    }

    /// Rule 4: Agree hands control to the requester. Other pending requests
    /// stay, now addressed to the new controller.
    pub fn agree(&mut self, answerer: UserId, requester: UserId) -> Result<(), ControlError> {
        self.answer(answerer, requester)?;
        self.controller = requester;
        Ok(())
    }

    /// Rule 4: Refuse rejects the request; control stays where it is.
    pub fn refuse(&mut self, answerer: UserId, requester: UserId) -> Result<(), ControlError> {
        self.answer(answerer, requester)
    }

    fn answer(&mut self, answerer: UserId, requester: UserId) -> Result<(), ControlError> {
        if answerer != self.controller && answerer != self.creator {
            return Err(ControlError::NotAnswerer);
        }
        let index = self.pending(requester).ok_or(ControlError::NoSuchRequest)?;
        self.requests.remove(index);
        Ok(())
    }

    /// Rule 5: Release control hands it back to the creator.
    pub fn release(&mut self, user: UserId) -> Result<(), ControlError> {
        if user != self.controller || user == self.creator {
            return Err(ControlError::NotInControl);
        }
        self.controller = self.creator;
        Ok(())
    }

    /// Rule 6: the creator takes control back at any time.
    pub fn take_back(&mut self, user: UserId) -> Result<(), ControlError> {
        if user != self.creator {
            return Err(ControlError::NotCreator);
        }
        if self.controller == self.creator {
            return Err(ControlError::AlreadyInControl);
        }
        self.controller = self.creator;
        Ok(())
    }

    /// Rule 5: an invited user's connection dropped. They stay in (a reload
    /// comes back), but control returns to the creator and their request is
    /// withdrawn, since they cannot see an answer.
    pub fn disconnect(&mut self, user: UserId) {
        if user == self.creator {
            return;
        }
        if self.controller == user {
            self.controller = self.creator;
        }
        self.requests.retain(|request| request.requester != user);
    }

    /// Rules 5 and 7: an invited user's Exit session. Returns false when
    /// they were not in (or are the creator, who cannot leave without
    /// ending the session).
    pub fn leave(&mut self, user: UserId) -> bool {
        if user == self.creator || !self.invited.contains(&user) {
            return false;
        }
        self.disconnect(user);
        self.invited.retain(|invited| *invited != user);
        true
    }

    /// Rule 8: Cancel share forces every invited user out, except those
    /// who `stay` (users the owner added by name, who did not come in
    /// through the invitation); control returns to the creator from anyone
    /// forced out, and their requests lapse. Returns who was forced out.
    pub fn cancel_share(&mut self, stays: impl Fn(UserId) -> bool) -> Vec<UserId> {
        let (kept, forced_out): (Vec<_>, Vec<_>) =
            self.invited.iter().partition(|user| stays(**user));
        self.invited = kept;
        if forced_out.contains(&self.controller) {
            self.controller = self.creator;
        }
        self.requests
            .retain(|request| !forced_out.contains(&request.requester));
        forced_out
    }

    /// Rule 3: requests unanswered for the request timeout at `now` lapse.
    /// Returns their requesters, to tell them.
    pub fn expire_requests(&mut self, now: Instant) -> Vec<UserId> {
        let (expired, pending) = self
            .requests
            .iter()
            .partition(|request| now.duration_since(request.made_at) >= self.request_timeout);
        self.requests = pending;
        expired
            .into_iter()
            .map(|request| request.requester)
            .collect()
    }

    fn pending(&self, user: UserId) -> Option<usize> {
        self.requests
            .iter()
            .position(|request| request.requester == user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATOR: UserId = UserId(1);
    const ALICE: UserId = UserId(2);
    const BOB: UserId = UserId(3);
    const STRANGER: UserId = UserId(9);

    fn shared() -> (Control, Instant) {
        let mut control = Control::new(CREATOR, REQUEST_TIMEOUT);
        assert!(control.enter(ALICE));
        assert!(control.enter(BOB));
        (control, Instant::now())
    }

    fn requesters(control: &Control) -> Vec<UserId> {
        control.requests().iter().map(|r| r.requester).collect()
    }

    #[test]
    fn rule_1_the_creator_starts_in_control() {
        let control = Control::new(CREATOR, Duration::from_secs(42));
        assert_eq!(control.request_timeout(), Duration::from_secs(42));
        assert_eq!(control.controller(), CREATOR);
        assert!(control.is_in(CREATOR));
        assert!(control.invited().is_empty());
    }

    #[test]
    fn rule_2_only_the_controller_types() {
        let (mut control, now) = shared();
        assert!(control.may_type(CREATOR));
        assert!(!control.may_type(ALICE));
        assert!(!control.may_type(STRANGER));
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        assert!(control.may_type(ALICE));
        assert!(!control.may_type(CREATOR));
    }

    #[test]
    fn entering_twice_lists_a_user_once() {
        let (mut control, _) = shared();
        assert!(!control.enter(ALICE));
        assert!(!control.enter(CREATOR));
        assert_eq!(control.invited(), &[ALICE, BOB]);
        assert_eq!(
            control.participants().collect::<Vec<_>>(),
            vec![CREATOR, ALICE, BOB]
        );
    }

    #[test]
    fn rule_3_one_pending_request_per_user_from_participants_only() {
        let (mut control, now) = shared();
        assert_eq!(
            control.request(STRANGER, now),
            Err(ControlError::NotInSession)
        );
        assert_eq!(
            control.request(CREATOR, now),
            Err(ControlError::AlreadyInControl)
        );
        control.request(ALICE, now).unwrap();
        assert_eq!(
            control.request(ALICE, now),
            Err(ControlError::AlreadyRequested)
        );
        assert_eq!(requesters(&control), vec![ALICE]);
    }

    #[test]
    fn rule_3_unanswered_requests_time_out_after_sixty_seconds() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.request(BOB, now + Duration::from_secs(30)).unwrap();
        assert!(
            control
                .expire_requests(now + Duration::from_secs(59))
                .is_empty()
        );
        assert_eq!(control.expire_requests(now + REQUEST_TIMEOUT), vec![ALICE]);
        assert_eq!(requesters(&control), vec![BOB]);
        assert_eq!(
            control.agree(CREATOR, ALICE),
            Err(ControlError::NoSuchRequest)
        );
        assert_eq!(control.controller(), CREATOR);
    }

    #[test]
    fn rule_3_the_controller_or_the_creator_answers() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.request(BOB, now).unwrap();
        // Bob's request goes to Alice, the controller; the creator may
        // answer too; a third party may not.
        assert_eq!(control.refuse(BOB, BOB), Err(ControlError::NotAnswerer));
        control.refuse(ALICE, BOB).unwrap();
        control.request(BOB, now).unwrap();
        control.agree(CREATOR, BOB).unwrap();
        assert_eq!(control.controller(), BOB);
    }

    #[test]
    fn rule_4_refuse_keeps_control_and_clears_the_request() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.refuse(CREATOR, ALICE).unwrap();
        assert_eq!(control.controller(), CREATOR);
        assert!(control.requests().is_empty());
        // Answered once: a second answer finds nothing.
        assert_eq!(
            control.agree(CREATOR, ALICE),
            Err(ControlError::NoSuchRequest)
        );
        control.request(ALICE, now).unwrap();
    }

    #[test]
    fn two_requests_at_once_are_both_pending_and_answered_one_by_one() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.request(BOB, now).unwrap();
        control.agree(CREATOR, BOB).unwrap();
        assert_eq!(control.controller(), BOB);
        assert_eq!(requesters(&control), vec![ALICE]);
        // The new controller may now answer Alice.
        control.agree(BOB, ALICE).unwrap();
        assert_eq!(control.controller(), ALICE);
    }

    #[test]
    fn rule_5_release_hands_control_back_to_the_creator() {
        let (mut control, now) = shared();
        assert_eq!(control.release(ALICE), Err(ControlError::NotInControl));
        assert_eq!(control.release(CREATOR), Err(ControlError::NotInControl));
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.release(ALICE).unwrap();
        assert_eq!(control.controller(), CREATOR);
    }

    #[test]
    fn rule_5_a_lost_connection_returns_control_and_withdraws_the_request() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.request(BOB, now).unwrap();
        control.disconnect(ALICE);
        control.disconnect(BOB);
        assert_eq!(control.controller(), CREATOR);
        assert!(control.requests().is_empty());
        // Still in: a reload comes back without entering again.
        assert!(control.is_in(ALICE) && control.is_in(BOB));
    }

    #[test]
    fn rule_6_the_creator_takes_control_back_at_any_time() {
        let (mut control, now) = shared();
        assert_eq!(
            control.take_back(CREATOR),
            Err(ControlError::AlreadyInControl)
        );
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        assert_eq!(control.take_back(ALICE), Err(ControlError::NotCreator));
        control.take_back(CREATOR).unwrap();
        assert_eq!(control.controller(), CREATOR);
    }

    #[test]
    fn rule_7_an_invited_user_who_exits_may_enter_again() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        assert!(control.leave(ALICE));
        assert_eq!(control.controller(), CREATOR);
        assert!(!control.is_in(ALICE));
        assert!(!control.leave(ALICE));
        assert!(!control.leave(CREATOR));
        assert!(control.enter(ALICE));
        assert_eq!(control.invited(), &[BOB, ALICE]);
    }

    #[test]
    fn the_controller_leaving_while_a_request_is_pending() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.request(BOB, now).unwrap();
        assert!(control.leave(ALICE));
        // Control is the creator's, and Bob's request waits for them.
        assert_eq!(control.controller(), CREATOR);
        control.agree(CREATOR, BOB).unwrap();
        assert_eq!(control.controller(), BOB);
    }

    #[test]
    fn agree_after_the_requester_left_hands_over_nothing() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        assert!(control.leave(ALICE));
        assert_eq!(
            control.agree(CREATOR, ALICE),
            Err(ControlError::NoSuchRequest)
        );
        assert_eq!(control.controller(), CREATOR);
        assert!(!control.may_type(ALICE));
    }

    #[test]
    fn rule_8_cancel_share_during_a_handover() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.request(BOB, now).unwrap();
        assert_eq!(control.cancel_share(|_| false), vec![ALICE, BOB]);
        assert_eq!(control.controller(), CREATOR);
        assert!(control.requests().is_empty());
        assert!(!control.is_in(ALICE) && !control.is_in(BOB));
        assert_eq!(
            control.agree(CREATOR, BOB),
            Err(ControlError::NoSuchRequest)
        );
        assert!(!control.may_type(ALICE));
    }

    #[test]
    fn rule_8_spares_users_added_by_name() {
        let (mut control, now) = shared();
        control.request(ALICE, now).unwrap();
        control.agree(CREATOR, ALICE).unwrap();
        control.request(BOB, now).unwrap();
        assert_eq!(control.cancel_share(|user| user == ALICE), vec![BOB]);
        assert!(control.is_in(ALICE) && !control.is_in(BOB));
        assert_eq!(control.controller(), ALICE);
        assert!(control.requests().is_empty());
    }
}
