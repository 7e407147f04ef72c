//! Any recording file: its keyframes are built without a panic, in order,
//! each of a real size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use services::keyframes;

/// Terminal sizes in recordings are not bounded yet, and the replay
/// allocates every cell: a header or resize of 65535 × 65535 exhausts
/// memory. Until the bound on cols and rows lands, inputs that name a
/// number of more than three digits are skipped (the ignored test
/// `recorded_sizes_beyond_any_screen_are_clamped` marks the gap).
fn names_a_huge_number(bytes: &[u8]) -> bool {
    bytes
        .split(|byte| !byte.is_ascii_digit())
        .any(|digits| digits.iter().skip_while(|&&digit| digit == b'0').count() > 3)
}

fuzz_target!(|bytes: &[u8]| {
    if names_a_huge_number(bytes) {
        return;
    }
    // The first byte picks how much output lies between keyframes.
    let every = bytes.first().map_or(1, |&first| usize::from(first) + 1);
    let Ok(keys) = keyframes(bytes, every) else {
        return;
    };
    let mut previous = 0;
    for key in keys {
        assert!(key.events > previous);
        assert!(key.cols >= 1 && key.rows >= 1);
        assert!(key.time.is_finite());
        previous = key.events;
    }
});
