//! Live O&M sessions on this node, independent of the WebSocket transport.
//!
//! Each session is driven by one task (`driver`) that owns its state and
//! takes the shell's events, participants' commands and its deadlines one
//! at a time. The shell's output becomes a sequence (`stream`) that every
//! browser reads from its own position, and that a second task reads to
//! keep the screen (`screen`), so no terminal emulator runs on the output
//! path. A browser that attaches draws a snapshot of the screen taken after
//! a known entry, then reads the entries after it: exact, with nothing
//! shared between the output and the screen but the sequence itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use domain::{ControlError, OmSessionId, SessionEnd, SessionWindow, TerminalSize, UserId};
use gateway::{ShellCommand, ShellEvent};
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::recording::{KeyScreens, Recorder, RecordingSummary};

mod attachment;
mod command;
mod cooperation;
mod driver;
mod markers;
mod monitoring;
mod screen;
mod scrolled_off;
mod stream;

pub use attachment::Attachment;
use driver::{Command, ConnectionId, Core, Envelope, Outputs, Reply};
pub(crate) use driver::{Host, Now, Outcome, PANEL_INTERVAL, Timing};
use screen::ScreenTask;
use stream::OutputStream;

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

/// Where a session stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Phase {
    #[default]
    Connecting,
    Connected,
    Ended(SessionEnd),
}

/// The session as the driver last published it: what browsers show and
/// what services read without asking the driver.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    pub phase: Phase,
    /// Who is in, the creator first, with their names.
    pub participants: Vec<(UserId, String)>,
    pub controller: String,
    pub shared: bool,
    pub monitors: Vec<(UserId, String)>,
}

impl View {
    fn of(core: &Core) -> Self {
        Self {
            phase: core.phase.clone(),
            participants: core
                .control
                .participants()
                .map(|user| (user, core.name(user)))
                .collect(),
            controller: core.name(core.control.controller()),
            shared: core.shared,
            monitors: core
                .monitors
                .iter()
                .map(|user| (*user, core.name(*user)))
                .collect(),
        }
    }

    fn is_in(&self, user: UserId) -> bool {
        self.participants.iter().any(|(id, _)| *id == user)
    }

    fn is_monitor(&self, user: UserId) -> bool {
        self.monitors.iter().any(|(id, _)| *id == user)
    }
}

/// The panel as the driver last published it, encoded once for every
/// browser.
#[derive(Debug, Clone, Default)]
pub(crate) struct PanelFrame {
    pub frame: Bytes,
    /// Bumped whenever what the panel lists changes; when only the count
    /// of participants changed, browsers are sent the count alone.
    pub listing: u64,
    pub count: u32,
}

/// One encoded message for every browser of the session, or for the
/// browsers of one user only.
#[derive(Clone, Debug)]
pub struct Frame {
    to: Option<UserId>,
    pub bytes: Bytes,
    /// The last frame for the browsers it reaches (`Ended`, `Left`), so the
    /// socket closes after it.
    pub closes: bool,
}

impl Frame {
    fn event(event: ServerEvent) -> Self {
        Self::new(None, event)
    }

    fn to(user: UserId, event: ServerEvent) -> Self {
        Self::new(Some(user), event)
    }

    fn new(to: Option<UserId>, event: ServerEvent) -> Self {
        let closes = matches!(event, ServerEvent::Ended { .. } | ServerEvent::Left { .. });
        Self {
            to,
            bytes: Bytes::from(ServerMsg::Event(event).encode()),
            closes,
        }
    }

    fn raw(bytes: Bytes) -> Self {
        Self {
            to: None,
            bytes,
            closes: false,
        }
    }

    fn is_for(&self, user: UserId) -> bool {
        self.to.is_none_or(|to| to == user)
    }
}

/// How a live session looks right now, for the admin's Sessions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveOverview {
    pub participants: Vec<String>,
    pub controller: String,
    pub shared: bool,
    pub monitors: Vec<String>,
}

pub(crate) type RecordingTask = JoinHandle<std::io::Result<RecordingSummary>>;

