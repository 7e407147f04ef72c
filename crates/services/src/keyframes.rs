//! Keyframes for seeking in a recording: the screen as it stood at points
//! through the file. The player seeks by drawing the nearest keyframe
//! before the target and replaying only the output after it, rather than
//! replaying the recording from its start (the browser's terminal takes
//! about 50 MB a second, so a seek in a long recording took seconds).
//!
//! While a session runs, its screen task hands the recording a screen each
//! time the output crosses a multiple of `KEYFRAME_EVERY_BYTES`, and the
//! recording writes them beside itself as they come: nothing is replayed
//! when the session ends. A recording whose keyframes were not finished
//! (Tandem stopped, or the session is still running) has them built by
//! replaying the file here.

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use domain::TerminalSize;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::data_dir::PRIVATE_FILE_MODE;

/// Output between two keyframes: a seek replays at most this much.
pub const KEYFRAME_EVERY_BYTES: usize = 1024 * 1024;

/// The screen after the first `events` events of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyframe {
    /// How many events come before it, counting every well-formed event
    /// line of the file (`[seconds, code, text]`), as the player does.
    pub events: usize,
    /// The time of the last of those events, in seconds.
    pub time: f64,
    pub cols: u16,
    pub rows: u16,
    /// Escape sequences that draw the screen, on a reset terminal of that
    /// size, as it stood.
    pub screen: String,
}

/// Whether a keyframe follows output of `len` bytes that starts `before`
/// bytes into a session's output: the recording and the screen both apply
/// this rule to the same output, so their keyframes pair up in order.
pub(crate) fn keyframe_after(before: u64, len: usize, every: u64) -> bool {
    let every = every.max(1);
    before / every != before.saturating_add(len as u64) / every
}

/// The screen a keyframe shows, from the screen task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyScreen {
    pub cols: u16,
    pub rows: u16,
    pub screen: String,
}

#[derive(Deserialize)]
struct Header {
    width: u16,
    height: u16,
}

/// Replays the asciicast v2 text of `cast` through a terminal and takes a
/// keyframe after each `every` bytes of output. Lines that are not events
/// (the header, the half line a crash leaves) are skipped; a file whose
/// header does not parse has no keyframes.
pub fn keyframes(cast: impl BufRead, every: usize) -> std::io::Result<Vec<Keyframe>> {
    let mut lines = cast.split(b'\n');
    let Some(header) = lines.next().transpose()? else {
        return Ok(Vec::new());
    };
    let Ok(Header { width, height }) = serde_json::from_slice(&header) else {
        return Ok(Vec::new());
    };
    // Sizes in a file are outside input: brought within range before the
    // replay allocates a screen for them.
    let mut replay = Replay::new(TerminalSize::clamped(width, height));
    let mut keyframes = Vec::new();
    let mut events = 0;
    let mut output = 0;
    for line in lines {
        let Ok((time, code, text)) = serde_json::from_slice::<(f64, String, String)>(&line?) else {
            continue;
        };
        events += 1;
        match code.as_str() {
            "o" => {
                replay.output(&text);
                output += text.len();
            }
            "r" => {
                if let Some((cols, rows)) = parse_size(&text) {
                    replay.resize(TerminalSize::clamped(cols, rows));
                }
            }
            _ => {}
        }
        if output >= every {
            output = 0;
            let (cols, rows) = replay.size();
            keyframes.push(Keyframe {
                events,
                time,
                cols,
                rows,
                screen: String::from_utf8_lossy(&replay.screen()).into_owned(),
            });
        }
    }
    Ok(keyframes)
}

/// Where the keyframes of the recording at `recording` are kept.
pub(crate) fn kept_beside(recording: &Path) -> PathBuf {
    recording.with_extension("keyframes.json")
}

/// The keyframes of the recording at `recording`, as JSON, built on
/// tokio's blocking pool (a second or so per 100 MB).
pub(crate) async fn build(recording: PathBuf) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let file = std::io::BufReader::new(std::fs::File::open(&recording)?);
        let keyframes = keyframes(file, KEYFRAME_EVERY_BYTES)?;
        serde_json::to_vec(&keyframes).map_err(std::io::Error::other)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Keeps `json` beside the recording at `recording`: written aside (0600,
/// like the recording: the screens show what was typed) and renamed, so a
/// reader never sees half.
pub(crate) async fn keep(recording: &Path, json: &[u8]) -> std::io::Result<()> {
    let partial = partial_beside(recording);
    let mut file = open_private(&partial).await?;
    file.write_all(json).await?;
    file.sync_all().await?;
    tokio::fs::rename(&partial, kept_beside(recording)).await
}

fn partial_beside(recording: &Path) -> PathBuf {
    kept_beside(recording).with_extension("partial")
}

/// `path`, emptied, or created 0600.
async fn open_private(path: &Path) -> std::io::Result<tokio::fs::File> {
    let file = tokio::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_FILE_MODE)
        .open(path)
        .await?;
    // The mode above applies only to a new file; one left by a crash is
    // made private too.
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE_MODE))
        .await?;
    Ok(file)
}

