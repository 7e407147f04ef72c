//! The session's screen, kept by a task of its own that reads the output
//! stream as any browser does, so the terminal emulator never runs on the
//! output path. A snapshot is the screen after a known entry of the stream:
//! a browser that draws it and then the entries after it shows exactly
//! what everyone else shows. The same screen gives the recording its
//! keyframes as the output goes by.

use std::sync::Arc;

use avt::Terminal;
use domain::{TerminalSize, Utf8Stream};
use tokio::sync::{mpsc, oneshot};

use super::scrolled_off;
use super::stream::{Item, OutputStream};
use crate::keyframes::{KEYFRAME_EVERY_BYTES, KeyScreen, keyframe_after};
use crate::recording::KeyScreens;

/// Entries the screen reads at a time.
const BATCH: usize = 256;

/// A terminal emulator fed with raw output.
pub(crate) struct Screen {
    terminal: Terminal,
    text: Utf8Stream,
    /// Whether the emulator is surely between escape sequences.
    between_sequences: bool,
    /// Whether the scrolling region is the whole screen, when known.
    full_region: Option<bool>,
}

impl Screen {
    pub(crate) fn new(size: TerminalSize) -> Self {
        Self {
            terminal: emulator(size),
            text: Utf8Stream::default(),
            between_sequences: true,
            full_region: Some(true),
        }
    }

    /// Feeds `bytes`, less the lines that scroll off unseen when that
    /// leaves the screen exactly as feeding them would (`scrolled_off`).
    pub(crate) fn output(&mut self, bytes: &[u8]) {
        let scan = scrolled_off::scan(bytes, self.size().rows());
        let mut fed = bytes;
        if let Some(skip) = scan.skip
            && self.between_sequences
            && self.text.pending().is_empty()
            && self.full_region()
        {
            self.terminal.feed(skip.pen.as_str());
            fed = &bytes[skip.resume_at..];
        }
        let text = self.text.push(fed);
        self.terminal.feed(text.as_ref());
        if !(self.between_sequences && scan.plain) {
            self.full_region = None;
        }
        self.between_sequences =
            scrolled_off::ends_between_sequences(bytes, self.between_sequences);
    }

    /// Whether the scrolling region is the whole screen, read from a dump
    /// once after anything that may have changed it.
    fn full_region(&mut self) -> bool {
        let terminal = &self.terminal;
        *self
            .full_region
            .get_or_insert_with(|| !scrolled_off::sets_margins(&terminal.dump()))
    }

    pub(crate) fn resize(&mut self, size: TerminalSize) {
        self.terminal
            .resize(usize::from(size.cols()), usize::from(size.rows()));
        self.full_region = None;
    }

    pub(crate) fn size(&self) -> TerminalSize {
        let (cols, rows) = self.terminal.size();
        TerminalSize::clamped(
            u16::try_from(cols).unwrap_or(u16::MAX),
            u16::try_from(rows).unwrap_or(u16::MAX),
        )
    }

    /// What draws this screen on a reset terminal of its size: both
    /// screens, the cursors (saved ones too), the modes, and the start of a
    /// character whose end is still to come.
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        let mut contents = self.terminal.dump().into_bytes();
        contents.extend_from_slice(self.text.pending());
        contents
    }

    /// The screen for a recording's keyframe: without the start of a cut
    /// character, which the recording's next event holds whole.
    pub(crate) fn key_screen(&self) -> KeyScreen {
        let (cols, rows) = (self.size().cols(), self.size().rows());
        KeyScreen {
            cols,
            rows,
            screen: self.terminal.dump(),
        }
    }

    /// The rows of the screen in use, for tests.
    #[cfg(test)]
    pub(crate) fn text(&self) -> Vec<String> {
        let screen = self.terminal.screen();
        screen.visible_lines().map(|line| line.text()).collect()
    }
}

fn emulator(size: TerminalSize) -> Terminal {
    let (cols, rows) = (usize::from(size.cols()), usize::from(size.rows()));
    match Terminal::new(cols, rows) {
        Ok(terminal) => terminal,
        Err(_) => unreachable!("a TerminalSize is never zero wide or high: {cols}x{rows}"),
    }
}

/// The screen after the entries before `seq`, which hold `offset` bytes
/// of output.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub seq: u64,
    pub offset: u64,
    pub size: TerminalSize,
    pub contents: Vec<u8>,
}

/// Asks the screen task for snapshots.
#[derive(Clone)]
pub(crate) struct ScreenTask {
    requests: mpsc::UnboundedSender<oneshot::Sender<Snapshot>>,
}

impl ScreenTask {
    /// Starts the task that keeps the screen of `stream`. It ends when the
    /// stream is closed and read to its end.
    /// Its keyframes go to `key_screens`.
    pub(crate) fn spawn(
        stream: Arc<OutputStream>,
        size: TerminalSize,
        key_screens: KeyScreens,
    ) -> Self {
        let (requests, incoming) = mpsc::unbounded_channel();
        tokio::spawn(keep(stream, Screen::new(size), incoming, key_screens));
        Self { requests }
    }