/// A live session's handle: it sends commands to the session's driver and
/// reads what the driver last published.
pub(crate) struct LiveSession {
    pub id: OmSessionId,
    pub creator: UserId,
    inbox: mpsc::UnboundedSender<Envelope>,
    view: watch::Receiver<View>,
    phase: watch::Receiver<Phase>,
    panel: watch::Receiver<PanelFrame>,
    stream: Arc<OutputStream>,
    notices: broadcast::Sender<Frame>,
    screen: ScreenTask,
    next_connection: AtomicU64,
    /// The task writing the recording, awaited when the session ends.
    recording_task: Mutex<Option<RecordingTask>>,
}

/// What a session starts with.
pub(crate) struct Start {
    pub id: OmSessionId,
    pub creator: (UserId, String),
    pub timing: Timing,
    pub recorder: Recorder,
    /// Where the screen task hands the recording its keyframes.
    pub key_screens: KeyScreens,
    pub window: Option<SessionWindow>,
    /// Whether the creator's browser is about to open (Login), so that the
    /// reconnect grace runs from the start.
    pub awaits_creator: bool,
}

/// The shell's side of a starting session: where commands for the shell
/// come from, and where the outcome of opening it goes.
pub(crate) struct ShellEnds {
    pub commands: mpsc::UnboundedReceiver<ShellCommand>,
    pub opened: oneshot::Sender<Result<mpsc::Receiver<ShellEvent>, SessionEnd>>,
}

