//! Recording a session as it runs. The live session hands each event to a
//! writer task over a channel, so output never waits on the disk; the task
//! encodes what came as asciicast v2 and writes it in large batches, at
//! least every second, so a crash loses at most the last second and leaves
//! a file that still plays. Beside it go the keyframes the screen task
//! hands over as the output crosses each `KEYFRAME_EVERY_BYTES`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::{CastEvent, CastHeader, Utf8Stream};
use serde::de::IgnoredAny;
use tokio::fs::File;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::MissedTickBehavior;

use crate::data_dir::{PRIVATE_DIR_MODE, PRIVATE_FILE_MODE};
use crate::keyframes::{KEYFRAME_EVERY_BYTES, KeyScreen, Keyframe, KeyframeFile, keyframe_after};

/// How often the writer collects what the session recorded.
/// The writer never waits on the channel itself: a waiting receiver would
/// have to be woken by every keystroke and every chunk of output, on the
/// terminal's own path. Events carry the time they happened, so this
/// changes no timing in the file.
const COLLECT_INTERVAL: Duration = Duration::from_millis(20);
/// How long encoded events may wait for a write: with the collection's
/// delay, a crash loses well under a second.
const WRITE_INTERVAL: Duration = Duration::from_millis(500);
/// A batch this large is written at once. Writing in large batches keeps
/// the file's work (a write on tokio's blocking pool) off the terminal's
/// cores; under heavy output that is a few writes a second.
const WRITE_BYTES: usize = 512 * 1024;

/// One thing that happened, stamped when it happened (not when written).
#[derive(Debug)]
pub(crate) enum Recorded {
    Output(Instant, Bytes),
    Input(Instant, Vec<u8>),
    Resize(Instant, u16, u16),
    Marker(Instant, String),
    /// The session is over: write what is left and close the file.
    End,
}

/// The live session's end of a recording.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    /// Unbounded on purpose: a slow disk must neither slow the shell nor
    /// lose a byte, so events queue in memory until written.
    events: mpsc::UnboundedSender<Recorded>,
}

/// The screen task's end of a recording: the screens of its keyframes. A
/// channel of its own, so that the writer sees it close when the screen
/// task ends.
pub(crate) type KeyScreens = mpsc::UnboundedSender<KeyScreen>;

/// What a `RecordingWriter` (or a test) reads.
pub(crate) struct RecordingFeed {
    pub events: mpsc::UnboundedReceiver<Recorded>,
    pub screens: mpsc::UnboundedReceiver<KeyScreen>,
}

impl Recorder {
    /// A recorder, the screen task's sender and the receiving ends.
    pub(crate) fn channel() -> (Self, KeyScreens, RecordingFeed) {
        let (events, receiver) = mpsc::unbounded_channel();
        let (screens, screen_receiver) = mpsc::unbounded_channel();
        let feed = RecordingFeed {
            events: receiver,
            screens: screen_receiver,
        };
        (Self { events }, screens, feed)
    }

    fn record(&self, event: Recorded) {
        // After a write failure the writer is gone and the session is
        // being ended for that reason; nothing more to do here.
        let _ = self.events.send(event);
    }

    pub(crate) fn output(&self, bytes: Bytes) {
        self.record(Recorded::Output(Instant::now(), bytes));
    }

    pub(crate) fn input(&self, bytes: &[u8]) {
        self.record(Recorded::Input(Instant::now(), bytes.to_vec()));
    }

    pub(crate) fn resize(&self, cols: u16, rows: u16) {
        self.record(Recorded::Resize(Instant::now(), cols, rows));
    }

    pub(crate) fn marker(&self, label: String) {
        self.record(Recorded::Marker(Instant::now(), label));
    }

    pub(crate) fn end(&self) {
        self.record(Recorded::End);
    }
}

/// A finished recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordingSummary {
    pub size: u64,
    pub duration: Duration,
}

