//! Live O&M sessions on this node, independent of the WebSocket transport.
//!
//! The shell's output is fed to a terminal emulator (vt100) that keeps the
//! current screen, then fanned out to every attached browser as encoded
//! frames on a broadcast channel. Feeding and sending happen under one lock,
//! so a browser that attaches takes a snapshot and a subscription that fit
//! together exactly: nothing is lost or shown twice. A browser that falls
//! behind the channel is dropped from it and resynchronised from a fresh
//! snapshot, so a slow viewer never slows the shell or anyone else.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use domain::{Control, OmSessionId, SessionEnd, SessionWindow, TerminalSize, UserId};
use gateway::ShellCommand;
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::recording::{Recorder, RecordingSummary};

mod cooperation;
mod monitoring;

/// Frames buffered per browser before it counts as fallen behind. The
/// channel is one ring shared by all browsers, so this bounds memory per
/// session, not per participant.
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
    /// apply a control rule, send to a broadcast channel, which never
    /// waits).
    state: Mutex<State>,
    frames: broadcast::Sender<Frame>,
    /// The current panel. A `watch`, not the broadcast: a browser that is
    /// busy gets only the latest panel, so N people joining cost N panels
    /// per browser at most, never a backlog that makes it fall behind.
    panel: watch::Sender<Frame>,
    /// To the shell; what is sent while it opens waits its turn there.
    commands: mpsc::UnboundedSender<ShellCommand>,
    /// Everything the recording shows, sent under the state lock so it is
    /// in the order the browsers saw it.
    recorder: Recorder,
    /// The task writing the recording, awaited when the session ends.
    recording_task: Mutex<Option<RecordingTask>>,
}

pub(crate) type RecordingTask = JoinHandle<std::io::Result<RecordingSummary>>;

struct State {
    screen: vt100::Parser,
    phase: Phase,
    /// Who is in and who may type.
    control: Control,
    /// Display names of everyone who has been in, for the panel.
    names: HashMap<UserId, String>,
    /// Open sockets per user. At zero the creator's reconnect grace starts,
    /// and an invited user's control and request lapse.
    connections: HashMap<UserId, usize>,
    /// Whether an invitation is open, for the panel.
    shared: bool,
    /// Administrators watching without being in, in order of arrival. They
    /// are not in `control`, so nothing they send reaches the host.
    monitors: Vec<Monitor>,
    /// Bumped whenever the creator attaches, so that a grace period started
    /// before can tell it was overtaken.
    attach_generation: u64,
    /// Who was in and who had control at the last recorded change.
    recorded: Roster,
    /// Participants the owner added by name: Cancel share leaves them in.
    members: HashSet<UserId>,
    /// The session's window, and whether its end is near.
    window: Option<SessionWindow>,
    ending_soon: bool,
}

/// An administrator watching a session, and how many sockets they have
/// open on it: they count as gone only when the last one closes.
struct Monitor {
    user: UserId,
    connections: usize,
}

/// What the recording's markers follow.
#[derive(Clone, PartialEq, Eq)]
struct Roster {
    participants: Vec<UserId>,
    controller: UserId,
    shared: bool,
    monitors: Vec<UserId>,
}

impl Roster {
    fn of(state: &State) -> Self {
        Roster {
            participants: state.control.participants().collect(),
            controller: state.control.controller(),
            shared: state.shared,
            monitors: state.monitors.iter().map(|monitor| monitor.user).collect(),
        }
    }
}

impl State {
    fn name(&self, user: UserId) -> String {
        self.names.get(&user).cloned().unwrap_or_default()
    }

    /// Whether `user` watches as a monitor (and is not in the session).
    fn is_monitor(&self, user: UserId) -> bool {
        !self.control.is_in(user) && self.monitors.iter().any(|monitor| monitor.user == user)
    }
}

#[derive(Clone)]
enum Phase {
    Connecting,
    Connected,
    Ended(SessionEnd),
}

/// One encoded message for every browser of the session, or for the
/// browsers of one user only.
#[derive(Clone)]
pub struct Frame {
    to: Option<UserId>,
    pub bytes: Bytes,
    /// The last frame for the browsers it reaches (`Ended`, `Left`), so the
    /// socket closes after it without decoding every frame to find out.
    pub closes: bool,
}

impl Frame {
    fn everyone(message: ServerMsg) -> Self {
        Self::new(None, message)
    }

    fn to(user: UserId, event: ServerEvent) -> Self {
        Self::new(Some(user), ServerMsg::Event(event))
    }

    fn new(to: Option<UserId>, message: ServerMsg) -> Self {
        let closes = matches!(
            message,
            ServerMsg::Event(ServerEvent::Ended { .. } | ServerEvent::Left { .. })
        );
        Self {
            to,
            bytes: Bytes::from(message.encode()),
            closes,
        }
    }

    pub fn is_for(&self, user: UserId) -> bool {
        self.to.is_none_or(|to| to == user)
    }
}

