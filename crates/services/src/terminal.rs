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
mod tests {
    use super::*;
    use crate::recording::Recorded;
    use std::time::Instant;

    const CREATOR: UserId = UserId(7);
    const ALICE: UserId = UserId(8);
    const ROOT: UserId = UserId(9);

    fn decode(frames: &[Frame]) -> Vec<ServerMsg> {
        frames
            .iter()
            .map(|frame| ServerMsg::decode(&frame.bytes).unwrap())
            .collect()
    }

    fn session() -> Arc<LiveSession> {
        connected().0
    }

    fn connected() -> (Arc<LiveSession>, mpsc::UnboundedReceiver<ShellCommand>) {
        let (session, shell) = connecting();
        session.connected();
        (session, shell)
    }

    fn connecting() -> (Arc<LiveSession>, mpsc::UnboundedReceiver<ShellCommand>) {
        let (session, shell, _) = recorded();
        (session, shell)
    }

    /// A connecting session and what its recording receives.
    fn recorded() -> (
        Arc<LiveSession>,
        mpsc::UnboundedReceiver<ShellCommand>,
        mpsc::UnboundedReceiver<Recorded>,
    ) {
        let (recorder, recording) = Recorder::channel();
        let (session, shell) = LiveSession::new(
            OmSessionId(1),
            (CREATOR, "Creator".to_owned()),
            TerminalSize::from_client(20, 5).unwrap(),
            domain::REQUEST_TIMEOUT,
            recorder,
        );
        (session, shell, recording)
    }

    /// What the recording received so far, as `(code, data)`.
    fn recording_so_far(recording: &mut mpsc::UnboundedReceiver<Recorded>) -> Vec<(char, String)> {
        let mut events = Vec::new();
        while let Ok(event) = recording.try_recv() {
            events.push(match event {
                Recorded::Output(_, bytes) => ('o', String::from_utf8(bytes).unwrap()),
                Recorded::Input(_, bytes) => ('i', String::from_utf8(bytes).unwrap()),
                Recorded::Resize(_, cols, rows) => ('r', format!("{cols}x{rows}")),
                Recorded::Marker(_, label) => ('m', label),
                Recorded::End => ('e', String::new()),
            });
        }
        events
    }

    #[test]
    fn the_recording_names_who_held_control_before_every_keystroke() {
        let (session, _shell, mut recording) = recorded();
        session.connected();
        session.output(b"$ ".to_vec());
        assert!(session.input(CREATOR, b"id\r".to_vec()));
        session.set_shared(true);
        session.enter(ALICE, "Alice".to_owned());
        assert!(!session.input(ALICE, b"rm -rf /\r".to_vec()));
        session.request_control(ALICE, Instant::now()).unwrap();
        session.agree(CREATOR, ALICE).unwrap();
        assert!(session.input(ALICE, b"uptime\r".to_vec()));
        assert!(session.resize(ALICE, TerminalSize::from_client(100, 30).unwrap()));
        session.leave(ALICE);
        session.cancel_share();
        session.finish(SessionEnd::ClosedByCreator);
        let text = |items: &[(char, &str)]| -> Vec<(char, String)> {
            items
                .iter()
                .map(|(code, data)| (*code, data.to_string()))
                .collect()
        };
        assert_eq!(
            recording_so_far(&mut recording),
            text(&[
                ('m', "control: Creator"),
                ('o', "$ "),
                ('i', "id\r"),
                ('m', "share created"),
                ('m', "Alice entered"),
                ('m', "control: Alice"),
                ('i', "uptime\r"),
                ('r', "100x30"),
                ('m', "Alice left"),
                ('m', "control: Creator"),
                ('m', "share cancelled"),
                ('m', "session ended (S_200)"),
                ('e', ""),
            ])
        );
    }

    fn next(attachment: &mut Attachment) -> ServerMsg {
        ServerMsg::decode(&attachment.frames.try_recv().unwrap().bytes).unwrap()
    }