impl RecordingSummary {
    /// The summary of a recording file whose writer did not finish (Tandem
    /// was killed): its size, and the time of its last whole event. Reads
    /// the whole file, on the blocking pool.
    pub(crate) async fn of_file(path: std::path::PathBuf) -> std::io::Result<Self> {
        tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let file = std::fs::File::open(&path)?;
            let size = file.metadata()?.len();
            let mut seconds: f64 = 0.0;
            for line in std::io::BufReader::new(file).split(b'\n') {
                // The header and a half-written last line are not events.
                // The text is skipped rather than borrowed: a string with
                // escapes (any line of output) cannot be borrowed.
                type Event = (f64, IgnoredAny, IgnoredAny);
                if let Ok((time, _, _)) = serde_json::from_slice::<Event>(&line?) {
                    seconds = seconds.max(time);
                }
            }
            Ok(Self {
                size,
                duration: Duration::try_from_secs_f64(seconds).unwrap_or_default(),
            })
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// The task's end of a recording: the open file, the lines encoded since
/// the last write, the decoders that keep characters whole across events,
/// and the keyframes on their way.
pub(crate) struct RecordingWriter {
    path: PathBuf,
    file: File,
    batch: Vec<u8>,
    written: Instant,
    started: Instant,
    last: Instant,
    output: Utf8Stream,
    input: Utf8Stream,
    /// Event lines encoded, and the time the last one says.
    lines: usize,
    last_line: f64,
    keyframes: Keyframes,
}

/// Keyframes being paired: each point where the output crossed a multiple
/// of `KEYFRAME_EVERY_BYTES` (the events before it, the time of the last)
/// with the screen the screen task took there. Both come in the order of
/// the output.
struct Keyframes {
    /// Output bytes so far, as the screen task counts them.
    output: u64,
    points: VecDeque<(usize, f64)>,
    screens: VecDeque<KeyScreen>,
    /// None once writing one failed: the player then has them built from
    /// the recording when it asks.
    file: Option<KeyframeFile>,
}

impl Keyframes {
    async fn write_paired(&mut self) {
        while !self.points.is_empty() && !self.screens.is_empty() {
            let (Some((events, time)), Some(screen)) =
                (self.points.pop_front(), self.screens.pop_front())
            else {
                break;
            };
            let keyframe = Keyframe {
                events,
                time,
                cols: screen.cols,
                rows: screen.rows,
                screen: screen.screen,
            };
            if let Some(file) = &mut self.file
                && let Err(error) = file.push(&keyframe).await
            {
                tracing::warn!(%error, "writing a keyframe failed");
                self.file = None;
            }
        }
    }

    async fn finish(self, recording: &Path) {
        if let Some(file) = self.file
            && let Err(error) = file.finish().await
        {
            tracing::warn!(recording = %recording.display(), %error, "keeping keyframes failed");
        }
    }
}

impl RecordingWriter {
    /// Creates the file (never over an existing one) and writes the header,
    /// so even a session that fails at once leaves a playable file. The
    /// file holds every keystroke: 0600 in a 0700 directory.
    pub(crate) async fn create(path: &Path, header: &CastHeader) -> std::io::Result<Self> {
        if let Some(directory) = path.parent() {
            tokio::fs::DirBuilder::new()
                .recursive(true)
                .mode(PRIVATE_DIR_MODE)
                .create(directory)
                .await?;
        }
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE_MODE)
            .open(path)
            .await?;
        file.write_all(header.to_line().as_bytes()).await?;
        file.flush().await?;
        let keyframe_file = KeyframeFile::create(path)
            .await
            .inspect_err(|error| tracing::warn!(%error, "creating the keyframes file failed"))
            .ok();
        let now = Instant::now();
        Ok(Self {
            path: path.to_owned(),
            file,
            batch: Vec::new(),
            written: now,
            started: now,
            last: now,
            output: Utf8Stream::default(),
            input: Utf8Stream::default(),
            lines: 0,
            last_line: 0.0,
            keyframes: Keyframes {
                output: 0,
                points: VecDeque::new(),
                screens: VecDeque::new(),
                file: keyframe_file,
            },
        })
    }

    /// Writes events until the session ends or the channel closes.
    pub(crate) async fn run(mut self, feed: RecordingFeed) -> std::io::Result<RecordingSummary> {
        let RecordingFeed {
            mut events,
            mut screens,
        } = feed;
        let mut collect = tokio::time::interval(COLLECT_INTERVAL);
        collect.set_missed_tick_behavior(MissedTickBehavior::Delay);
        'recording: loop {
            collect.tick().await;
            loop {
                match events.try_recv() {
                    Ok(Recorded::End) | Err(TryRecvError::Disconnected) => break 'recording,
                    Ok(event) => self.encode(event),
                    Err(TryRecvError::Empty) => break,
                }
            }
            while let Ok(screen) = screens.try_recv() {
                self.keyframes.screens.push_back(screen);
            }
            self.keyframes.write_paired().await;
            if self.batch.len() >= WRITE_BYTES || self.written.elapsed() >= WRITE_INTERVAL {
                self.write_batch().await?;
            }
        }
        let output = self.output.finish();
        let input = self.input.finish();
        let at = self.last;
        self.encode_event(at, CastEvent::Output(&output));
        self.encode_event(at, CastEvent::Input(&input));
        self.write_batch().await?;
        self.file.sync_all().await?;
        // The screen task may still be reading the last of the output; it
        // ends, closing its channel, once it has read all of it.
        while self.keyframes.points.len() > self.keyframes.screens.len()
            && let Some(screen) = screens.recv().await
        {
            self.keyframes.screens.push_back(screen);
        }
        self.keyframes.write_paired().await;
        self.keyframes.finish(&self.path).await;
        Ok(RecordingSummary {
            size: tokio::fs::metadata(&self.path).await?.len(),
            duration: self.last.duration_since(self.started),
        })
    }

