//! Recording a session as it runs. The live session hands each event to a
//! writer task over a channel, so output never waits on the disk; the task
//! encodes what came as asciicast v2 and writes it in large batches, at
//! least every second, so a crash loses at most the last second and leaves
//! a file that still plays.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use domain::{CastEvent, CastHeader, Utf8Stream};
use tokio::fs::File;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::MissedTickBehavior;

use crate::data_dir::{PRIVATE_DIR_MODE, PRIVATE_FILE_MODE};

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
    Output(Instant, Vec<u8>),
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

impl Recorder {
    /// A recorder and the receiving end that a `RecordingWriter` (or a
    /// test) reads.
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<Recorded>) {
        let (events, receiver) = mpsc::unbounded_channel();
        (Self { events }, receiver)
    }

    fn record(&self, event: Recorded) {
        // After a write failure the writer is gone and the session is
        // being ended for that reason; nothing more to do here.
        let _ = self.events.send(event);
    }

    pub(crate) fn output(&self, bytes: &[u8]) {
        self.record(Recorded::Output(Instant::now(), bytes.to_vec()));
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
                if let Ok((time, _, _)) = serde_json::from_slice::<(f64, &str, &str)>(&line?) {
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
/// the last write, and the decoders that keep characters whole across
/// events.
pub(crate) struct RecordingWriter {
    path: PathBuf,
    file: File,
    batch: Vec<u8>,
    written: Instant,
    started: Instant,
    last: Instant,
    output: Utf8Stream,
    input: Utf8Stream,
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
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes events until the session ends or the channel closes.
    pub(crate) async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<Recorded>,
    ) -> std::io::Result<RecordingSummary> {
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
        event.write_line(at.saturating_duration_since(self.started), &mut self.batch);
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
        let (recorder, events) = Recorder::channel();
        let task = tokio::spawn(writer.run(events));
        let euro = "€".as_bytes();
        recorder.marker("control: Alice".to_owned());
        recorder.output(&[b'$', b' ', euro[0]]);
        recorder.output(&euro[1..]);
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
        let (recorder, events) = Recorder::channel();
        let _task = tokio::spawn(writer.run(events));
        recorder.output(b"still running\r\n");
        tokio::time::sleep(Duration::from_secs(1)).await;
        // The session goes on; the file on disk already plays this far.
        let lines = lines(&path);
        assert_eq!(lines.last().unwrap()[2], "still running\r\n");
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