    /// The panel as it changed since this attachment last looked.
    fn latest_panel(attachment: &mut Attachment) -> protocol::Panel {
        assert!(
            attachment.panel.has_changed().unwrap(),
            "the panel did not change"
        );
        let frame = attachment.panel.borrow_and_update().clone();
        match ServerMsg::decode(&frame.bytes).unwrap() {
            ServerMsg::Event(ServerEvent::Panel(panel)) => panel,
            other => panic!("not a panel: {other:?}"),
        }
    }

    /// Everything waiting for this attachment's user.
    fn pending(attachment: &mut Attachment, user: UserId) -> Vec<ServerMsg> {
        let mut seen = Vec::new();
        while let Ok(frame) = attachment.frames.try_recv() {
            if frame.is_for(user) {
                seen.push(ServerMsg::decode(&frame.bytes).unwrap());
            }
        }
        seen
    }

    #[test]
    fn a_late_attacher_gets_the_current_screen_then_the_stream() {
        let session = session();
        session.output(b"hello\r\nworld".to_vec());
        let mut attachment = session.attach(CREATOR).unwrap();
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

        assert!(
            matches!(&initial[3], ServerMsg::Event(ServerEvent::Panel(panel)) if panel.controller == CREATOR.0)
        );
        session.output(b"!".to_vec());
        assert_eq!(next(&mut attachment), ServerMsg::Output(b"!".to_vec()));
    }

    #[test]
    fn a_monitor_sees_the_screen_and_the_stream_but_nothing_they_send_reaches_the_host() {
        let (session, mut shell) = connected();
        let mut creator = session.attach(CREATOR).unwrap();
        session.output(b"hello\r\nworld".to_vec());
        assert!(session.monitor(CREATOR, "Creator".to_owned()).is_none());
        let mut monitor = session.monitor(ROOT, "Root".to_owned()).unwrap();
        assert!(monitor.monitoring);
        let initial = decode(&monitor.initial);
        let ServerMsg::Output(screen) = &initial[2] else {
            panic!("no screen")
        };
        let mut replay = vt100::Parser::new(size(5), size(20), 0);
        replay.process(screen);
        assert_eq!(replay.screen().contents(), "hello\nworld");
        assert!(matches!(&initial[3],
            ServerMsg::Event(ServerEvent::Panel(panel)) if panel.monitors == ["Root"]));
        let panel = latest_panel(&mut creator);
        assert_eq!(panel.monitors, ["Root"]);
        assert!(panel.participants.iter().all(|p| p.id != ROOT.0));

        session.output(b"!".to_vec());
        assert_eq!(next(&mut monitor), ServerMsg::Output(b"!".to_vec()));
        assert!(!session.input(ROOT, b"rm -rf /\r".to_vec()));
        assert!(!session.resize(ROOT, TerminalSize::from_client(100, 40).unwrap()));
        assert!(shell.try_recv().is_err(), "nothing reached the shell");
        assert!(!session.is_in(ROOT));
        assert!(session.request_control(ROOT, Instant::now()).is_err());
        // A monitor who falls behind goes on watching.
        let again = decode(&session.resynchronise(ROOT).initial);
        assert_eq!(again[0], ServerMsg::Event(ServerEvent::Connected));
        // The end reaches monitors too.
        session.finish(SessionEnd::TerminatedByAdmin);
        assert!(matches!(pending(&mut monitor, ROOT).last(),
            Some(ServerMsg::Event(ServerEvent::Ended { code, .. })) if code == "S_451"));
    }

