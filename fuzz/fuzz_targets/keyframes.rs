//! Any recording file: its keyframes are built without a panic, in order,
//! each of a real size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use services::keyframes;

fuzz_target!(|bytes: &[u8]| {
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