    fn encode(&mut self, event: Recorded) {
        match event {
            Recorded::Output(at, bytes) => {
                let text = self.output.push(&bytes);
                self.encode_event(at, CastEvent::Output(&text));
                let keyframes = &mut self.keyframes;
                if keyframe_after(keyframes.output, bytes.len(), KEYFRAME_EVERY_BYTES as u64) {
                    keyframes.points.push_back((self.lines, self.last_line));
                }
                keyframes.output += bytes.len() as u64;
            }
            Recorded::Input(at, bytes) => {
                let text = self.input.push(&bytes);
                self.encode_event(at, CastEvent::Input(&text));
            }
            Recorded::Resize(at, cols, rows) => {
                self.encode_event(at, CastEvent::Resize { cols, rows });
            }
            Recorded::Marker(at, label) => self.encode_event(at, CastEvent::Marker(&label)),
            Recorded::End => {}
        }
    }

    fn encode_event(&mut self, at: Instant, event: CastEvent) {
        // An event cut down to nothing by the decoder is not worth a line.
        if matches!(event, CastEvent::Output("") | CastEvent::Input("")) {
            return;
        }
        self.last = self.last.max(at);
        let elapsed = at.saturating_duration_since(self.started);
        event.write_line(elapsed, &mut self.batch);
        self.lines += 1;
        self.last_line = CastEvent::seconds(elapsed);
    }

    /// Hands the batch to the file in one write and waits until it is
    /// written: the file then plays up to here even if Tandem dies.
    async fn write_batch(&mut self) -> std::io::Result<()> {
        self.written = Instant::now();
        if self.batch.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.batch).await?;
        self.file.flush().await?;
        self.batch.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn header() -> CastHeader {
        CastHeader {
            width: 80,
            height: 24,
            timestamp: 0,
            title: "test".to_owned(),
            term: "xterm-256color".to_owned(),
        }
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn events_are_written_in_order_with_whole_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recordings/one.cast");
        let writer = RecordingWriter::create(&path, &header()).await.unwrap();
        let (recorder, _, feed) = Recorder::channel();
        let task = tokio::spawn(writer.run(feed));
        let euro = "€".as_bytes();
        recorder.marker("control: Alice".to_owned());
        recorder.output(Bytes::from(vec![b'$', b' ', euro[0]]));
        recorder.output(Bytes::copy_from_slice(&euro[1..]));
        recorder.input(b"ls\r");
        recorder.resize(100, 30);
        recorder.end();
        let summary = task.await.unwrap().unwrap();
        let lines = lines(&path);
        assert_eq!(lines[0]["version"], 2);
        let events: Vec<(&str, &str)> = lines[1..]
            .iter()
            .map(|line| (line[1].as_str().unwrap(), line[2].as_str().unwrap()))
            .collect();
        assert_eq!(
            events,
            [
                ("m", "control: Alice"),
                ("o", "$ "),
                ("o", "€"),
                ("i", "ls\r"),
                ("r", "100x30"),
            ]
        );
        let times: Vec<f64> = lines[1..].iter().map(|l| l[0].as_f64().unwrap()).collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");
        assert_eq!(summary.size, std::fs::metadata(&path).unwrap().len());
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("recordings")), 0o700);
    }

    #[tokio::test]
    async fn what_was_written_reaches_the_file_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.cast");
        let writer = RecordingWriter::create(&path, &header()).await.unwrap();
        let (recorder, _, feed) = Recorder::channel();
        let _task = tokio::spawn(writer.run(feed));
        recorder.output(Bytes::from_static(b"still running\r\n"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        // The session goes on; the file on disk already plays this far.
        let lines = lines(&path);
        assert_eq!(lines.last().unwrap()[2], "still running\r\n");
    }

    #[tokio::test]
    async fn an_unfinished_file_is_summed_up_from_its_last_whole_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("killed.cast");
        let lines = [
            header().to_line().as_str(),
            "[0.5, \"m\", \"control: Alice\"]\n",
            // Escaped text, as every line of output has.
            "[1.25, \"o\", \"$ ls\\r\\n\\u001b[31mred\\u001b[0m\"]\n",
            "[2.0, \"o\", \"cut sh",
        ]
        .concat();
        std::fs::write(&path, &lines).unwrap();
        let summary = RecordingSummary::of_file(path).await.unwrap();
        assert_eq!(summary.size, lines.len() as u64);
        assert_eq!(summary.duration, Duration::from_millis(1250));
    }

    #[tokio::test]
    async fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("taken.cast");
        std::fs::write(&path, "someone else's").unwrap();
        assert!(RecordingWriter::create(&path, &header()).await.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone else's");
    }
}