/// The keyframes of a running recording, written as they come into a file
/// aside, a JSON array that `finish` closes and renames into place.
pub(crate) struct KeyframeFile {
    recording: PathBuf,
    file: tokio::fs::File,
    written: usize,
}

impl KeyframeFile {
    pub(crate) async fn create(recording: &Path) -> std::io::Result<Self> {
        let mut file = open_private(&partial_beside(recording)).await?;
        file.write_all(b"[").await?;
        Ok(Self {
            recording: recording.to_owned(),
            file,
            written: 0,
        })
    }

    pub(crate) async fn push(&mut self, keyframe: &Keyframe) -> std::io::Result<()> {
        let mut line = match self.written {
            0 => Vec::new(),
            _ => b",".to_vec(),
        };
        serde_json::to_writer(&mut line, keyframe).map_err(std::io::Error::other)?;
        self.file.write_all(&line).await?;
        self.written += 1;
        Ok(())
    }

    pub(crate) async fn finish(mut self) -> std::io::Result<()> {
        self.file.write_all(b"]").await?;
        self.file.sync_all().await?;
        let kept = kept_beside(&self.recording);
        tokio::fs::rename(partial_beside(&self.recording), kept).await
    }
}

/// What switches a terminal to its alternate screen (full-screen programs
/// such as vim, less and top do on start).
const ALTERNATE_SCREEN: [&str; 3] = ["\x1b[?1049h", "\x1b[?1047h", "\x1b[?47h"];

/// The recording replayed so far. A snapshot shows only the screen in use,
/// so the main screen is kept as it was when a program switched to the
/// alternate one: a seek into vim still finds the shell's lines when vim
/// exits.
struct Replay {
    terminal: vt100::Parser,
    main_screen: Vec<u8>,
}

impl Replay {
    fn new(terminal: TerminalSize) -> Self {
        Self {
            terminal: vt100::Parser::new(size(terminal.rows()), size(terminal.cols()), 0),
            main_screen: Vec::new(),
        }
    }

    fn output(&mut self, mut text: &str) {
        while let Some((at, switch)) = ALTERNATE_SCREEN
            .iter()
            .filter_map(|switch| Some((text.find(switch)?, switch.len())))
            .min()
        {
            self.terminal.process(&text.as_bytes()[..at]);
            if !self.terminal.screen().alternate_screen() {
                self.main_screen = snapshot(self.terminal.screen());
            }
            self.terminal.process(&text.as_bytes()[at..at + switch]);
            text = &text[at + switch..];
        }
        self.terminal.process(text.as_bytes());
    }

    fn resize(&mut self, terminal: TerminalSize) {
        self.terminal
            .set_size(size(terminal.rows()), size(terminal.cols()));
    }

    /// The terminal's size, as `(cols, rows)`.
    fn size(&self) -> (u16, u16) {
        let (rows, cols) = self.terminal.screen().size();
        (cols.get(), rows.get())
    }

    /// What draws the terminal as it stands on a reset one.
    fn screen(&self) -> Vec<u8> {
        let screen = self.terminal.screen();
        match screen.alternate_screen() {
            true => [self.main_screen.as_slice(), &snapshot(screen)].concat(),
            false => snapshot(screen),
        }
    }
}

/// A side of a terminal for vt100, which counts in non-zero cells. Sizes
/// reach here as `TerminalSize`s, so this never needs its fallback.
pub(crate) fn size(value: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(value).unwrap_or(std::num::NonZeroU16::MIN)
}

/// What draws `screen` on a reset terminal: its visible contents, cursor
/// and modes, on the alternate screen if the program is on it.
fn snapshot(screen: &vt100::Screen) -> Vec<u8> {
    let mut contents = Vec::new();
    if screen.alternate_screen() {
        contents.extend_from_slice(b"\x1b[?1049h");
    }
    contents.extend_from_slice(screen.state_formatted().as_bytes());
    contents
}

