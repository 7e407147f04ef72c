//! Any recording text: its markers are read without a panic and each is
//! well formed; any byte stream, cut anywhere, becomes the same text as
//! a lossy conversion of the whole.
#![no_main]

use domain::{CastEvent, Utf8Stream, cast_marker, cast_markers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    for marker in cast_markers(&text) {
        assert!(marker.seconds.is_finite() && marker.seconds >= 0.0);
        // What is read back is written again as the same marker.
        let mut line = Vec::new();
        let micros = (marker.seconds * 1e6).min(1e15) as u64;
        CastEvent::Marker(&marker.label)
            .write_line(std::time::Duration::from_micros(micros), &mut line);
        let again = cast_marker(std::str::from_utf8(&line).unwrap_or_default());
        assert_eq!(again.map(|again| again.label), Some(marker.label));
    }
    // The first byte picks where the stream is cut.
    let cut = bytes
        .first()
        .map_or(0, |&first| usize::from(first) % (bytes.len() + 1));
    let mut stream = Utf8Stream::default();
    let mut streamed = stream.push(&bytes[..cut]).into_owned();
    streamed.push_str(&stream.push(&bytes[cut..]));
    streamed.push_str(&stream.finish());
    assert_eq!(streamed, text);
});
