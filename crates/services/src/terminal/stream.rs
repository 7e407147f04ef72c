//! The session's output as a sequence. Every entry (a chunk of output or a
//! change of terminal size) has a sequence number and the byte offset of the
//! output before it. Readers pull from their own position, so a slow reader
//! costs nobody anything: it either catches up or finds that its position
//! was dropped from the buffer and starts again from a snapshot.
//!
//! The screen is a reader too, with one difference: nothing it has not read
//! is dropped, so its snapshots are exact. When it falls too far behind,
//! the driver stops reading the shell until it catches up.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use domain::TerminalSize;
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{Notify, watch};

/// Output kept for readers behind the newest entry: a browser that
/// reconnects or falls behind by less than this resumes without a redraw.
pub(crate) const KEPT_BYTES: usize = 1024 * 1024;
/// Output the screen may have left to read before the shell is paused.
pub(crate) const SCREEN_LAG_BYTES: usize = 8 * 1024 * 1024;

/// What happened at one point of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Output(Bytes),
    Resize(TerminalSize),
}

/// One entry, with the frame every browser is sent for it, encoded once.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    /// Output bytes in the stream before this entry.
    pub offset: u64,
    pub item: Item,
    pub frame: Bytes,
}

impl Entry {
    fn len(&self) -> usize {
        match &self.item {
            Item::Output(bytes) => bytes.len(),
            Item::Resize(_) => 0,
        }
    }
}

/// A position that is no longer in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped;

#[derive(Default)]
struct Buffer {
    entries: VecDeque<Entry>,
    /// The sequence number of the next entry.
    next_seq: u64,
    /// Output bytes in the whole stream so far.
    offset: u64,
    /// Output bytes held in `entries`.
    held: usize,
    /// The first entry the screen has not read.
    screen_seq: u64,
    /// Output bytes from there on.
    unscreened: usize,
    closed: bool,
}

impl Buffer {
    fn first_seq(&self) -> u64 {
        self.entries
            .front()
            .map_or(self.next_seq, |entry| entry.seq)
    }

    /// Drops what every browser-side reader may lose: entries the screen
    /// has read, beyond the kept amount.
    fn trim(&mut self) {
        while self.held > KEPT_BYTES
            && let Some(front) = self.entries.front()
            && front.seq < self.screen_seq
        {
            self.held -= front.len();
            self.entries.pop_front();
        }
    }
}

pub struct OutputStream {
    /// A std Mutex: appends and reads copy a few reference-counted chunks
    /// and never wait while holding it.
    buffer: Mutex<Buffer>,
    /// The sequence number of the next entry, for readers to wait on.
    end: watch::Sender<u64>,
    /// Woken when the screen reads, for a shell paused on it.
    screen_progress: Notify,
}

impl Default for OutputStream {
    fn default() -> Self {
        Self {
            buffer: Mutex::default(),
            end: watch::channel(0).0,
            screen_progress: Notify::new(),
        }
    }
}

impl OutputStream {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.buffer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn append(&self, item: Item) {
        let (item, frame) = match item {
            Item::Output(bytes) => {
                // One copy, shared by the entry and every browser's frame.
                let frame = Bytes::from(ServerMsg::output_frame(&bytes));
                (Item::Output(frame.slice(1..)), frame)
            }
            Item::Resize(size) => {
                let resized = ServerEvent::Resized {
                    cols: size.cols(),
                    rows: size.rows(),
                };
                (item, Bytes::from(ServerMsg::Event(resized).encode()))
            }
        };
        let next = {
            let mut buffer = self.lock();
            if buffer.closed {
                return;
            }
            let entry = Entry {
                seq: buffer.next_seq,
                offset: buffer.offset,
                item,
                frame,
            };
            let len = entry.len();
            buffer.offset += len as u64;
            buffer.held += len;
            buffer.unscreened += len;
            buffer.next_seq += 1;
            buffer.entries.push_back(entry);
            buffer.trim();
            buffer.next_seq
        };
        self.end.send_replace(next);
    }

    /// No entry follows; readers see the end once they have read the rest.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.end.send_modify(|_| {});
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Entries from `seq` on, at most `max` of them.
    pub fn read(&self, seq: u64, max: usize) -> Result<Vec<Entry>, Dropped> {
        let buffer = self.lock();
        let first = buffer.first_seq();
        if seq < first {
            return Err(Dropped);
        }
        let skip = usize::try_from(seq - first).unwrap_or(usize::MAX);
        Ok(buffer
            .entries
            .iter()
            .skip(skip)
            .take(max)
            .cloned()
            .collect())
    }

    /// The first entry a browser that has shown the output before `offset`
    /// still needs, when the buffer holds it. A resize at that very offset
    /// is sent again, which changes nothing.
    pub fn seq_at_offset(&self, offset: u64) -> Result<u64, Dropped> {
        let buffer = self.lock();
        let first = buffer
            .entries
            .front()
            .map_or(buffer.offset, |entry| entry.offset);
        if offset < first || offset > buffer.offset {
            return Err(Dropped);
        }
        let found = buffer.entries.iter().find(|entry| entry.offset >= offset);
        Ok(found.map_or(buffer.next_seq, |entry| entry.seq))
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.end.subscribe()
    }