/// `120x40`, as `r` events write a size.
fn parse_size(text: &str) -> Option<(u16, u16)> {
    let (cols, rows) = text.split_once('x')?;
    Some((cols.parse().ok()?, rows.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "{\"version\":2,\"width\":20,\"height\":4}\n";

    fn event(time: f64, code: &str, text: &str) -> String {
        format!("{}\n", serde_json::to_string(&(time, code, text)).unwrap())
    }

    /// The screen text after replaying `cast`'s events onto a terminal that
    /// shows `start` (a keyframe's screen) first.
    fn replayed(cast: &str, start: Option<&Keyframe>) -> String {
        let (cols, rows) = start.map_or((20, 4), |key| (key.cols, key.rows));
        let mut terminal = vt100::Parser::new(size(rows), size(cols), 0);
        if let Some(key) = start {
            terminal.process(key.screen.as_bytes());
        }
        for line in cast.lines().skip(1) {
            let Ok((_, code, text)) = serde_json::from_str::<(f64, String, String)>(line) else {
                continue;
            };
            match code.as_str() {
                "o" => terminal.process(text.as_bytes()),
                "r" => {
                    let (cols, rows) = parse_size(&text).unwrap();
                    terminal.set_size(size(rows), size(cols));
                }
                _ => {}
            }
        }
        terminal.screen().contents()
    }

    #[test]
    fn a_keyframe_follows_each_stretch_of_output() {
        let mut cast = HEADER.to_owned();
        for n in 0..10 {
            cast.push_str(&event(f64::from(n), "o", &format!("line {n:02}\r\n")));
        }
        // Nine bytes a line: a keyframe after every second line.
        let keys = keyframes(cast.as_bytes(), 18).unwrap();
        let at: Vec<(usize, f64)> = keys.iter().map(|key| (key.events, key.time)).collect();
        assert_eq!(at, [(2, 1.0), (4, 3.0), (6, 5.0), (8, 7.0), (10, 9.0)]);
        let fourth = &keys[1];
        assert_eq!((fourth.cols, fourth.rows), (20, 4));
        let mut terminal = vt100::Parser::new(size(4), size(20), 0);
        terminal.process(fourth.screen.as_bytes());
        // Four rows: the fourth line's newline scrolled the first away.
        assert_eq!(terminal.screen().contents(), "line 01\nline 02\nline 03");
    }

    #[test]
    fn a_keyframe_and_what_follows_it_show_what_the_whole_replay_shows() {
        let mut cast = HEADER.to_owned();
        cast.push_str(&event(0.0, "m", "control: Alice"));
        cast.push_str(&event(
            0.1,
            "o",
            "\x1b[31mred\x1b[0m and \x1b[1mbold\x1b[0m\r\n",
        ));
        cast.push_str(&event(0.2, "i", "ls\r"));
        cast.push_str(&event(0.3, "r", "30x5"));
        cast.push_str(&event(
            0.4,
            "o",
            "\x1b[?1049h\x1b[Hfull screen\x1b[3;4Hhere",
        ));
        cast.push_str(&event(0.5, "o", " and on"));
        cast.push_str(&event(0.6, "o", "\x1b[?1049l\x1b[Kback\r\n"));
        for every in [1, 10, 30] {
            for key in keyframes(cast.as_bytes(), every).unwrap() {
                let rest: String = std::iter::once(HEADER.to_owned())
                    .chain(
                        cast.lines()
                            .skip(1 + key.events)
                            .map(|line| format!("{line}\n")),
                    )
                    .collect();
                assert_eq!(
                    replayed(&rest, Some(&key)),
                    replayed(&cast, None),
                    "from the keyframe after {} events",
                    key.events
                );
            }
        }
        let sizes: Vec<(u16, u16)> = keyframes(cast.as_bytes(), 1)
            .unwrap()
            .iter()
            .map(|key| (key.cols, key.rows))
            .collect();
        assert_eq!(sizes, [(20, 4), (30, 5), (30, 5), (30, 5)]);
    }

    #[test]
    fn sizes_in_a_file_are_brought_within_the_maximum() {
        let cast = [
            "{\"version\":2,\"width\":65535,\"height\":65535}\n",
            &event(0.1, "o", "big\r\n"),
            &event(0.2, "r", "0x0"),
            &event(0.3, "o", "small\r\n"),
            &event(0.4, "r", "65535x65535"),
            &event(0.5, "o", "big again\r\n"),
        ]
        .concat();
        let sizes: Vec<(u16, u16)> = keyframes(cast.as_bytes(), 1)
            .unwrap()
            .iter()
            .map(|key| (key.cols, key.rows))
            .collect();
        assert_eq!(sizes, [(500, 200), (1, 1), (500, 200)]);
    }

    #[test]
    fn lines_that_are_not_events_are_not_counted() {
        let cast = [
            HEADER,
            &event(0.5, "o", "first\r\n"),
            "not json\n",
            "[1.0, \"o\"]\n",
            "\n",
            &event(1.5, "o", "second\r\n"),
            "[2.0, \"o\", \"cut sh",
        ]
        .concat();
        let keys = keyframes(cast.as_bytes(), 1).unwrap();
        let at: Vec<(usize, f64)> = keys.iter().map(|key| (key.events, key.time)).collect();
        assert_eq!(at, [(1, 0.5), (2, 1.5)]);
        assert_eq!(keyframes("no header\n".as_bytes(), 1).unwrap(), []);
        assert_eq!(keyframes("".as_bytes(), 1).unwrap(), []);
    }

    #[tokio::test]
    async fn kept_keyframes_are_private_even_over_an_old_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("one.cast");
        let kept = kept_beside(&recording);
        let partial = kept.with_extension("partial");
        std::fs::write(&partial, "left by a crash").unwrap();
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)).unwrap();

        keep(&recording, b"[]").await.unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"[]");
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);
        assert!(!partial.exists());
    }
}
