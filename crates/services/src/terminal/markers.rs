//! The recording's markers: after every change, who entered and left, who
//! has control, whether the session is shared and who watches, compared
//! with the last change recorded.

use domain::UserId;

use super::driver::Core;

/// What the recording's markers follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Roster {
    participants: Vec<UserId>,
    controller: UserId,
    shared: bool,
    monitors: Vec<UserId>,
}

impl Roster {
    /// A session with only its creator, in control.
    pub(crate) fn new(creator: UserId) -> Self {
        Self {
            participants: vec![creator],
            controller: creator,
            shared: false,
            monitors: Vec::new(),
        }
    }

    fn of(core: &Core) -> Self {
        Self {
            participants: core.control.participants().collect(),
            controller: core.control.controller(),
            shared: core.shared,
            monitors: core.monitors.clone(),
        }
    }
}

impl Core {
    /// Records a marker for each join, exit, control change, share opened
    /// or closed and monitor since the last recorded change.
    pub(super) fn record_roster(&mut self) {
        let now = Roster::of(self);
        if now == self.recorded {
            return;
        }
        let before = std::mem::replace(&mut self.recorded, now.clone());
        let mut labels = Vec::new();
        for user in added(&before.participants, &now.participants) {
            labels.push(format!("{} entered", self.name(user)));
        }
        for user in added(&now.participants, &before.participants) {
            labels.push(format!("{} left", self.name(user)));
        }
        if now.controller != before.controller {
            labels.push(format!("control: {}", self.name(now.controller)));
        }
        if now.shared != before.shared {
            let change = if now.shared { "created" } else { "cancelled" };
            labels.push(format!("share {change}"));
        }
        for user in added(&before.monitors, &now.monitors) {
            labels.push(format!("{} started monitoring", self.name(user)));
        }
        for user in added(&now.monitors, &before.monitors) {
            labels.push(format!("{} stopped monitoring", self.name(user)));
        }
        for label in labels {
            self.out.recorder.marker(label);
        }
    }
}

/// Users in `after` who were not in `before`, in order.
fn added(before: &[UserId], after: &[UserId]) -> impl Iterator<Item = UserId> {
    after
        .iter()
        .filter(|user| !before.contains(user))
        .copied()
        .collect::<Vec<_>>()
        .into_iter()
}