    /// The screen has read everything before `seq`.
    pub(crate) fn screened(&self, seq: u64) {
        let mut buffer = self.lock();
        let first = buffer.first_seq();
        let index = |seq: u64| usize::try_from(seq.saturating_sub(first)).unwrap_or(usize::MAX);
        let (from, to) = (
            index(buffer.screen_seq),
            index(seq).min(buffer.entries.len()),
        );
        if from < to {
            let read: usize = buffer.entries.range(from..to).map(Entry::len).sum();
            buffer.unscreened -= read;
            buffer.screen_seq = seq;
            buffer.trim();
        }
        drop(buffer);
        // One waiter, the driver: a permit is kept if it is not waiting yet.
        self.screen_progress.notify_one();
    }

    /// Whether the screen is so far behind that the shell should wait.
    pub(crate) fn screen_is_behind(&self) -> bool {
        self.lock().unscreened > SCREEN_LAG_BYTES
    }

    /// Waits until the screen reads something.
    pub(crate) async fn screen_progressed(&self) {
        self.screen_progress.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(text: &str) -> Item {
        Item::Output(Bytes::copy_from_slice(text.as_bytes()))
    }

    fn texts(entries: &[Entry]) -> Vec<(u64, u64, Item)> {
        entries
            .iter()
            .map(|entry| (entry.seq, entry.offset, entry.item.clone()))
            .collect()
    }

    #[test]
    fn entries_carry_their_sequence_and_the_offset_of_the_output_before_them() {
        let stream = OutputStream::default();
        stream.append(output("abc"));
        let size = TerminalSize::from_client(100, 30).unwrap();
        stream.append(Item::Resize(size));
        stream.append(output("de"));
        assert_eq!(
            texts(&stream.read(0, 10).unwrap()),
            vec![
                (0, 0, output("abc")),
                (1, 3, Item::Resize(size)),
                (2, 3, output("de"))
            ]
        );
        assert_eq!(
            texts(&stream.read(2, 10).unwrap()),
            vec![(2, 3, output("de"))]
        );
        assert_eq!(stream.read(3, 10).unwrap().len(), 0);
        assert_eq!(stream.read(0, 1).unwrap().len(), 1);
        // An offset resumes at the first entry the browser has not shown.
        assert_eq!(stream.seq_at_offset(0), Ok(0));
        assert_eq!(stream.seq_at_offset(3), Ok(1));
        assert_eq!(stream.seq_at_offset(5), Ok(3));
        assert_eq!(stream.seq_at_offset(6), Err(Dropped));
    }

    #[test]
    fn each_frame_is_what_a_browser_is_sent() {
        let stream = OutputStream::default();
        stream.append(output("hi"));
        let entry = &stream.read(0, 1).unwrap()[0];
        assert_eq!(
            ServerMsg::decode(&entry.frame).unwrap(),
            ServerMsg::Output(b"hi".to_vec())
        );
    }

    #[test]
    fn output_the_screen_has_read_is_dropped_beyond_the_kept_amount_and_no_sooner() {
        let stream = OutputStream::default();
        let chunk = "x".repeat(64 * 1024);
        let chunks = 2 * KEPT_BYTES / chunk.len();
        for _ in 0..chunks {
            stream.append(output(&chunk));
        }
        // The screen has read nothing: everything stays.
        assert_eq!(stream.read(0, usize::MAX).unwrap().len(), chunks);
        assert!(!stream.screen_is_behind());

        stream.screened(chunks as u64);
        let kept = KEPT_BYTES / chunk.len();
        let first = (chunks - kept) as u64;
        assert!(matches!(stream.read(first - 1, 1), Err(Dropped)));
        assert_eq!(stream.seq_at_offset(0), Err(Dropped));
        let offset = first * chunk.len() as u64;
        assert_eq!(stream.seq_at_offset(offset), Ok(first));
        assert_eq!(stream.read(first, usize::MAX).unwrap().len(), kept);
    }

    #[test]
    fn a_screen_far_behind_is_reported_so_the_shell_waits() {
        let stream = OutputStream::default();
        let chunk = "x".repeat(64 * 1024);
        for _ in 0..=SCREEN_LAG_BYTES / chunk.len() {
            stream.append(output(&chunk));
        }
        assert!(stream.screen_is_behind());
        stream.screened(10);
        assert!(!stream.screen_is_behind());
    }

    #[tokio::test]
    async fn readers_wait_for_the_next_entry_and_see_the_end() {
        let stream = std::sync::Arc::new(OutputStream::default());
        let mut end = stream.subscribe();
        let writer = stream.clone();
        tokio::spawn(async move {
            writer.append(output("a"));
            writer.close();
        });
        end.changed().await.unwrap();
        while !stream.is_closed() {
            end.changed().await.unwrap();
        }
        assert_eq!(
            texts(&stream.read(0, 10).unwrap()),
            vec![(0, 0, output("a"))]
        );
        stream.append(output("after the end"));
        assert_eq!(stream.read(1, 10).unwrap().len(), 0);
    }
}
