//! Administrators watching a live session without being in it: they see
//! what everyone sees, the panel names them to everyone, and since they are
//! never in `Control`, nothing they send reaches the host.

use domain::UserId;

use super::driver::Core;

impl Core {
    /// A monitor's browser attaches; with their first one the panel names
    /// them.
    pub(super) fn start_monitoring(&mut self, user: UserId, name: String) {
        self.names.entry(user).or_insert(name);
        if !self.monitors.contains(&user) {
            self.monitors.push(user);
        }
    }

    /// A monitor's browser detached; with their last one they leave the
    /// panel.
    pub(super) fn stop_monitoring(&mut self, user: UserId) {
        let watching = self
            .connections
            .values()
            .any(|connection| connection.user == user && connection.monitoring);
        if !watching {
            self.monitors.retain(|monitor| *monitor != user);
        }
    }
}
