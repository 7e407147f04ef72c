//! Properties of the asciicast v2 format over generated lines and byte
//! streams: reading a recording never panics, whatever a crash or a hand
//! edit left in it; what Tandem writes reads back as written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use domain::{CastEvent, CastHeader, CastMarker, Utf8Stream, cast_marker, cast_markers};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Up to thirty days, in microseconds (the precision of the format).
fn elapsed() -> impl Strategy<Value = Duration> {
    (0u64..30 * 24 * 3600 * 1_000_000).prop_map(Duration::from_micros)
}

fn line_of(event: CastEvent, elapsed: Duration) -> String {
    let mut out = Vec::new();
    event.write_line(elapsed, &mut out);
    String::from_utf8(out).unwrap()
}

/// A line that might be in a recording: an event of any code with any
/// time (negative, huge, not a number), a cut-off line, or any text.
fn recording_line() -> impl Strategy<Value = String> {
    let time = prop_oneof![
        any::<f64>().prop_map(Value::from),
        (0u32..1000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,4}".prop_map(Value::from),
    ];
    let code = prop_oneof!["[moir]", ".{0,2}"];
    let text = prop_oneof![
        ".{0,24}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from)
    ];
    prop_oneof![
        (time, code, text)
            .prop_map(|(time, code, text)| { serde_json::to_string(&(time, code, text)).unwrap() }),
        (".{0,24}", 0usize..24).prop_map(|(label, cut)| {
            let line = serde_json::to_string(&(1.5, "m", label)).unwrap();
            line.chars().take(cut).collect()
        }),
        ".{0,40}",
    ]
}

/// The marker a line holds, as the documentation says: a well-formed
/// `[seconds, "m", label]` with a finite, non-negative time.
fn documented_marker(line: &str) -> Option<CastMarker> {
    let (seconds, code, label): (f64, String, String) = serde_json::from_str(line.trim()).ok()?;
    (code == "m" && seconds.is_finite() && seconds >= 0.0).then_some(CastMarker { seconds, label })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_line_is_a_well_formed_marker_or_nothing(line in prop_oneof![recording_line(), any::<String>()]) {
        let marker = cast_marker(&line);
        if let Some(marker) = &marker {
            prop_assert!(marker.seconds.is_finite() && marker.seconds >= 0.0);
        }
        prop_assert_eq!(marker, documented_marker(&line));
    }

    #[test]
    fn markers_are_read_back_as_written(label in any::<String>(), at in elapsed()) {
        let line = line_of(CastEvent::Marker(&label), at);
        prop_assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let marker = cast_marker(&line).unwrap();
        prop_assert_eq!(&marker.label, &label);
        prop_assert!((marker.seconds - at.as_secs_f64()).abs() < 1e-6, "{} for {:?}", marker.seconds, at);
    }

    #[test]
    fn other_events_read_back_as_written_and_are_not_markers(
        text in any::<String>(),
        (cols, rows) in any::<(u16, u16)>(),
        at in elapsed(),
    ) {
        for (event, code, written) in [
            (CastEvent::Output(&text), "o", text.clone()),
            (CastEvent::Input(&text), "i", text.clone()),
            (CastEvent::Resize { cols, rows }, "r", format!("{cols}x{rows}")),
        ] {
            let line = line_of(event, at);
            prop_assert_eq!(line.matches('\n').count(), 1);
            prop_assert_eq!(cast_marker(&line), None);
            let (seconds, read_code, read_text): (f64, String, String) =
                serde_json::from_str(&line).unwrap();
            prop_assert!((seconds - at.as_secs_f64()).abs() < 1e-6);
            prop_assert_eq!(read_code, code);
            prop_assert_eq!(read_text, written);
        }
    }

    #[test]
    fn a_recording_lists_its_markers_in_order_whatever_lies_between(
        events in proptest::collection::vec((any::<bool>(), ".{0,16}", elapsed()), 0..12),
        noise in proptest::collection::vec(recording_line(), 0..12),
        cut in 0usize..40,
    ) {
        let header = CastHeader {
            width: 80,
            height: 24,
            timestamp: 0,
            title: "properties".to_owned(),
            term: "xterm".to_owned(),
        };
        let mut recording = header.to_line();
        let mut written = Vec::new();
        for (index, (is_marker, text, at)) in events.iter().enumerate() {
            match is_marker {
                true => {
                    recording.push_str(&line_of(CastEvent::Marker(text), *at));
                    written.push(text.clone());
                }
                false => recording.push_str(&line_of(CastEvent::Output(text), *at)),
            }
            // Lines that are not markers (by the rule above) between events.
            if let Some(line) = noise.get(index).filter(|line| documented_marker(line).is_none()) {
                recording.push_str(line);
                recording.push('\n');
            }
        }
        // A crash leaves the start of one more marker line.
        let half = line_of(CastEvent::Marker("lost"), Duration::ZERO);
        recording.push_str(&half[..cut.min(half.len() - 2)]);
        let labels: Vec<String> = cast_markers(&recording).into_iter().map(|m| m.label).collect();
        prop_assert_eq!(labels, written);
    }

    #[test]
    fn the_header_is_one_json_line_with_what_players_need(
        width in any::<u16>(),
        height in any::<u16>(),
        timestamp in any::<i64>(),
        title in any::<String>(),
        term in ".{0,24}",
    ) {
        let header = CastHeader { width, height, timestamp, title: title.clone(), term: term.clone() };
        let line = header.to_line();
        prop_assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let parsed: Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(
            parsed,
            serde_json::json!({
                "version": 2, "width": width, "height": height, "timestamp": timestamp,
                "title": title, "env": {"TERM": term}
            })
        );
    }

    #[test]
    fn a_byte_stream_becomes_the_same_text_however_it_is_split(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<String>().prop_map(String::into_bytes),
        ],
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut stream = Utf8Stream::default();
        let mut text = String::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            text.push_str(&stream.push(&bytes[start..cut]));
            start = cut;
        }
        text.push_str(&stream.finish());
        prop_assert_eq!(text, String::from_utf8_lossy(&bytes).into_owned());
    }
}
