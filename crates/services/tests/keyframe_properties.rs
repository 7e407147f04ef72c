//! Properties of the keyframes of generated recordings: any file is read
//! without panicking, each keyframe sits where the output crossed the
//! threshold, carries the time and size of that moment, and drawing it then
//! replaying what follows shows what replaying the whole recording shows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::num::NonZeroU16;

use proptest::prelude::*;
use services::{Keyframe, keyframes};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One line of a generated recording.
#[derive(Debug, Clone)]
enum Line {
    Output(String),
    Input(String),
    Marker(String),
    /// A size as `r` events write it, or text that is not a size.
    Resize(String),
    /// Not an event: skipped, and not counted.
    Noise(&'static str),
}

/// Terminal output: text, line ends, colours, cursor moves, clearing and,
/// when `alternate`, the alternate screen that full-screen programs switch
/// to (otherwise those switches are dropped).
fn output(alternate: bool) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 .:/-]{1,12}",
        2 => Just("\r\n".to_owned()),
        1 => Just("\x1b[31m".to_owned()),
        1 => Just("\x1b[1;44m".to_owned()),
        1 => Just("\x1b[0m".to_owned()),
        1 => Just("\x1b[H".to_owned()),
        1 => Just("\x1b[2J".to_owned()),
        1 => Just("\x1b[K".to_owned()),
        1 => (1u8..30, 1u8..90).prop_map(|(row, col)| format!("\x1b[{row};{col}H")),
        1 => Just("\x1b[?1049h".to_owned()),
        1 => Just("\x1b[?1049l".to_owned()),
        1 => Just("été".to_owned()),
    ];
    proptest::collection::vec(piece, 1..8).prop_map(move |pieces| {
        pieces
            .into_iter()
            .filter(|piece| alternate || !piece.starts_with("\x1b[?1049"))
            .collect()
    })
}

/// A line of a recording whose sizes are at least `smallest` (cols, rows)
/// when they are sizes at all.
fn line(smallest: (u16, u16), alternate: bool) -> impl Strategy<Value = Line> {
    prop_oneof![
        8 => output(alternate).prop_map(Line::Output),
        1 => "[a-z\r]{0,6}".prop_map(Line::Input),
        1 => "[a-z :]{0,12}".prop_map(Line::Marker),
        2 => prop_oneof![
            (smallest.0..=120, smallest.1..=40).prop_map(|(cols, rows)| format!("{cols}x{rows}")),
            "[0-9x]{0,6}",
        ]
        .prop_map(Line::Resize),
        1 => prop_oneof![
            Just(""),
            Just("not json"),
            Just("[1.0, \"o\"]"),
            Just("[\"1.0\", \"o\", \"time is text\"]"),
            Just("{\"version\": 2}"),
            Just("[2.0, \"o\", \"cut sh"),
        ]
        .prop_map(Line::Noise),
    ]
}

/// A recording: its header's size, its lines with their times, and the
/// file's text.
#[derive(Debug, Clone)]
struct Recording {
    cols: u16,
    rows: u16,
    lines: Vec<(f64, Line)>,
}