    /// The screen as it stands, or None once the session is over.
    pub(crate) async fn snapshot(&self) -> Option<Snapshot> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(reply).ok()?;
        answer.await.ok()
    }
}

async fn keep(
    stream: Arc<OutputStream>,
    mut screen: Screen,
    mut requests: mpsc::UnboundedReceiver<oneshot::Sender<Snapshot>>,
    key_screens: KeyScreens,
) {
    let mut changes = stream.subscribe();
    let (mut next, mut offset) = (0, 0);
    let mut asked = true;
    loop {
        // Read everything there is, so that a snapshot is as recent as it
        // can be and leaves a joiner little to catch up.
        loop {
            let Ok(entries) = stream.read(next, BATCH) else {
                // The stream keeps what the screen has not read, so this
                // would be a bug; snapshots end with the task.
                tracing::error!(next, "the screen's place in the stream was dropped");
                return;
            };
            let Some(last) = entries.last() else { break };
            next = last.seq + 1;
            for entry in &entries {
                match &entry.item {
                    Item::Output(bytes) => {
                        screen.output(bytes);
                        offset = entry.offset + bytes.len() as u64;
                        if keyframe_after(entry.offset, bytes.len(), KEYFRAME_EVERY_BYTES as u64) {
                            // Without a recording nobody listens.
                            let _ = key_screens.send(screen.key_screen());
                        }
                    }
                    Item::Resize(size) => screen.resize(*size),
                }
            }
            stream.screened(next);
        }
        if stream.is_closed() && stream.read(next, 1).is_ok_and(|rest| rest.is_empty()) {
            return;
        }
        tokio::select! {
            // Once nobody can ask for snapshots the screen still reads on
            // to the end, for the recording's keyframes.
            request = requests.recv(), if asked => match request {
                Some(reply) => {
                    let _ = reply.send(Snapshot {
                        seq: next,
                        offset,
                        size: screen.size(),
                        contents: screen.snapshot(),
                    });
                }
                None => asked = false,
            },
            changed = changes.changed() => if changed.is_err() {
                return;
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(cols: u16, rows: u16) -> TerminalSize {
        TerminalSize::from_client(cols, rows).unwrap()
    }

    /// What a browser that draws `screen`'s snapshot shows.
    fn redrawn(screen: &Screen) -> Screen {
        let mut copy = Screen::new(screen.size());
        copy.output(&screen.snapshot());
        copy
    }

    fn text(screen: &Screen) -> Vec<String> {
        screen.text()
    }

    #[test]
    fn a_snapshot_redraws_the_screen_with_its_cursor() {
        let mut screen = Screen::new(size(20, 5));
        screen.output(b"$ ls\r\n\x1b[31mred\x1b[0m file\r\n$ ");
        let copy = redrawn(&screen);
        assert_eq!(text(&copy), text(&screen));
        assert_eq!(copy.terminal.cursor(), screen.terminal.cursor());
        assert_eq!(copy.snapshot(), screen.snapshot());
    }

    #[test]
    fn a_snapshot_inside_a_full_screen_program_keeps_the_main_screen_for_its_exit() {
        let mut screen = Screen::new(size(20, 5));
        screen.output(b"$ vim notes\r\n");
        screen.output(b"\x1b[?1049h\x1b[H\x1b[2J~ vim ~");
        let mut copy = redrawn(&screen);
        assert_eq!(text(&copy)[0].trim_end(), "~ vim ~");
        // vim exits: the shell's lines come back for both.
        screen.output(b"\x1b[?1049l");
        copy.output(b"\x1b[?1049l");
        assert_eq!(text(&copy), text(&screen));
        assert_eq!(text(&copy)[0].trim_end(), "$ vim notes");
    }

    #[test]
    fn a_character_cut_between_two_chunks_is_whole_after_a_snapshot() {
        let mut screen = Screen::new(size(20, 5));
        let word = "café".as_bytes();
        screen.output(&word[..4]);
        let mut copy = redrawn(&screen);
        screen.output(&word[4..]);
        copy.output(&word[4..]);
        assert_eq!(text(&copy)[0].trim_end(), "café");
        assert_eq!(text(&copy), text(&screen));
    }

    #[tokio::test]
    async fn the_task_reads_the_stream_and_answers_with_the_screen_at_a_known_entry() {
        let stream = Arc::new(OutputStream::default());
        let task = ScreenTask::spawn(stream.clone(), size(20, 5), mpsc::unbounded_channel().0);
        stream.append(Item::Output(bytes::Bytes::from_static(b"hello")));
        stream.append(Item::Resize(size(30, 6)));
        // The answer may come before or after the task reads both entries;
        // either way it says which.
        let snapshot = task.snapshot().await.unwrap();
        let mut copy = Screen::new(snapshot.size);
        copy.output(&snapshot.contents);
        for entry in stream.read(snapshot.seq, 10).unwrap() {
            match entry.item {
                Item::Output(bytes) => copy.output(&bytes),
                Item::Resize(size) => copy.resize(size),
            }
        }
        assert_eq!(copy.size(), size(30, 6));
        assert_eq!(text(&copy)[0].trim_end(), "hello");

        stream.close();
        // Closed and read to the end, the task is gone.
        for _ in 0..100 {
            if task.snapshot().await.is_none() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the screen task outlived its stream");
    }
}

/// The recording's keyframes, taken by the screen task as the session runs.
#[cfg(test)]
mod keyframe_tests {
    use bytes::Bytes;
    use domain::CastHeader;

    use super::*;
    use crate::keyframes::{Keyframe, kept_beside};
    use crate::recording::{Recorder, RecordingWriter};

    /// The screen's text after `key` (or a blank screen) and then the
    /// events of `cast` after it.
    fn replayed(cast: &str, key: Option<&Keyframe>) -> Vec<String> {
        let (cols, rows, skip) = key.map_or((30, 6, 0), |key| (key.cols, key.rows, key.events));
        let mut terminal = Terminal::new(usize::from(cols), usize::from(rows)).unwrap();
        if let Some(key) = key {
            terminal.feed(key.screen.as_str());
        }
        for line in cast.lines().skip(1 + skip) {
            let (_, code, text): (f64, String, String) = serde_json::from_str(line).unwrap();
            match code.as_str() {
                "o" => terminal.feed(text.as_str()),
                "r" => {
                    let (cols, rows) = text.split_once('x').unwrap();
                    terminal.resize(cols.parse().unwrap(), rows.parse().unwrap());
                }
                _ => {}
            }
        }
        terminal.screen().text()
    }

    #[tokio::test]
    async fn each_keyframe_and_the_events_after_it_show_the_end_of_the_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.cast");
        let header = CastHeader {
            width: 30,
            height: 6,
            timestamp: 0,
            title: "test".to_owned(),
            term: "xterm-256color".to_owned(),
        };
        let writer = RecordingWriter::create(&path, &header).await.unwrap();
        let (recorder, key_screens, feed) = Recorder::channel();
        let stream = Arc::new(OutputStream::default());
        let initial = TerminalSize::from_client(30, 6).unwrap();
        let _screen = ScreenTask::spawn(stream.clone(), initial, key_screens);
        let writing = tokio::spawn(writer.run(feed));
        let output = |text: String| {
            let bytes = Bytes::from(text);
            recorder.output(bytes.clone());
            stream.append(Item::Output(bytes));
        };
        // 2.5 MiB in chunks of lines, with colours, keystrokes and a marker
        // between them, a full-screen program and a resize on the way.
        let mut written = 0;
        for chunk in 0.. {
            if written > 5 * KEYFRAME_EVERY_BYTES / 2 {
                break;
            }
            let text: String = (0..100)
                .map(|line| format!("\x1b[3{}mchunk {chunk} line {line}\x1b[0m\r\n", line % 8))
                .collect();
            written += text.len();
            output(text);
            recorder.input(b"x");
            match chunk {
                300 => output("\x1b[?1049h\x1b[Hin vim\x1b[4;5Hhere".to_owned()),
                301 => recorder.marker("control: Alice".to_owned()),
                600 => {
                    let size = TerminalSize::from_client(40, 8).unwrap();
                    recorder.resize(size.cols(), size.rows());
                    stream.append(Item::Resize(size));
                }
                _ => {}
            }
        }
        // vim exits: the shell's lines are back.
        output("\x1b[?1049l$ ".to_owned());
        recorder.end();
        stream.close();
        writing.await.unwrap().unwrap();

        let cast = std::fs::read_to_string(&path).unwrap();
        let keyframes: Vec<Keyframe> =
            serde_json::from_slice(&std::fs::read(kept_beside(&path)).unwrap()).unwrap();
        assert_eq!(keyframes.len(), 2, "one after each whole MiB");
        let sizes: Vec<(u16, u16)> = keyframes.iter().map(|key| (key.cols, key.rows)).collect();
        assert_eq!(sizes, [(30, 6), (40, 8)]);
        let end = replayed(&cast, None);
        assert!(
            end.iter().any(|line| line.starts_with("chunk 300 line 99")),
            "{end:?}"
        );
        assert!(end.iter().any(|line| line.starts_with("$")), "{end:?}");
        for key in &keyframes {
            assert_eq!(
                replayed(&cast, Some(key)),
                end,
                "from {} events",
                key.events
            );
            let line: (f64, String, String) =
                serde_json::from_str(cast.lines().nth(key.events).unwrap()).unwrap();
            // The time of the last event before it.
            assert!((line.0 - key.time).abs() < 1e-9, "{} {}", line.0, key.time);
        }
    }
}
