//! Administrators watching a live session without being in it: they see
//! what everyone sees, the panel names them to everyone, and since they are
//! never in `Control`, nothing they send reaches the host.

use domain::UserId;

use super::{Attachment, LiveSession, Monitor, Phase};

/// How a live session looks right now, for the admin's Sessions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveOverview {
    pub participants: Vec<String>,
    pub controller: String,
    pub shared: bool,
    pub monitors: Vec<String>,
}

impl LiveSession {
    /// Attaches a browser of an administrator who is not in the session, to
    /// watch it: they get the screen, the stream and the panel, and the
    /// panel names them to everyone. They stay out of `control`, so their
    /// keystrokes and resizes are dropped like any non-controller's.
    /// Returns None for someone in the session, who attaches as a
    /// participant.
    pub fn monitor(&self, user: UserId, name: String) -> Option<Attachment> {
        let mut state = self.lock();
        if state.control.is_in(user) {
            return None;
        }
        // An ended session shows its end; nobody starts watching it.
        if !matches!(state.phase, Phase::Ended(_)) {
            match state
                .monitors
                .iter_mut()
                .find(|monitor| monitor.user == user)
            {
                Some(monitor) => monitor.connections += 1,
                None => {
                    state.names.entry(user).or_insert(name);
                    state.monitors.push(Monitor {
                        user,
                        connections: 1,
                    });
                    self.publish_panel(&mut state);
                }
            }
        }
        let mut attachment = self.snapshot(&state, user);
        // Even for an ended session: its socket detaches as a monitor.
        attachment.monitoring = true;
        Some(attachment)
    }

    /// Detaches a monitor's browser; with their last one they leave the
    /// panel.
    pub fn stop_monitoring(&self, user: UserId) {
        let mut state = self.lock();
        let Some(index) = state
            .monitors
            .iter()
            .position(|monitor| monitor.user == user)
        else {
            return;
        };
        let monitor = &mut state.monitors[index];
        monitor.connections = monitor.connections.saturating_sub(1);
        if monitor.connections == 0 {
            state.monitors.remove(index);
            if !matches!(state.phase, Phase::Ended(_)) {
                self.publish_panel(&mut state);
            }
        }
    }

    /// Who is in, who types, whether it is shared and who watches.
    pub(crate) fn overview(&self) -> LiveOverview {
        let state = self.lock();
        LiveOverview {
            participants: state
                .control
                .participants()
                .map(|user| state.name(user))
                .collect(),
            controller: state.name(state.control.controller()),
            shared: state.shared,
            monitors: state
                .monitors
                .iter()
                .map(|monitor| state.name(monitor.user))
                .collect(),
        }
    }

    /// A marker in the recording, in order with what the browsers saw;
    /// none once the session has ended.
    pub(crate) fn mark(&self, label: String) {
        let state = self.lock();
        if !matches!(state.phase, Phase::Ended(_)) {
            self.recorder.marker(label);
        }
    }
}
