//! Live O&M sessions on this node, independent of the WebSocket transport.
//!
//! The shell's output is fed to a terminal emulator (vt100) that keeps the
//! current screen, then fanned out to every attached browser as encoded
//! frames on a broadcast channel. Feeding and sending happen under one lock,
//! so a browser that attaches takes a snapshot and a subscription that fit
//! together exactly: nothing is lost or shown twice. A browser that falls
//! behind the channel is dropped from it and resynchronised from a fresh
//! snapshot, so a slow viewer never slows the shell or anyone else.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use domain::{OmSessionId, SessionEnd, UserId};
use gateway::ShellCommand;
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{broadcast, mpsc};

/// Frames buffered per browser before it counts as fallen behind.
const FRAME_BUFFER: usize = 512;
const SCROLLBACK_LINES: usize = 0;

/// The live sessions of this node, by id.
#[derive(Default)]
pub struct LiveSessions {
    /// A std Mutex: lookups and inserts only, never held across an await.
    sessions: Mutex<HashMap<OmSessionId, Arc<LiveSession>>>,
}

impl LiveSessions {
    pub(crate) fn insert(&self, session: Arc<LiveSession>) {
        self.lock().insert(session.id, session);
    }

    pub(crate) fn get(&self, id: OmSessionId) -> Option<Arc<LiveSession>> {
        self.lock().get(&id).cloned()
    }

    pub(crate) fn remove(&self, id: OmSessionId) -> Option<Arc<LiveSession>> {
        self.lock().remove(&id)
    }

