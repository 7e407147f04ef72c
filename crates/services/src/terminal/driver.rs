//! The driver of one live session: a task that owns the session's state and
//! takes, one at a time, the shell's events, the commands of participants
//! and services, and the session's next deadline (the creator's reconnect
//! grace, requests for control that lapse, the window's warning and end).
//! Nothing else changes the session, so its rules need no lock and every
//! change happens in one order, which the recording follows.
//!
//! `Core` is the state and its rules, with the time passed in; `run` is the
//! task around it, which does what a change needs from storage (the audit
//! log, the end of the session) after the change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{
    Control, OmSessionId, SessionEnd, SessionStatus, SessionWindow, TerminalSize, UserId, WindowDue,
};
use gateway::{ShellCommand, ShellEvent};
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub(crate) use super::command::{Command, ConnectionId, Reply};
use super::markers::Roster;
use super::stream::{Item, OutputStream};
use super::{Frame, PanelFrame, Phase, View};
use crate::recording::Recorder;

/// How often the driver reads the wall clock while a window is set: the
/// clock can jump (and a test moves it), so a deadline in wall time is
/// checked at least this often rather than slept for.
const WALL_CLOCK_CHECK: Duration = Duration::from_secs(1);
/// Per-user events buffered for a browser that is slow to read them; past
/// this it is resynchronised.
const NOTICE_BUFFER: usize = 64;
/// How often the panel is published while it keeps changing (a crowd
/// joining): each browser gets a few panels a second, not one per join.
pub(crate) const PANEL_INTERVAL: Duration = Duration::from_millis(100);

/// What the task does in storage after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The session ended for this reason.
    Ended(SessionEnd),
    /// These users' requests for control lapsed.
    TimedOut(Vec<UserId>),
}

/// How long the session's timers run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// How long a request for control waits for an answer.
    pub request_timeout: Duration,
    /// How long the creator may be away before the session ends.
    pub reconnect_grace: Duration,
    /// The least time between two panels published.
    pub panel_interval: Duration,
}

/// The time, in both of the clocks the session's deadlines use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub instant: Instant,
    pub wall: DateTime<Utc>,
}

/// Where a session's changes go: the browsers, the shell, the recording.
pub(crate) struct Outputs {
    pub stream: Arc<OutputStream>,
    pub notices: broadcast::Sender<Frame>,
    pub view: watch::Sender<View>,
    /// The phase alone, which browsers follow: the view changes at every
    /// join, and a thousand browsers woken for each would make joins
    /// quadratic.
    pub phase: watch::Sender<Phase>,
    pub panel: watch::Sender<PanelFrame>,
    pub shell: mpsc::UnboundedSender<ShellCommand>,
    pub recorder: Recorder,
}

impl Outputs {
    pub(crate) fn new(shell: mpsc::UnboundedSender<ShellCommand>, recorder: Recorder) -> Self {
        Self {
            stream: Arc::new(OutputStream::default()),
            notices: broadcast::channel(NOTICE_BUFFER).0,
            view: watch::channel(View::default()).0,
            phase: watch::channel(Phase::default()).0,
            panel: watch::channel(PanelFrame::default()).0,
            shell,
            recorder,
        }
    }
}

pub(super) struct Connection {
    pub user: UserId,
    pub monitoring: bool,
}

/// The session's state and rules.
pub(crate) struct Core {
    pub(super) creator: UserId,
    pub(super) phase: Phase,
    pub(super) control: Control,
    /// Display names of everyone who has been in or watched.
    pub(super) names: HashMap<UserId, String>,
    pub(super) connections: HashMap<ConnectionId, Connection>,
    /// Whether an invitation is open.
    pub(super) shared: bool,
    /// Administrators watching, in order of arrival.
    pub(super) monitors: Vec<UserId>,
    /// Participants the owner added by name: Cancel share leaves them in.
    pub(super) members: HashSet<UserId>,
    pub(super) window: Option<SessionWindow>,
    pub(super) ending_soon: bool,
    /// When the session ends unless its creator attaches a browser.
    grace_until: Option<Instant>,
    timing: Timing,
    /// The time of the command or deadline being handled.
    now: Instant,
    /// The panel: whether it changed since last published, when it was
    /// published, and what it listed then.
    panel_changed: bool,
    panel_sent: Option<Instant>,
    listed: Option<protocol::Panel>,
    /// Who was in and who had control at the last recorded change.
    pub(super) recorded: Roster,
    pub(super) out: Outputs,
}