    #[test]
    fn a_monitor_leaves_the_panel_with_their_last_socket_and_the_recording_says_so() {
        let (session, _shell, mut recording) = recorded();
        session.connected();
        let mut creator = session.attach(CREATOR).unwrap();
        let _first = session.monitor(ROOT, "Root".to_owned()).unwrap();
        let _second = session.monitor(ROOT, "Root".to_owned()).unwrap();
        assert_eq!(latest_panel(&mut creator).monitors, ["Root"]);
        assert_eq!(session.overview().monitors, ["Root"]);
        session.stop_monitoring(ROOT);
        assert!(!creator.panel.has_changed().unwrap(), "one socket is left");
        session.stop_monitoring(ROOT);
        assert!(latest_panel(&mut creator).monitors.is_empty());
        assert!(session.overview().monitors.is_empty());
        session.stop_monitoring(ROOT);
        session.mark("terminated by Root".to_owned());
        session.finish(SessionEnd::TerminatedByAdmin);
        session.mark("too late".to_owned());
        let markers: Vec<String> = recording_so_far(&mut recording)
            .into_iter()
            .filter(|(code, _)| *code == 'm')
            .map(|(_, label)| label)
            .collect();
        assert_eq!(
            markers,
            [
                "control: Creator",
                "Root started monitoring",
                "Root stopped monitoring",
                "terminated by Root",
                "session ended (S_451)",
            ]
        );
    }

    #[test]
    fn a_full_screen_program_is_reproduced_in_the_alternate_screen() {
        let session = session();
        session.output(b"prompt$ vim\r\n\x1b[?1049h\x1b[2J\x1b[H~ editing".to_vec());
        let initial = decode(&session.attach(CREATOR).unwrap().initial);
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
    fn only_the_controller_types_or_resizes() {
        let (session, mut shell) = connected();
        assert!(session.enter(ALICE, "Alice".to_owned()));
        assert!(!session.input(ALICE, b"rm -rf /".to_vec()));
        assert!(!session.resize(ALICE, TerminalSize::from_client(100, 40).unwrap()));
        assert!(session.input(CREATOR, b"ls".to_vec()));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"ls"));
        assert!(shell.try_recv().is_err());