impl LiveSession {
    /// Starts the driver and the screen of a session whose shell is about
    /// to be opened by whoever holds the returned `ShellEnds`.
    pub(crate) fn start(start: Start, host: impl Host) -> (Arc<Self>, ShellEnds) {
        let (shell, commands) = mpsc::unbounded_channel();
        let (opened, opening) = oneshot::channel();
        let out = Outputs::new(shell, start.recorder);
        let (stream, notices, view, phase, panel) = (
            out.stream.clone(),
            out.notices.clone(),
            out.view.subscribe(),
            out.phase.subscribe(),
            out.panel.subscribe(),
        );
        let mut core = Core::new(
            start.creator.clone(),
            start.timing,
            out,
            host.now().instant,
            start.awaits_creator,
        );
        if let Some(window) = start.window {
            core.handle(Command::SetWindow(window), host.now());
        }
        let (inbox, commands_in) = mpsc::unbounded_channel();
        tokio::spawn(driver::run(start.id, core, host, opening, commands_in));
        let session = Arc::new(Self {
            id: start.id,
            creator: start.creator.0,
            inbox,
            view,
            phase,
            panel,
            screen: ScreenTask::spawn(stream.clone(), TerminalSize::INITIAL, start.key_screens),
            stream,
            notices,
            next_connection: AtomicU64::new(0),
            recording_task: Mutex::new(None),
        });
        (session, ShellEnds { commands, opened })
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

    /// Sends `command` without waiting for its answer.
    fn send(&self, command: Command) {
        // A driver that is gone has ended the session; nothing to change.
        let _ = self.inbox.send(Envelope {
            command,
            reply: None,
        });
    }

    /// Sends `command` and waits for the driver's answer; a session that
    /// has ended answers that nothing changed.
    async fn ask(&self, command: Command) -> Reply {
        let (reply, answer) = oneshot::channel();
        let envelope = Envelope {
            command,
            reply: Some(reply),
        };
        if self.inbox.send(envelope).is_err() {
            return Reply::Done(false);
        }
        answer.await.unwrap_or(Reply::Done(false))
    }

    async fn done(&self, command: Command) -> bool {
        matches!(self.ask(command).await, Reply::Done(true))
    }

    async fn control(&self, command: Command) -> Result<(), ControlError> {
        match self.ask(command).await {
            Reply::Control(outcome) => outcome,
            _ => Err(ControlError::NotInSession),
        }
    }

    pub(crate) fn has_ended(&self) -> bool {
        matches!(self.view.borrow().phase, Phase::Ended(_))
    }

    pub(crate) fn is_in(&self, user: UserId) -> bool {
        self.view.borrow().is_in(user)
    }

    /// Display names of everyone in, the creator first.
    pub(crate) fn participant_names(&self) -> Vec<String> {
        let view = self.view.borrow();
        view.participants
            .iter()
            .map(|(_, name)| name.clone())
            .collect()
    }

    /// Who is in, who types, whether it is shared and who watches.
    pub(crate) fn overview(&self) -> LiveOverview {
        let view = self.view.borrow();
        LiveOverview {
            participants: view
                .participants
                .iter()
                .map(|(_, name)| name.clone())
                .collect(),
            controller: view.controller.clone(),
            shared: view.shared,
            monitors: view.monitors.iter().map(|(_, name)| name.clone()).collect(),
        }
    }

    pub(crate) async fn set_shared(&self, shared: bool) {
        self.ask(Command::Shared(shared)).await;
    }

    /// An invited user enters. Returns false when they were already in.
    pub(crate) async fn enter(&self, user: UserId, name: String) -> bool {
        let member = false;
        self.done(Command::Enter { user, name, member }).await
    }

    /// A user the owner added by name comes in (View on My Sessions).
    /// Returns false when they were already in.
    pub(crate) async fn enter_as_member(&self, user: UserId, name: String) -> bool {
        let member = true;
        self.done(Command::Enter { user, name, member }).await
    }

    /// The owner took a user off the session's Shared with list: if they
    /// are in, they are forced out. Returns whether they were in.
    pub(crate) async fn remove_member(&self, user: UserId) -> bool {
        self.done(Command::RemoveMember(user)).await
    }

    /// An invited user's Exit session. Returns whether they were in.
    pub(crate) async fn leave(&self, user: UserId) -> bool {
        self.done(Command::Leave(user)).await
    }

    /// Cancel share: every invited user is forced out at once. Returns who.
    pub(crate) async fn cancel_share(&self) -> Vec<UserId> {
        match self.ask(Command::CancelShare).await {
            Reply::ForcedOut(users) => users,
            _ => Vec::new(),
        }
    }

    /// The session's window is set or extended; everyone's panel shows it.
    pub(crate) async fn set_window(&self, window: SessionWindow) {
        self.ask(Command::SetWindow(window)).await;
    }

    pub(crate) async fn request_control(&self, user: UserId) -> Result<(), ControlError> {
        self.control(Command::RequestControl(user)).await
    }

    pub(crate) async fn agree(
        &self,
        answerer: UserId,
        requester: UserId,
    ) -> Result<(), ControlError> {
        let agree = Command::Agree {
            answerer,
            requester,
        };
        self.control(agree).await
    }

    pub(crate) async fn refuse(
        &self,
        answerer: UserId,
        requester: UserId,
    ) -> Result<(), ControlError> {
        let refuse = Command::Refuse {
            answerer,
            requester,
        };
        self.control(refuse).await
    }

    pub(crate) async fn release_control(&self, user: UserId) -> Result<(), ControlError> {
        self.control(Command::Release(user)).await
    }

    pub(crate) async fn take_control_back(&self, user: UserId) -> Result<(), ControlError> {
        self.control(Command::TakeBack(user)).await
    }

    /// A marker in the recording, in order with what the browsers saw;
    /// none once the session has ended.
    pub(crate) async fn mark(&self, label: String) {
        self.ask(Command::Mark(label)).await;
    }

    /// Ends the session for everyone and waits until its end is stored.
    /// Returns false when it had already ended.
    pub(crate) async fn end(&self, end: SessionEnd) -> bool {
        self.done(Command::End(end)).await
    }

    /// Attaches a browser of `user`: as a participant when they are in the
    /// session, else (`monitor`, for an administrator) as a monitor.
    /// None when they may not attach.
    pub(crate) async fn attach(
        self: &Arc<Self>,
        user: UserId,
        name: String,
        monitor: bool,
    ) -> Option<Attachment> {
        let connection: ConnectionId = self.next_connection.fetch_add(1, Ordering::Relaxed);
        // Subscribed first, so nothing said to the user after the attach
        // is missed.
        let notices = self.notices.subscribe();
        let attach = Command::Attach {
            connection,
            user,
            name,
            monitor,
        };
        let Reply::Attached {
            attached: true,
            monitoring,
        } = self.ask(attach).await
        else {
            return None;
        };
        Some(Attachment::new(
            self.clone(),
            connection,
            user,
            monitoring,
            notices,
        ))
    }
}

#[cfg(test)]
mod tests;
