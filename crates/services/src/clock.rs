//! Where Tandem reads the time of day. A server reads the system's; a test
//! moves its own clock ahead to reach a share's expiry or a session
//! window's start, warning and end without waiting for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// The system's time, plus however far this clock was moved ahead (never,
/// in a server). Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock, and every clone of it, ahead by `by`.
    pub fn advance(&self, by: TimeDelta) {
        self.ahead_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_reads_the_system_time_until_moved_and_its_clones_move_with_it() {
        let clock = Clock::default();
        let before = Utc::now();
        let read = clock.now();
        assert!(read >= before && read <= Utc::now());

        let clone = clock.clone();
        clock.advance(TimeDelta::hours(2));
        let moved = clone.now() - Utc::now();
        assert!(
            moved > TimeDelta::minutes(119) && moved <= TimeDelta::hours(2),
            "{moved}"
        );
    }
}
