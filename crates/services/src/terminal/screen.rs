//! The session's screen, kept by a task of its own that reads the output
//! stream as any browser does, so the terminal emulator never runs on the
//! output path. A snapshot is the screen after a known entry of the stream:
//! a browser that draws it and then the entries after it shows exactly
//! what everyone else shows.

use std::sync::Arc;

use avt::Terminal;
use domain::{TerminalSize, Utf8Stream};
use tokio::sync::{mpsc, oneshot};

use super::stream::{Item, OutputStream};

/// Entries the screen reads at a time.
const BATCH: usize = 256;

/// A terminal emulator fed with raw output.
pub(crate) struct Screen {
    terminal: Terminal,
    text: Utf8Stream,
}

impl Screen {
    pub(crate) fn new(size: TerminalSize) -> Self {
        Self {
            terminal: emulator(size),
            text: Utf8Stream::default(),
        }
    }

    pub(crate) fn output(&mut self, bytes: &[u8]) {
        let text = self.text.push(bytes);
        self.terminal.feed(text.as_ref());
    }

    pub(crate) fn resize(&mut self, size: TerminalSize) {
        self.terminal
            .resize(usize::from(size.cols()), usize::from(size.rows()));
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
    pub(crate) fn spawn(stream: Arc<OutputStream>, size: TerminalSize) -> Self {
        let (requests, incoming) = mpsc::unbounded_channel();
        tokio::spawn(keep(stream, Screen::new(size), incoming));
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
) {
    let mut changes = stream.subscribe();
    let (mut next, mut offset) = (0, 0);
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
            request = requests.recv() => match request {
                Some(reply) => {
                    let _ = reply.send(Snapshot {
                        seq: next,
                        offset,
                        size: screen.size(),
                        contents: screen.snapshot(),
                    });
                }
                None => return,
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
        let task = ScreenTask::spawn(stream.clone(), size(20, 5));
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