impl Recording {
    fn text(&self) -> String {
        let mut text = format!(
            "{{\"version\":2,\"width\":{},\"height\":{},\"timestamp\":0}}\n",
            self.cols, self.rows
        );
        for (time, line) in &self.lines {
            let event = |code: &str, data: &str| serde_json::to_string(&(time, code, data));
            let line = match line {
                Line::Output(data) => event("o", data).unwrap(),
                Line::Input(data) => event("i", data).unwrap(),
                Line::Marker(data) => event("m", data).unwrap(),
                Line::Resize(data) => event("r", data).unwrap(),
                Line::Noise(noise) => (*noise).to_owned(),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    /// The events, in order: every line but the noise.
    fn events(&self) -> Vec<(f64, &Line)> {
        self.lines
            .iter()
            .filter(|(_, line)| !matches!(line, Line::Noise(_)))
            .map(|(time, line)| (*time, line))
            .collect()
    }
}

/// A recording whose sizes (in the header and in `r` events) are at least
/// `smallest`, switching to the alternate screen and back if `alternate`.
fn recording(smallest: (u16, u16), alternate: bool) -> impl Strategy<Value = Recording> {
    (
        smallest.0..=100,
        smallest.1..=30,
        proptest::collection::vec((0u32..100_000, line(smallest, alternate)), 0..40),
    )
        .prop_map(|(cols, rows, lines)| Recording {
            cols,
            rows,
            // Milliseconds, so that every time is exact in the file.
            lines: paired_screen_switches(
                lines
                    .into_iter()
                    .map(|(millis, line)| (f64::from(millis) / 1000.0, line))
                    .collect(),
            ),
        })
}

/// The lines with each switch to the alternate screen matched by one
/// back, as programs do: a switch back without one to the alternate screen
/// before it restores a cursor saved long ago, which no snapshot of the
/// screen carries (vt100 keeps no saved cursor in its formatted state).
fn paired_screen_switches(lines: Vec<(f64, Line)>) -> Vec<(f64, Line)> {
    let mut alternate = false;
    let mut pair = |data: &str| {
        let mut kept = String::new();
        let mut rest = data;
        while let Some(at) = rest.find("\x1b[?1049") {
            let (before, switch) = rest.split_at(at);
            kept.push_str(before);
            let (switch, after) = switch.split_at("\x1b[?1049h".len());
            if switch.ends_with('h') != alternate {
                alternate = !alternate;
                kept.push_str(switch);
            }
            rest = after;
        }
        kept.push_str(rest);
        kept
    };
    lines
        .into_iter()
        .map(|(time, line)| match line {
            Line::Output(data) => (time, Line::Output(pair(&data))),
            other => (time, other),
        })
        .collect()
}

fn size(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

fn parse_size(text: &str) -> Option<(u16, u16)> {
    let (cols, rows) = text.split_once('x')?;
    Some((cols.parse().ok()?, rows.parse().ok()?))
}

/// The screen's text after drawing `start` (a keyframe's screen, on a
/// terminal of its size) and then replaying `events`.
fn screen_after(start: (u16, u16, &str), events: &[(f64, &Line)]) -> String {
    let (cols, rows, screen) = start;
    let mut terminal = vt100::Parser::new(size(rows), size(cols), 0);
    terminal.process(screen.as_bytes());
    for (_, line) in events {
        match line {
            Line::Output(data) => terminal.process(data.as_bytes()),
            Line::Resize(data) => {
                if let Some((cols, rows)) = parse_size(data) {
                    terminal.set_size(size(rows), size(cols));
                }
            }
            _ => {}
        }
    }
    terminal.screen().contents()
}

fn output_bytes(events: &[(f64, &Line)]) -> usize {
    events
        .iter()
        .map(|(_, line)| match line {
            Line::Output(data) => data.len(),
            _ => 0,
        })
        .sum()
}

/// The terminal's size after `events`, as `(cols, rows)`, starting from
/// the header's.
fn size_after(recording: &Recording, events: &[(f64, &Line)]) -> (u16, u16) {
    // Every side within 1 and the maximum, as the replay brings it.
    let bounded = |(cols, rows)| {
        let size = domain::TerminalSize::clamped(cols, rows);
        (size.cols(), size.rows())
    };
    events.iter().fold(
        bounded((recording.cols, recording.rows)),
        |now, (_, line)| match line {
            Line::Resize(data) => parse_size(data).map_or(now, bounded),
            _ => now,
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn keyframes_sit_where_output_crosses_the_threshold(
        recording in recording((0, 0), true),
        every in 1usize..400,
    ) {
        let keys: Vec<Keyframe> = keyframes(recording.text().as_bytes(), every).unwrap();
        let events = recording.events();
        let mut previous = 0;
        for key in &keys {
            prop_assert!(key.events > previous && key.events <= events.len());
            let stretch = &events[previous..key.events];
            // This event's output crossed the threshold; the one before had not.
            prop_assert!(output_bytes(stretch) >= every);
            prop_assert!(output_bytes(&stretch[..stretch.len() - 1]) < every);
            // serde_json reads a float back to within a unit of its last place.
            prop_assert!((key.time - events[key.events - 1].0).abs() < 1e-9);
            prop_assert_eq!((key.cols, key.rows), size_after(&recording, &events[..key.events]));
            previous = key.events;
        }
        // No keyframe is missing after the last one.
        prop_assert!(output_bytes(&events[previous..]) < every);
    }

    #[test]
    fn a_keyframe_draws_the_screen_as_it_stood(
        recording in recording((1, 1), true),
        every in 1usize..200,
    ) {
        let events = recording.events();
        for key in keyframes(recording.text().as_bytes(), every).unwrap() {
            let then = screen_after((recording.cols, recording.rows, ""), &events[..key.events]);
            prop_assert_eq!(screen_after((key.cols, key.rows, &key.screen), &[]), then);
        }
    }

    #[test]
    fn a_keyframe_and_the_rest_show_what_the_whole_replay_shows(
        // Without switches to the alternate screen and without resizes: a
        // snapshot does not carry the cursor saved on entering the
        // alternate screen, and after lines scrolled off the top vt100
        // grows a taller terminal with a blank first row on the whole
        // replay but not on a redrawn snapshot, so what follows such a
        // moment can differ from the whole replay.
        mut recording in recording((2, 2), false),
        every in 1usize..200,
    ) {
        recording.lines.retain(|(_, line)| !matches!(line, Line::Resize(_)));
        let events = recording.events();
        let whole = screen_after((recording.cols, recording.rows, ""), &events);
        for key in keyframes(recording.text().as_bytes(), every).unwrap() {
            let from_key = screen_after((key.cols, key.rows, &key.screen), &events[key.events..]);
            prop_assert_eq!(&from_key, &whole, "from the keyframe after {} events", key.events);
        }
    }

    #[test]
    fn any_bytes_read_as_a_recording_without_panicking(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        every in 1usize..64,
    ) {
        // Without a header of the expected shape first there are no keyframes.
        prop_assert_eq!(keyframes(&bytes[..], every).unwrap(), Vec::<Keyframe>::new());
        let header = b"{\"version\":2,\"width\":20,\"height\":5}\n";
        let keys = keyframes(&[&header[..], &bytes].concat()[..], every).unwrap();
        let mut previous = 0;
        for key in keys {
            prop_assert!(key.events > previous);
            prop_assert!(key.cols >= 1 && key.rows >= 1);
            previous = key.events;
        }
    }
}

/// A recording (written from what browsers sent, or by anyone with access
/// to the file) may hold any size up to 65535 x 65535: the replay brings
/// it within the maximum before allocating a screen for it.
#[test]
fn recorded_sizes_beyond_any_screen_are_clamped() {
    let cast = concat!(
        "{\"version\":2,\"width\":65535,\"height\":3}\n",
        "[0.1,\"o\",\"x\"]\n",
        "[0.3,\"r\",\"65535x3\"]\n",
        "[0.4,\"o\",\"y\"]\n",
    );
    for key in keyframes(cast.as_bytes(), 1).unwrap() {
        assert_eq!(
            (key.cols, key.rows),
            (domain::MAX_COLS, 3),
            "after {} events",
            key.events
        );
    }
}