    pub(crate) fn all(&self) -> Vec<Arc<LiveSession>> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<OmSessionId, Arc<LiveSession>>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct LiveSession {
    pub id: OmSessionId,
    pub creator: UserId,
    /// A std Mutex: every section is short and synchronous (parse a chunk,
    /// send to a broadcast channel, which never waits).
    state: Mutex<State>,
    frames: broadcast::Sender<Bytes>,
    /// To the shell; what is sent while it opens waits its turn there.
    commands: mpsc::UnboundedSender<ShellCommand>,
}

struct State {
    screen: vt100::Parser,
    phase: Phase,
    /// Open sockets of the creator; at zero the reconnect grace starts.
    creator_attachments: usize,
    /// Bumped whenever the creator attaches, so that a grace period started
    /// before can tell it was overtaken.
    attach_generation: u64,
}

#[derive(Clone)]
enum Phase {
    Connecting,
    Connected,
    Ended(SessionEnd),
}

/// What a newly attached browser needs: the frames that bring it to the
/// current screen, then the live stream.
pub struct Attachment {
    pub initial: Vec<Bytes>,
    pub frames: broadcast::Receiver<Bytes>,
}

fn frame(message: ServerMsg) -> Bytes {
    Bytes::from(message.encode())
}

fn event(event: ServerEvent) -> Bytes {
    frame(ServerMsg::Event(event))
}

fn size(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

impl LiveSession {
    /// A session whose shell is still opening, and the queue of commands for
    /// the shell once it is open.
    pub(crate) fn new(
        id: OmSessionId,
        creator: UserId,
        cols: u16,
        rows: u16,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<ShellCommand>) {
        let (frames, _) = broadcast::channel(FRAME_BUFFER);
        let (commands, queue) = mpsc::unbounded_channel();
        let session = Arc::new(Self {
            id,
            creator,
            state: Mutex::new(State {
                screen: vt100::Parser::new(size(rows), size(cols), SCROLLBACK_LINES),
                phase: Phase::Connecting,
                creator_attachments: 0,
                attach_generation: 0,
            }),
            frames,
            commands,
        });
        (session, queue)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attaches one of the creator's browsers.
    pub fn attach(&self) -> Attachment {
        let mut state = self.lock();
        state.creator_attachments += 1;
        state.attach_generation += 1;
        self.snapshot(&state)
    }

    /// Brings a browser that fell behind back to the current screen.
    pub fn resynchronise(&self) -> Attachment {
        self.snapshot(&self.lock())
    }

    /// Detaches one of the creator's browsers. Returns the generation to
    /// hand to `grace_expired` when it was the last one.
    pub fn detach(&self) -> Option<u64> {
        let mut state = self.lock();
        state.creator_attachments = state.creator_attachments.saturating_sub(1);
        (state.creator_attachments == 0).then_some(state.attach_generation)
    }

    /// Whether the creator stayed away since `detach` returned `generation`.
    pub fn grace_expired(&self, generation: u64) -> bool {
        let state = self.lock();
        state.creator_attachments == 0 && state.attach_generation == generation
    }

    fn snapshot(&self, state: &State) -> Attachment {
        let screen = state.screen.screen();
        let initial = match &state.phase {
            Phase::Connecting => vec![event(ServerEvent::Connecting)],
            Phase::Connected => {
                let (rows, cols) = screen.size();
                let mut contents = Vec::new();
                if screen.alternate_screen() {
                    contents.extend_from_slice(b"\x1b[?1049h");
                }
                contents.extend_from_slice(screen.state_formatted().as_bytes());
                vec![
                    event(ServerEvent::Connected),
                    event(ServerEvent::Reset {
                        cols: cols.get(),
                        rows: rows.get(),
                    }),
                    frame(ServerMsg::Output(contents)),
                ]
            }
            Phase::Ended(end) => vec![ended(end)],
        };
        Attachment {
            initial,
            frames: self.frames.subscribe(),
        }
    }

    pub(crate) fn connected(&self) {
        let mut state = self.lock();
        if matches!(state.phase, Phase::Connecting) {
            state.phase = Phase::Connected;
            let _ = self.frames.send(event(ServerEvent::Connected));
        }
    }

    pub(crate) fn output(&self, bytes: Vec<u8>) {
        let mut state = self.lock();
        state.screen.process(&bytes);
        // No receivers is fine: output still shapes the screen.
        let _ = self.frames.send(frame(ServerMsg::Output(bytes)));
    }

    /// Keystrokes from `user`: only the creator's reach the host.
    pub fn input(&self, user: UserId, bytes: Vec<u8>) -> bool {
        if user != self.creator {
            return false;
        }
        self.command(ShellCommand::Input(bytes))
    }

    /// A new terminal size from `user`: only the creator's reaches the host.
    pub fn resize(&self, user: UserId, cols: u16, rows: u16) -> bool {
        if user != self.creator || cols == 0 || rows == 0 {
            return false;
        }
        {
            let mut state = self.lock();
            state.screen.set_size(size(rows), size(cols));
            let _ = self.frames.send(event(ServerEvent::Resized { cols, rows }));
        }
        self.command(ShellCommand::Resize { cols, rows })
    }

    fn command(&self, command: ShellCommand) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Ends the session for everyone: closes the shell and tells every
    /// browser why. Returns false when it had already ended.
    pub(crate) fn finish(&self, end: SessionEnd) -> bool {
        {
            let mut state = self.lock();
            if matches!(state.phase, Phase::Ended(_)) {
                return false;
            }
            state.phase = Phase::Ended(end.clone());
            let _ = self.frames.send(ended(&end));
        }
        self.command(ShellCommand::Close);
        true
    }
}

pub(crate) fn ended(end: &SessionEnd) -> Bytes {
    event(ServerEvent::Ended {
        code: end.code().to_owned(),
        message: end.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(frames: &[Bytes]) -> Vec<ServerMsg> {
        frames
            .iter()
            .map(|frame| ServerMsg::decode(frame).unwrap())
            .collect()
    }

    fn session() -> Arc<LiveSession> {
        connected().0
    }

    fn connected() -> (Arc<LiveSession>, mpsc::UnboundedReceiver<ShellCommand>) {
        let (session, shell) = LiveSession::new(OmSessionId(1), UserId(7), 20, 5);
        session.connected();
        (session, shell)
    }

    #[test]
    fn a_late_attacher_gets_the_current_screen_then_the_stream() {
        let session = session();
        session.output(b"hello\r\nworld".to_vec());
        let mut attachment = session.attach();
        let initial = decode(&attachment.initial);
        assert_eq!(initial[0], ServerMsg::Event(ServerEvent::Connected));
        assert_eq!(
            initial[1],
            ServerMsg::Event(ServerEvent::Reset { cols: 20, rows: 5 })
        );
        let ServerMsg::Output(screen) = &initial[2] else {
            panic!("no screen")
        };
        let mut replay = vt100::Parser::new(size(5), size(20), 0);
        replay.process(screen);
        assert_eq!(replay.screen().contents(), "hello\nworld");

        session.output(b"!".to_vec());
        let next = attachment.frames.try_recv().unwrap();
        assert_eq!(
            ServerMsg::decode(&next).unwrap(),
            ServerMsg::Output(b"!".to_vec())
        );
    }

    #[test]
    fn a_full_screen_program_is_reproduced_in_the_alternate_screen() {
        let session = session();
        session.output(b"prompt$ vim\r\n\x1b[?1049h\x1b[2J\x1b[H~ editing".to_vec());
        let initial = decode(&session.attach().initial);
        let ServerMsg::Output(screen) = &initial[2] else {
            panic!("no screen")
        };
        assert!(screen.starts_with(b"\x1b[?1049h"));
        let mut replay = vt100::Parser::new(size(5), size(20), 0);
        replay.process(screen);
        assert!(replay.screen().alternate_screen());
        assert_eq!(replay.screen().contents(), "~ editing");
    }

    #[test]
    fn only_the_creator_types_or_resizes() {
        let (session, mut shell) = connected();
        assert!(!session.input(UserId(8), b"rm -rf /".to_vec()));
        assert!(!session.resize(UserId(8), 100, 40));
        assert!(session.input(UserId(7), b"ls".to_vec()));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"ls"));
        assert!(shell.try_recv().is_err());
    }

    #[test]
    fn keystrokes_typed_while_connecting_wait_for_the_shell() {
        let (session, mut shell) = LiveSession::new(OmSessionId(1), UserId(7), 20, 5);
        let attachment = session.attach();
        assert_eq!(
            decode(&attachment.initial),
            vec![ServerMsg::Event(ServerEvent::Connecting)]
        );
        assert!(session.resize(UserId(7), 100, 30));
        assert!(session.input(UserId(7), b"ls\r".to_vec()));
        assert!(matches!(
            shell.try_recv(),
            Ok(ShellCommand::Resize {
                cols: 100,
                rows: 30
            })
        ));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(_))));
    }

