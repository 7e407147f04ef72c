//! asciicast v2, the format sessions are recorded in: one JSON header line,
//! then one JSON array per event, `[seconds, code, data]`. Players (the
//! asciinema CLI, the browser player) read it line by line, so a file cut
//! short after any complete line still plays.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the first line of a recording says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastHeader {
    pub width: u16,
    pub height: u16,
    /// Unix time of the start, in seconds.
    pub timestamp: i64,
    pub title: String,
    /// The `TERM` the host's shell was given.
    pub term: String,
}

impl CastHeader {
    /// The header line, with its newline.
    pub fn to_line(&self) -> String {
        #[derive(Serialize)]
        struct Env<'a> {
            #[serde(rename = "TERM")]
            term: &'a str,
        }
        #[derive(Serialize)]
        struct Header<'a> {
            version: u8,
            width: u16,
            height: u16,
            timestamp: i64,
            title: &'a str,
            env: Env<'a>,
        }
        let header = Header {
            version: 2,
            width: self.width,
            height: self.height,
            timestamp: self.timestamp,
            title: &self.title,
            env: Env { term: &self.term },
        };
        // Serialising these plain structs and strings cannot fail.
        let mut line = serde_json::to_string(&header).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// One event of a recording, borrowing its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastEvent<'a> {
    /// What the host printed (`o`).
    Output(&'a str),
    /// Keystrokes that reached the host (`i`).
    Input(&'a str),
    /// The terminal's new size (`r`).
    Resize { cols: u16, rows: u16 },
    /// Something that happened in the session (`m`): a join, a control
    /// change; the player lists these to jump to.
    Marker(&'a str),
}

impl CastEvent<'_> {
    /// The time a line says for an event `elapsed` since the start:
    /// microseconds, as asciinema writes them; a float keeps JSON simple.
    pub fn seconds(elapsed: Duration) -> f64 {
        (elapsed.as_micros() as f64) / 1_000_000.0
    }

    /// Appends the event line at `elapsed` since the start, with its
    /// newline, to `out`: the writer reuses one buffer for every event.
    pub fn write_line(&self, elapsed: Duration, out: &mut Vec<u8>) {
        let seconds = Seconds(Self::seconds(elapsed));
        // Serialising numbers and strings into a Vec cannot fail.
        let _ = match *self {
            CastEvent::Output(text) => serde_json::to_writer(&mut *out, &(seconds, "o", text)),
            CastEvent::Input(text) => serde_json::to_writer(&mut *out, &(seconds, "i", text)),
            CastEvent::Resize { cols, rows } => {
                serde_json::to_writer(&mut *out, &(seconds, "r", format!("{cols}x{rows}")))
            }
            CastEvent::Marker(label) => serde_json::to_writer(&mut *out, &(seconds, "m", label)),
        };
        out.push(b'\n');
    }
}

/// A marker of a recording (`m` event): when, in seconds since the start,
/// and what it says ("control: Alice").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CastMarker {
    pub seconds: f64,
    pub label: String,
}

/// The markers of a recording, in file order. The header and every line
/// that is not a well-formed marker event are skipped: a recording cut
/// short by a crash ends in half a line, and that must not hide the rest.
pub fn cast_markers(text: &str) -> Vec<CastMarker> {
    text.lines().filter_map(cast_marker).collect()
}

/// The marker on one line of a recording, if that line is one.
pub fn cast_marker(line: &str) -> Option<CastMarker> {
    let (seconds, code, label): (f64, String, String) = serde_json::from_str(line.trim()).ok()?;
    (code == "m" && seconds.is_finite() && seconds >= 0.0).then_some(CastMarker { seconds, label })
}

/// Seconds printed with six decimals at most, and no exponent.
struct Seconds(f64);

impl Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64((self.0 * 1_000_000.0).round() / 1_000_000.0)
    }
}

