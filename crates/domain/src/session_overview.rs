//! What the admin's Sessions page shows of every session: the live ones on
//! this node, and those that are over, with how long they ran and how big
//! their recording is.

use serde::{Deserialize, Serialize};

use crate::OmSessionId;

/// A running session as an administrator watches it from the Sessions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSessionOverview {
    pub id: OmSessionId,
    /// The creator's user name.
    pub creator: String,
    pub host: String,
    /// The host account's login.
    pub account: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Display names, the creator first.
    pub participants: Vec<String>,
    /// Display name of whoever types.
    pub controller: String,
    /// Whether an invitation is open.
    pub shared: bool,
    /// Display names of the administrators monitoring it right now.
    pub monitors: Vec<String>,
}

/// A session that is over (ended or failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastSessionOverview {
    pub id: OmSessionId,
    pub creator: String,
    pub host: String,
    pub account: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub ended_at: Option<String>,
    /// The `SessionEnd` code.
    pub end_code: Option<String>,
    /// From start to end.
    pub duration_ms: Option<u64>,
    /// Bytes of the recording, once it was finished.
    pub recording_size: Option<u64>,
}

/// A duration for people: `45 s`, `3 min 07 s`, `2 h 05 min`.
pub fn format_duration(milliseconds: u64) -> String {
    let seconds = milliseconds / 1000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds} s"),
        (0, _) => format!("{minutes} min {seconds:02} s"),
        _ => format!("{hours} h {minutes:02} min"),
    }
}

/// A size in bytes for people, in binary units: `512 B`, `12.3 KiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: the precision an f64 loses here is far below 0.1.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0), "0 s");
        assert_eq!(format_duration(45_999), "45 s");
        assert_eq!(format_duration(187_000), "3 min 07 s");
        assert_eq!(format_duration(7_500_000), "2 h 05 min");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1024), "1.0 KiB");
        assert_eq!(format_size(12_595), "12.3 KiB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(3 << 29), "1.5 GiB");
        assert_eq!(format_size(3 << 40), "3.0 TiB");
        assert_eq!(format_size(1 << 60), "1048576.0 TiB", "no unit past TiB");
    }
}