impl Core {
    /// A session whose shell is opening. With `awaits_creator` its creator
    /// has no browser yet and the reconnect grace runs from `now`: a
    /// creator whose page never opens (a script, a closed tab) does not
    /// hold the connection open.
    pub(crate) fn new(
        creator: (UserId, String),
        timing: Timing,
        out: Outputs,
        now: Instant,
        awaits_creator: bool,
    ) -> Self {
        let (creator, creator_name) = creator;
        // From the first event on, the markers say who types.
        out.recorder.marker(format!("control: {creator_name}"));
        let control = Control::new(creator, timing.request_timeout);
        let mut core = Self {
            creator,
            phase: Phase::Connecting,
            recorded: Roster::new(creator),
            control,
            names: HashMap::from([(creator, creator_name)]),
            connections: HashMap::new(),
            shared: false,
            monitors: Vec::new(),
            members: HashSet::new(),
            window: None,
            ending_soon: false,
            grace_until: awaits_creator.then(|| now + timing.reconnect_grace),
            timing,
            now,
            panel_changed: false,
            panel_sent: None,
            listed: None,
            out,
        };
        core.publish();
        core
    }

    pub(super) fn name(&self, user: UserId) -> String {
        self.names.get(&user).cloned().unwrap_or_default()
    }

    pub(super) fn has_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended(_))
    }

    /// Whether `user` has a browser open as a participant.
    pub(super) fn is_online(&self, user: UserId) -> bool {
        self.connections
            .values()
            .any(|connection| connection.user == user && !connection.monitoring)
    }

    pub(super) fn notify(&self, user: UserId, event: protocol::ServerEvent) {
        // Nobody listening is fine: they are told again when they attach.
        let _ = self.out.notices.send(Frame::to(user, event));
    }

    /// Tells every browser the session's state after a change, and records
    /// what changed in who is in, who types and who watches. The panel
    /// follows at once, or at the end of the panel interval when one was
    /// published within it.
    pub(super) fn publish(&mut self) {
        self.publish_view();
        self.record_roster();
        self.panel_changed = true;
        self.publish_panel_if_due();
    }

    /// When the changed panel may be published.
    fn panel_due(&self) -> Option<Instant> {
        self.panel_changed.then(|| {
            self.panel_sent
                .map_or(self.now, |sent| sent + self.timing.panel_interval)
        })
    }

    fn publish_panel_if_due(&mut self) {
        if self.panel_due().is_none_or(|due| due > self.now) {
            return;
        }
        let panel = self.panel();
        let count = panel.participant_count;
        // What the panel lists, apart from the count.
        let listed = protocol::Panel {
            participant_count: 0,
            ..panel.clone()
        };
        let frame = Bytes::from(ServerMsg::Event(ServerEvent::Panel(panel)).encode());
        let relisted = self.listed.as_ref() != Some(&listed);
        self.out.panel.send_modify(|published| {
            published.frame = frame;
            published.count = count;
            if relisted {
                published.listing += 1;
            }
        });
        self.listed = Some(listed);
        self.panel_changed = false;
        self.panel_sent = Some(self.now);
    }

    pub(crate) fn connected(&mut self) {
        if matches!(self.phase, Phase::Connecting) {
            self.phase = Phase::Connected;
            self.publish();
        }
    }

    /// Output of the shell: to the stream every browser and the screen
    /// read, and to the recording.
    pub(crate) fn output(&mut self, bytes: Vec<u8>) {
        let bytes = Bytes::from(bytes);
        self.out.recorder.output(bytes.clone());
        self.out.stream.append(Item::Output(bytes));
    }

    /// Applies `command` at `now`.
    pub(crate) fn handle(&mut self, command: Command, now: Now) -> (Reply, Option<Outcome>) {
        self.now = self.now.max(now.instant);
        if self.has_ended() {
            // Only a detach still matters: the socket is closing.
            if let Command::Detach { connection } = command {
                self.connections.remove(&connection);
            }
            return (Reply::Done(false), None);
        }
        let reply = match command {
            Command::Attach {
                connection,
                user,
                name,
                monitor,
            } => self.attach(connection, user, name, monitor),
            Command::Detach { connection } => Reply::Done(self.detach(connection, now.instant)),
            Command::Input { connection, bytes } => Reply::Done(self.input(connection, bytes)),
            Command::Resize {
                connection,
                cols,
                rows,
            } => Reply::Done(self.resize(connection, TerminalSize::clamped(cols, rows))),
            Command::Shared(open) => Reply::Done(self.set_shared(open)),
            Command::Enter { user, name, member } => Reply::Done(self.enter(user, name, member)),
            Command::RemoveMember(user) => Reply::Done(self.remove_member(user)),
            Command::Leave(user) => Reply::Done(self.leave(user)),
            Command::CancelShare => Reply::ForcedOut(self.cancel_share()),
            Command::SetWindow(window) => Reply::Done(self.set_window(window)),
            Command::RequestControl(user) => Reply::Control(self.request(user, now.instant)),
            Command::Agree {
                answerer,
                requester,
            } => Reply::Control(self.agree(answerer, requester)),
            Command::Refuse {
                answerer,
                requester,
            } => Reply::Control(self.refuse(answerer, requester)),
            Command::Release(user) => Reply::Control(self.release(user)),
            Command::TakeBack(user) => Reply::Control(self.take_back(user)),
            Command::Mark(label) => {
                self.out.recorder.marker(label);
                Reply::Done(true)
            }
            Command::End(end) => {
                self.finish(end.clone());
                return (Reply::Done(true), Some(Outcome::Ended(end)));
            }
        };
        (reply, None)
    }

    fn attach(
        &mut self,
        connection: ConnectionId,
        user: UserId,
        name: String,
        monitor: bool,
    ) -> Reply {
        let monitoring = monitor && !self.control.is_in(user);
        if !monitoring && !self.control.is_in(user) {
            return Reply::Attached {
                attached: false,
                monitoring: false,
            };
        }
        if monitoring {
            self.start_monitoring(user, name);
        } else if user == self.creator {
            self.grace_until = None;
        }
        self.connections
            .insert(connection, Connection { user, monitoring });
        self.publish();
        Reply::Attached {
            attached: true,
            monitoring,
        }
    }

    /// A browser closed. A participant's last one counts as a disconnect
    /// (control returns to the creator); the creator's last one starts the
    /// reconnect grace.
    fn detach(&mut self, connection: ConnectionId, now: Instant) -> bool {
        let Some(Connection { user, monitoring }) = self.connections.remove(&connection) else {
            return false;
        };
        if monitoring {
            self.stop_monitoring(user);
        } else if !self.is_online(user) {
            self.control.disconnect(user);
            if user == self.creator {
                self.grace_until = Some(now + self.timing.reconnect_grace);
            }
        }
        self.publish();
        true
    }

    /// Keystrokes from a browser: only the controller's reach the host.
    fn input(&mut self, connection: ConnectionId, bytes: Vec<u8>) -> bool {
        if !self.may_type(connection) {
            return false;
        }
        // In the driver's order, so the markers before it name who typed.
        self.out.recorder.input(&bytes);
        self.out.shell.send(ShellCommand::Input(bytes)).is_ok()
    }

    /// A new terminal size from a browser: only the controller's reaches
    /// the host.
    fn resize(&mut self, connection: ConnectionId, size: TerminalSize) -> bool {
        if !self.may_type(connection) {
            return false;
        }
        self.out.recorder.resize(size.cols(), size.rows());
        self.out.stream.append(Item::Resize(size));
        self.out.shell.send(ShellCommand::Resize(size)).is_ok()
    }

    fn may_type(&self, connection: ConnectionId) -> bool {
        self.connections.get(&connection).is_some_and(|connection| {
            !connection.monitoring && self.control.may_type(connection.user)
        })
    }

    fn set_window(&mut self, window: SessionWindow) -> bool {
        self.window = Some(window);
        // An extension takes back the warning of an end that was near.
        self.ending_soon = false;
        self.publish();
        true
    }

    /// Ends the session for everyone: closes the stream and the shell and
    /// tells every browser why.
    pub(crate) fn finish(&mut self, end: SessionEnd) {
        if self.has_ended() {
            return;
        }
        self.out
            .recorder
            .marker(format!("session ended ({})", end.code()));
        self.out.recorder.end();
        self.phase = Phase::Ended(end);
        self.out.stream.close();
        self.publish_view();
        let _ = self.out.shell.send(ShellCommand::Close);
    }

    /// The view for services, and the phase for browsers when it changed.
    fn publish_view(&mut self) {
        self.out.view.send_replace(View::of(self));
        let current = &self.phase;
        self.out.phase.send_if_modified(|phase| {
            let changed = phase != current;
            if changed {
                *phase = current.clone();
            }
            changed
        });
    }

    /// The next moment something is due, if any.
    pub(crate) fn next_deadline(&self, now: Now) -> Option<Instant> {
        if self.has_ended() {
            return None;
        }
        let timeout = self.control.request_timeout();
        let request = self
            .control
            .requests()
            .iter()
            .map(|request| request.made_at + timeout)
            .min();
        let window = self.window.map(|_| now.instant + WALL_CLOCK_CHECK);
        [self.grace_until, request, window, self.panel_due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Does what is due at `now`.
    pub(crate) fn on_time(&mut self, now: Now) -> Option<Outcome> {
        if self.has_ended() {
            return None;
        }
        self.now = self.now.max(now.instant);
        self.publish_panel_if_due();
        if self.grace_until.is_some_and(|until| until <= now.instant) {
            self.finish(SessionEnd::CreatorGone);
            return Some(Outcome::Ended(SessionEnd::CreatorGone));
        }
        match self
            .window
            .and_then(|window| window.due(SessionStatus::Active, now.wall))
        {
            Some(WindowDue::End) => {
                self.finish(SessionEnd::WindowOver);
                return Some(Outcome::Ended(SessionEnd::WindowOver));
            }
            Some(WindowDue::Warn) if !self.ending_soon => {
                self.ending_soon = true;
                self.publish();
            }
            _ => {}
        }
        let lapsed = self.expire_requests(now.instant);
        (!lapsed.is_empty()).then_some(Outcome::TimedOut(lapsed))
    }
}

/// A command and where its answer goes.
pub(crate) struct Envelope {
    pub command: Command,
    pub reply: Option<oneshot::Sender<Reply>>,
}

/// What the driver needs from the rest of Tandem: the time, and the
/// storage work after an outcome.
pub(crate) trait Host: Send + Sync + 'static {
    fn now(&self) -> Now;
    fn settle(
        &self,
        id: OmSessionId,
        creator: UserId,
        outcome: Outcome,
    ) -> impl Future<Output = ()> + Send;
}