        session.request_control(ALICE, Instant::now()).unwrap();
        session.agree(CREATOR, ALICE).unwrap();
        assert!(!session.input(CREATOR, b"x".to_vec()));
        assert!(session.input(ALICE, b"pwd".to_vec()));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"pwd"));
        assert!(shell.try_recv().is_err());
    }

    #[test]
    fn control_changes_reach_everyone_and_outcomes_reach_the_requester() {
        let session = session();
        let mut creator = session.attach(CREATOR).unwrap();
        assert!(session.attach(ALICE).is_none());
        session.enter(ALICE, "Alice".to_owned());
        let mut alice = session.attach(ALICE).unwrap();
        session.request_control(ALICE, Instant::now()).unwrap();
        let panel = latest_panel(&mut creator);
        assert_eq!(panel.requests, vec![ALICE.0]);
        assert_eq!(panel.name_of(ALICE.0), "Alice");
        assert!(panel.participants.iter().all(|p| p.online));

        session.refuse(CREATOR, ALICE).unwrap();
        assert!(latest_panel(&mut creator).requests.is_empty());
        // The refusal is addressed to Alice alone.
        let notice = creator.frames.try_recv().unwrap();
        assert!(!notice.is_for(CREATOR) && notice.is_for(ALICE));
        assert!(
            pending(&mut alice, ALICE)
                .iter()
                .any(|message| matches!(message,
            ServerMsg::Event(ServerEvent::Notice { message }) if message.contains("refused")))
        );
    }

    #[test]
    fn a_requester_who_times_out_is_told() {
        let session = session();
        session.enter(ALICE, "Alice".to_owned());
        let mut alice = session.attach(ALICE).unwrap();
        let asked = Instant::now();
        session.request_control(ALICE, asked).unwrap();
        session.expire_requests(asked + domain::REQUEST_TIMEOUT);
        assert!(
            pending(&mut alice, ALICE)
                .iter()
                .any(|message| matches!(message,
            ServerMsg::Event(ServerEvent::Notice { message }) if message.contains("timed out")))
        );
    }

    #[test]
    fn cancel_share_forces_invited_users_out_and_keeps_the_creator() {
        let (session, mut shell) = connected();
        session.enter(ALICE, "Alice".to_owned());
        let mut alice = session.attach(ALICE).unwrap();
        session.request_control(ALICE, Instant::now()).unwrap();
        session.agree(CREATOR, ALICE).unwrap();
        assert_eq!(session.cancel_share(), vec![ALICE]);
        assert!(
            pending(&mut alice, ALICE)
                .iter()
                .any(|message| matches!(message,
            ServerMsg::Event(ServerEvent::Left { message }) if message.contains("cancelled")))
        );
        assert!(!session.input(ALICE, b"x".to_vec()));
        assert!(session.input(CREATOR, b"y".to_vec()));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"y"));
        // A browser of Alice's that resynchronises now learns she is out.
        let again = decode(&session.resynchronise(ALICE).initial);
        assert!(matches!(
            &again[0],
            ServerMsg::Event(ServerEvent::Left { .. })
        ));
    }

    #[test]
    fn an_invited_controller_who_drops_returns_control_to_the_creator() {
        let (session, _shell) = connected();
        session.enter(ALICE, "Alice".to_owned());
        let _alice = session.attach(ALICE).unwrap();
        session.request_control(ALICE, Instant::now()).unwrap();
        session.agree(CREATOR, ALICE).unwrap();
        assert_eq!(session.detach(ALICE), None);
        assert!(session.input(CREATOR, b"x".to_vec()));
        assert!(!session.input(ALICE, b"x".to_vec()));
        // Still in: a reload attaches again.
        assert!(session.attach(ALICE).is_some());
    }

    #[test]
    fn keystrokes_typed_while_connecting_wait_for_the_shell() {
        let (session, mut shell) = connecting();
        let attachment = session.attach(CREATOR).unwrap();
        assert_eq!(
            decode(&attachment.initial)[0],
            ServerMsg::Event(ServerEvent::Connecting)
        );
        assert!(session.resize(CREATOR, TerminalSize::from_client(100, 30).unwrap()));
        assert!(session.input(CREATOR, b"ls\r".to_vec()));
        assert!(matches!(
            shell.try_recv(),
            Ok(ShellCommand::Resize(size)) if (size.cols(), size.rows()) == (100, 30)
        ));
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(_))));
    }

    #[test]
    fn the_grace_period_is_overtaken_by_a_new_attachment() {
        let session = session();
        let _first = session.attach(CREATOR).unwrap();
        let generation = session.detach(CREATOR).unwrap();
        let _again = session.attach(CREATOR).unwrap();
        assert!(!session.grace_expired(generation));
        let later = session.detach(CREATOR).unwrap();
        assert!(session.grace_expired(later));
    }

    #[test]
    fn finishing_tells_everyone_once_and_closes_the_shell() {
        let (session, mut shell) = connected();
        let mut attachment = session.attach(CREATOR).unwrap();
        assert!(session.finish(SessionEnd::ClosedByCreator));
        assert!(!session.finish(SessionEnd::ShellExited));
        let last = next(&mut attachment);
        assert!(
            matches!(last, ServerMsg::Event(ServerEvent::Ended { code, .. }) if code == "S_200")
        );
        assert!(matches!(shell.try_recv(), Ok(ShellCommand::Close)));
        let late = decode(&session.attach(CREATOR).unwrap().initial);
        assert!(matches!(
            &late[0],
            ServerMsg::Event(ServerEvent::Ended { .. })
        ));
    }

    #[test]
    fn a_viewer_that_falls_behind_is_told_so_and_resynchronised() {
        let session = session();
        let mut slow = session.attach(CREATOR).unwrap();
        for _ in 0..FRAME_BUFFER + 10 {
            session.output(b"x".to_vec());
        }
        assert!(matches!(
            slow.frames.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        let fresh = session.resynchronise(CREATOR);
        assert!(matches!(
            ServerMsg::decode(&fresh.initial[1].bytes).unwrap(),
            ServerMsg::Event(ServerEvent::Reset { .. })
        ));
    }
}