    #[test]
    fn the_grace_period_is_overtaken_by_a_new_attachment() {
        let session = session();
        let _first = session.attach();
        let generation = session.detach().unwrap();
        let _again = session.attach();
        assert!(!session.grace_expired(generation));
        let later = session.detach().unwrap();
        assert!(session.grace_expired(later));
    }

    #[test]
    fn finishing_tells_everyone_once_and_closes_the_shell() {
        let (session, mut shell) = connected();
        let mut attachment = session.attach();
        assert!(session.finish(SessionEnd::ClosedByCreator));
        assert!(!session.finish(SessionEnd::ShellExited));
        let last = ServerMsg::decode(&attachment.frames.try_recv().unwrap()).unwrap();
        assert!(
            matches!(last, ServerMsg::Event(ServerEvent::Ended { code, .. }) if code == "S_200")
        );
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Close)));
        let late = decode(&session.attach().initial);
        assert!(matches!(
            &late[0],
            ServerMsg::Event(ServerEvent::Ended { .. })
        ));
    }

    #[test]
    fn a_viewer_that_falls_behind_is_told_so_and_resynchronised() {
        let session = session();
        let mut slow = session.attach();
        for _ in 0..FRAME_BUFFER + 10 {
            session.output(b"x".to_vec());
        }
        assert!(matches!(
            slow.frames.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        let fresh = session.resynchronise();
        assert!(matches!(
            ServerMsg::decode(&fresh.initial[1]).unwrap(),
            ServerMsg::Event(ServerEvent::Reset { .. })
        ));
    }
}