/// Runs the session until it ends: the shell's events, commands and
/// deadlines, one at a time.
pub(crate) async fn run(
    id: OmSessionId,
    mut core: Core,
    host: impl Host,
    opened: oneshot::Receiver<Opened>,
    mut inbox: mpsc::UnboundedReceiver<Envelope>,
) {
    let mut opened = Some(opened);
    let mut shell: Option<mpsc::Receiver<ShellEvent>> = None;
    let stream = core.out.stream.clone();
    while !core.has_ended() {
        let deadline = core.next_deadline(host.now());
        let sleep = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        };
        // The shell waits while the screen is far behind: nothing is lost,
        // and the screen's memory stays bounded.
        let screen_behind = stream.screen_is_behind();
        let outcome = tokio::select! {
            biased;
            envelope = inbox.recv() => {
                // Every handle gone: nobody can reach the session again.
                let Some(Envelope { command, reply }) = envelope else {
                    core.finish(SessionEnd::ServerStopped);
                    return;
                };
                if let (Command::End(_), Some(shell)) = (&command, shell.as_mut()) {
                    // What the shell printed before the end is part of the
                    // session: shown, screened and recorded.
                    while let Ok(ShellEvent::Output(bytes)) = shell.try_recv() {
                        core.output(bytes);
                    }
                }
                let (answer, outcome) = core.handle(command, host.now());
                if let Some(outcome) = outcome {
                    host.settle(id, core.creator, outcome).await;
                }
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
                continue;
            }
            result = opening(&mut opened) => {
                opened = None;
                match result {
                    Ok(Ok(events)) => {
                        core.connected();
                        shell = Some(events);
                        None
                    }
                    Ok(Err(end)) => end_with(&mut core, end),
                    Err(_) => end_with(&mut core, SessionEnd::ConnectionFailed),
                }
            }
            event = next_event(&mut shell), if !screen_behind => {
                match event {
                    Some(ShellEvent::Output(bytes)) => {
                        core.output(bytes);
                        None
                    }
                    Some(ShellEvent::Closed(end)) => {
                        end_with(&mut core, end.unwrap_or(SessionEnd::ConnectionFailed))
                    }
                    None => end_with(&mut core, SessionEnd::ConnectionFailed),
                }
            }
            () = stream.screen_progressed(), if screen_behind => None,
            () = sleep => core.on_time(host.now()),
        };
        if let Some(outcome) = outcome {
            host.settle(id, core.creator, outcome).await;
        }
    }
    // Commands that came after the end are answered as changing nothing.
    inbox.close();
    while let Some(Envelope { reply, .. }) = inbox.recv().await {
        if let Some(reply) = reply {
            let _ = reply.send(Reply::Done(false));
        }
    }
}

type Opened = Result<mpsc::Receiver<ShellEvent>, SessionEnd>;

/// The outcome of opening the shell, once; after that, never.
async fn opening(
    opened: &mut Option<oneshot::Receiver<Opened>>,
) -> Result<Opened, oneshot::error::RecvError> {
    match opened {
        Some(receiver) => receiver.await,
        None => std::future::pending().await,
    }
}

/// The shell's next event, once it is open.
async fn next_event(shell: &mut Option<mpsc::Receiver<ShellEvent>>) -> Option<ShellEvent> {
    match shell {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

fn end_with(core: &mut Core, end: SessionEnd) -> Option<Outcome> {
    core.finish(end.clone());
    Some(Outcome::Ended(end))
}

#[cfg(test)]
mod tests;