/// What a newly attached browser needs: the frames that bring it to the
/// current screen, then the live stream and the panel's changes.
pub struct Attachment {
    pub initial: Vec<Frame>,
    pub frames: broadcast::Receiver<Frame>,
    pub panel: watch::Receiver<Frame>,
    /// Whether this browser watches as a monitor rather than a participant;
    /// its socket hands this back when it detaches.
    pub monitoring: bool,
}

fn event(event: ServerEvent) -> Frame {
    Frame::everyone(ServerMsg::Event(event))
}

/// A side of a terminal for vt100, which counts in non-zero cells. Sizes
/// reach here as `TerminalSize`s, so this never needs its fallback.
pub(crate) fn size(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

/// The screen for someone who starts watching now (a late joiner, a
/// keyframe of a recording): the terminal's visible contents, cursor and
/// modes, on the alternate screen if the shell is on it.
pub(crate) fn snapshot(screen: &vt100::Screen) -> Vec<u8> {
    let mut contents = Vec::new();
    if screen.alternate_screen() {
        contents.extend_from_slice(b"\x1b[?1049h");
    }
    contents.extend_from_slice(screen.state_formatted().as_bytes());
    contents
}

impl LiveSession {
    /// A session whose shell is still opening, and the queue of commands for
    /// the shell once it is open.
    pub(crate) fn new(
        id: OmSessionId,
        creator: (UserId, String),
        terminal: TerminalSize,
        request_timeout: Duration,
        recorder: Recorder,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<ShellCommand>) {
        let (frames, _) = broadcast::channel(FRAME_BUFFER);
        let (commands, queue) = mpsc::unbounded_channel();
        let (creator, creator_name) = creator;
        // From the first event on, the markers say who types.
        recorder.marker(format!("control: {creator_name}"));
        let control = Control::new(creator, request_timeout);
        let recorded = Roster {
            participants: control.participants().collect(),
            controller: creator,
            shared: false,
            monitors: Vec::new(),
        };
        let state = State {
            screen: vt100::Parser::new(
                size(terminal.rows()),
                size(terminal.cols()),
                SCROLLBACK_LINES,
            ),
            phase: Phase::Connecting,
            control,
            names: HashMap::from([(creator, creator_name)]),
            connections: HashMap::new(),
            shared: false,
            monitors: Vec::new(),
            attach_generation: 0,
            recorded,
            members: HashSet::new(),
            window: None,
            ending_soon: false,
        };
        let (panel, _) = watch::channel(panel(&state));
        let session = Arc::new(Self {
            id,
            creator,
            state: Mutex::new(state),
            frames,
            panel,
            commands,
            recorder,
            recording_task: Mutex::new(None),
        });
        (session, queue)
    }

    pub(crate) fn set_recording_task(&self, task: RecordingTask) {
        *self
            .recording_task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(task);
    }

    /// The recording's writer, once: whoever ends the session awaits it.
    pub(crate) fn take_recording_task(&self) -> Option<RecordingTask> {
        self.recording_task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn send(&self, frame: Frame) {
        // No receivers is fine: nobody is watching right now.
        let _ = self.frames.send(frame);
    }

    /// Called under the state lock after every change the panel shows;
    /// records a marker for each join, exit, control change and share
    /// opened or closed since the last one.
    fn publish_panel(&self, state: &mut State) {
        self.panel.send_replace(panel(state));
        let now = Roster::of(state);
        if now == state.recorded {
            return;
        }
        let before = std::mem::replace(&mut state.recorded, now.clone());
        for user in &now.participants {
            if !before.participants.contains(user) {
                self.recorder
                    .marker(format!("{} entered", state.name(*user)));
            }
        }
        for user in &before.participants {
            if !now.participants.contains(user) {
                self.recorder.marker(format!("{} left", state.name(*user)));
            }
        }
        if now.controller != before.controller {
            self.recorder
                .marker(format!("control: {}", state.name(now.controller)));
        }
        if now.shared != before.shared {
            let change = if now.shared { "created" } else { "cancelled" };
            self.recorder.marker(format!("share {change}"));
        }
        for user in &now.monitors {
            if !before.monitors.contains(user) {
                self.recorder
                    .marker(format!("{} started monitoring", state.name(*user)));
            }
        }
        for user in &before.monitors {
            if !now.monitors.contains(user) {
                self.recorder
                    .marker(format!("{} stopped monitoring", state.name(*user)));
            }
        }
    }

    /// Attaches a browser of `user`, who must be in the session.
    pub fn attach(&self, user: UserId) -> Option<Attachment> {
        let mut state = self.lock();
        if !state.control.is_in(user) {
            return None;
        }
        let connections = state.connections.entry(user).or_default();
        *connections += 1;
        let first = *connections == 1;
        if user == self.creator {
            state.attach_generation += 1;
        }
        if first {
            self.publish_panel(&mut state);
        }
        Some(self.snapshot(&state, user))
    }

    /// Brings a browser that fell behind back to the current screen.
    pub fn resynchronise(&self, user: UserId) -> Attachment {
        self.snapshot(&self.lock(), user)
    }

    /// Detaches a browser of `user`. Returns the generation to hand to
    /// `grace_expired` when it was the creator's last one.
    pub fn detach(&self, user: UserId) -> Option<u64> {
        let mut state = self.lock();
        let connections = state.connections.entry(user).or_default();
        *connections = connections.saturating_sub(1);
        if *connections > 0 {
            return None;
        }
        state.connections.remove(&user);
        state.control.disconnect(user);
        self.publish_panel(&mut state);
        (user == self.creator).then_some(state.attach_generation)
    }

    /// Whether the creator stayed away since `detach` returned `generation`.
    pub fn grace_expired(&self, generation: u64) -> bool {
        let state = self.lock();
        !state.connections.contains_key(&self.creator) && state.attach_generation == generation
    }

    fn snapshot(&self, state: &State, user: UserId) -> Attachment {
        let frames = self.frames.subscribe();
        // The initial frames carry the current panel.
        let mut panel_changes = self.panel.subscribe();
        panel_changes.mark_unchanged();
        let monitoring = state.is_monitor(user);
        if !state.control.is_in(user) && !monitoring && !matches!(state.phase, Phase::Ended(_)) {
            let left = Frame::to(
                user,
                ServerEvent::Left {
                    message: "You are no longer in this session.".to_owned(),
                    may_enter_again: state.shared,
                },
            );
            return Attachment {
                initial: vec![left],
                frames,
                panel: panel_changes,
                monitoring,
            };
        }
        let screen = state.screen.screen();
        let mut initial = match &state.phase {
            Phase::Connecting => vec![event(ServerEvent::Connecting)],
            Phase::Connected => {
                let (rows, cols) = screen.size();
                let contents = snapshot(screen);
                vec![
                    event(ServerEvent::Connected),
                    event(ServerEvent::Reset {
                        cols: cols.get(),
                        rows: rows.get(),
                    }),
                    Frame::everyone(ServerMsg::Output(contents)),
                ]
            }
            Phase::Ended(end) => vec![ended(end)],
        };
        if !matches!(state.phase, Phase::Ended(_)) {
            initial.push(panel(state));
        }
        Attachment {
            initial,
            frames,
            panel: panel_changes,
            monitoring,
        }
    }

    pub(crate) fn connected(&self) {
        let mut state = self.lock();
        if matches!(state.phase, Phase::Connecting) {
            state.phase = Phase::Connected;
            self.send(event(ServerEvent::Connected));
        }
    }

    pub(crate) fn output(&self, bytes: Vec<u8>) {
        let mut state = self.lock();
        state.screen.process(&bytes);
        self.recorder.output(&bytes);
        self.send(Frame::everyone(ServerMsg::Output(bytes)));
    }

    /// Keystrokes from `user`: only the controller's reach the host.
    pub fn input(&self, user: UserId, bytes: Vec<u8>) -> bool {
        let state = self.lock();
        if !state.control.may_type(user) {
            return false;
        }
        // Under the lock, so the markers before it name who typed it.
        self.recorder.input(&bytes);
        self.command(ShellCommand::Input(bytes))
    }

    /// A new terminal size from `user`: only the controller's reaches the
    /// host.
    pub fn resize(&self, user: UserId, terminal: TerminalSize) -> bool {
        let (cols, rows) = (terminal.cols(), terminal.rows());
        {
            let mut state = self.lock();
            if !state.control.may_type(user) {
                return false;
            }
            state.screen.set_size(size(rows), size(cols));
            self.recorder.resize(cols, rows);
            self.send(event(ServerEvent::Resized { cols, rows }));
        }
        self.command(ShellCommand::Resize(terminal))
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
            self.send(ended(&end));
            self.recorder
                .marker(format!("session ended ({})", end.code()));
            self.recorder.end();
        }
        self.command(ShellCommand::Close);
        true
    }

    pub fn has_ended(&self) -> bool {
        matches!(self.lock().phase, Phase::Ended(_))
    }
}

fn ended(end: &SessionEnd) -> Frame {
    event(ServerEvent::Ended {
        code: end.code().to_owned(),
        message: end.message().to_owned(),
    })
}

/// The panel as everyone sees it.
fn panel(state: &State) -> Frame {
    let control = &state.control;
    let participants = control
        .participants()
        .map(|user| protocol::Participant {
            id: user.0,
            name: state.name(user),
            online: state.connections.contains_key(&user),
        })
        .collect();
    event(ServerEvent::Panel(protocol::Panel {
        creator: control.creator().0,
        controller: control.controller().0,
        participants,
        requests: control
            .requests()
            .iter()
            .map(|request| request.requester.0)
            .collect(),
        shared: state.shared,
        monitors: state
            .monitors
            .iter()
            .map(|monitor| state.name(monitor.user))
            .collect(),
        ends_at: state.window.map(|window| window.end.to_rfc3339()),
        ending_soon: state.ending_soon,
    }))
}

#[cfg(test)]
mod tests;