/// Turns a byte stream into text without splitting a character between two
/// events: an incomplete sequence at the end waits for the next bytes, and
/// bytes that can never be UTF-8 become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// The text of `bytes` after what came before. Borrowed in the common
    /// case (nothing pending, valid UTF-8 up to at most a cut-off last
    /// character), so most output is never copied here.
    pub fn push<'b>(&mut self, bytes: &'b [u8]) -> Cow<'b, str> {
        if self.pending.is_empty() {
            match std::str::from_utf8(bytes) {
                Ok(text) => return Cow::Borrowed(text),
                Err(error) if error.error_len().is_none() => {
                    let (valid, cut) = bytes.split_at(error.valid_up_to());
                    self.pending.extend_from_slice(cut);
                    return Cow::Borrowed(std::str::from_utf8(valid).unwrap_or_default());
                }
                Err(_) => {}
            }
        }
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match error.error_len() {
                        Some(invalid) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[invalid..];
                        }
                        // A character cut off at the end: keep it.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        Cow::Owned(text)
    }

    /// The start of a character cut off at the end of what came so far.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// What is left at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        String::from_utf8_lossy(&rest).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(event: CastEvent, elapsed: Duration) -> String {
        let mut out = Vec::new();
        event.write_line(elapsed, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_header_has_what_players_need() {
        let header = CastHeader {
            width: 80,
            height: 24,
            timestamp: 1_764_000_000,
            title: "alice on \"db-1\"".to_owned(),
            term: "xterm-256color".to_owned(),
        };
        let line = header.to_line();
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "version": 2, "width": 80, "height": 24, "timestamp": 1_764_000_000i64,
                "title": "alice on \"db-1\"", "env": {"TERM": "xterm-256color"}
            })
        );
    }

    #[test]
    fn events_escape_control_bytes_and_keep_time_in_microseconds() {
        let line = line_of(
            CastEvent::Output("\x1b[1mbold\x1b[0m\r\n\u{7}\"q\"\\"),
            Duration::from_micros(1_234_567),
        );
        assert_eq!(
            line,
            "[1.234567,\"o\",\"\\u001b[1mbold\\u001b[0m\\r\\n\\u0007\\\"q\\\"\\\\\"]\n"
        );
        let parsed: (f64, String, String) = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed.2, "\x1b[1mbold\x1b[0m\r\n\u{7}\"q\"\\");
        assert_eq!(
            line_of(CastEvent::Input("ls\r"), Duration::ZERO),
            "[0.0,\"i\",\"ls\\r\"]\n"
        );
        assert_eq!(
            line_of(
                CastEvent::Resize {
                    cols: 120,
                    rows: 40
                },
                Duration::from_secs(3)
            ),
            "[3.0,\"r\",\"120x40\"]\n"
        );
        assert_eq!(
            line_of(
                CastEvent::Marker("control: Alice"),
                Duration::from_millis(1500)
            ),
            "[1.5,\"m\",\"control: Alice\"]\n"
        );
    }

    #[test]
    fn long_sessions_keep_their_precision() {
        let eleven_days = Duration::from_secs(11 * 24 * 3600) + Duration::from_micros(7);
        let line = line_of(CastEvent::Output("x"), eleven_days);
        assert!(line.starts_with("[950400.000007,"), "{line}");
    }

    #[test]
    fn markers_are_read_back_with_their_times() {
        let recording = [
            CastHeader {
                width: 80,
                height: 24,
                timestamp: 0,
                title: "t".to_owned(),
                term: "xterm".to_owned(),
            }
            .to_line(),
            line_of(CastEvent::Marker("control: Alice"), Duration::ZERO),
            line_of(CastEvent::Output("$ "), Duration::from_millis(200)),
            line_of(
                CastEvent::Marker("Bob entered"),
                Duration::from_micros(2_500_001),
            ),
        ]
        .concat();
        assert_eq!(
            cast_markers(&recording),
            [
                CastMarker {
                    seconds: 0.0,
                    label: "control: Alice".to_owned()
                },
                CastMarker {
                    seconds: 2.500001,
                    label: "Bob entered".to_owned()
                },
            ]
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let recording = concat!(
            "{\"version\": 2, \"width\": 80, \"height\": 24}\n",
            "[1.0, \"m\", \"first\"]\n",
            "not json at all\n",
            "[\"2.0\", \"m\", \"time is a string\"]\n",
            "[2.0, \"m\"]\n",
            "[2.0, \"m\", 7]\n",
            "[-1.0, \"m\", \"before the start\"]\n",
            "[3.0, \"o\", \"output, not a marker\"]\n",
            "\n",
            "[4.0, \"m\", \"\\u00e9t\\u00e9\"]\n",
            "[5.0, \"m\", \"cut sh",
        );
        let labels: Vec<String> = cast_markers(recording)
            .into_iter()
            .map(|marker| marker.label)
            .collect();
        assert_eq!(labels, ["first", "été"]);
        assert_eq!(cast_markers(""), []);
    }

    #[test]
    fn characters_split_between_reads_are_kept_whole() {
        let mut stream = Utf8Stream::default();
        let euro = "€".as_bytes();
        assert_eq!(stream.push(&[b'a', euro[0]]), "a");
        assert_eq!(stream.push(&euro[1..2]), "");
        assert_eq!(stream.push(&[euro[2], b'b']), "€b");
        assert_eq!(stream.finish(), "");
    }

    #[test]
    fn whole_text_is_passed_through_without_a_copy() {
        let mut stream = Utf8Stream::default();
        let euro = "€".as_bytes();
        assert!(matches!(
            stream.push(b"plain \x1b[0m"),
            Cow::Borrowed("plain \x1b[0m")
        ));
        assert!(matches!(
            stream.push(&[b'a', euro[0], euro[1]]),
            Cow::Borrowed("a")
        ));
        // The cut-off character is completed from what was kept.
        assert!(matches!(stream.push(&euro[2..]), Cow::Owned(text) if text == "€"));
        assert!(matches!(stream.push(b"z"), Cow::Borrowed("z")));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(b"ok\xff\xfeend"), "ok\u{FFFD}\u{FFFD}end");
        assert_eq!(stream.push(b"\xc3\x28"), "\u{FFFD}(");
        // A sequence cut off by the end of the session is not lost silently.
        assert_eq!(stream.push(b"\xe2\x82"), "");
        assert_eq!(stream.finish(), "\u{FFFD}");
    }
}
