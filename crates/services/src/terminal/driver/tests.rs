//! The session's rules, driven without a shell, a socket or a task: each
//! command and each moment is passed in.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use domain::{ControlError, SessionEnd, SessionWindow, UserId};
use gateway::ShellCommand;
use protocol::{ServerEvent, ServerMsg};
use tokio::sync::{broadcast, mpsc, watch};

use super::{Command, Core, Now, Outcome, Outputs, Reply, Timing};
use crate::recording::{Recorded, Recorder};
use crate::terminal::{Frame, PanelFrame, Phase, View};

const CREATOR: UserId = UserId(7);
const ALICE: UserId = UserId(8);
const ROOT: UserId = UserId(9);
const GRACE: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(60);

struct Session {
    core: Core,
    shell: mpsc::UnboundedReceiver<ShellCommand>,
    recording: mpsc::UnboundedReceiver<Recorded>,
    notices: broadcast::Receiver<Frame>,
    /// Notices taken from the channel, not looked at yet.
    unread: Vec<Frame>,
    view: watch::Receiver<View>,
    panel: watch::Receiver<PanelFrame>,
    start: Instant,
    wall: DateTime<Utc>,
}

const TIMING: Timing = Timing {
    request_timeout: TIMEOUT,
    reconnect_grace: GRACE,
    panel_interval: Duration::ZERO,
};

/// A connected session; with `awaiting_creator`, its creator's browser has
/// not opened yet.
fn session(awaiting_creator: bool) -> Session {
    session_with(TIMING, awaiting_creator)
}

fn session_with(timing: Timing, awaiting_creator: bool) -> Session {
    let (shell_in, shell) = mpsc::unbounded_channel();
    let (recorder, _, recording) = Recorder::channel();
    let out = Outputs::new(shell_in, recorder);
    let notices = out.notices.subscribe();
    let view = out.view.subscribe();
    let panel = out.panel.subscribe();
    let start = Instant::now();
    let mut core = Core::new(
        (CREATOR, "Creator".to_owned()),
        timing,
        out,
        start,
        awaiting_creator,
    );
    core.connected();
    Session {
        core,
        shell,
        recording: recording.events,
        notices,
        unread: Vec::new(),
        view,
        panel,
        start,
        wall: "2026-12-03T10:00:00Z".parse().unwrap(),
    }
}

impl Session {
    fn at(&self, seconds: u64) -> Now {
        Now {
            instant: self.start + Duration::from_secs(seconds),
            wall: self.wall + TimeDelta::seconds(seconds as i64),
        }
    }

    fn run(&mut self, command: Command) -> Reply {
        self.run_at(0, command)
    }

    fn run_at(&mut self, seconds: u64, command: Command) -> Reply {
        let (reply, outcome) = self.core.handle(command, self.at(seconds));
        assert_eq!(outcome, None, "no outcome expected");
        reply
    }

    fn attach(&mut self, connection: u64, user: UserId, monitor: bool) -> Reply {
        let name = format!("user {}", user.0);
        self.run(Command::Attach {
            connection,
            user,
            name,
            monitor,
        })
    }

    fn enter(&mut self, user: UserId, name: &str) -> Reply {
        let name = name.to_owned();
        self.run(Command::Enter {
            user,
            name,
            member: false,
        })
    }

    fn input(&mut self, connection: u64, text: &str) -> Reply {
        let bytes = text.as_bytes().to_vec();
        self.run(Command::Input { connection, bytes })
    }

    fn panel(&self) -> protocol::Panel {
        match ServerMsg::decode(&self.panel.borrow().frame).unwrap() {
            ServerMsg::Event(ServerEvent::Panel(panel)) => panel,
            other => panic!("not a panel: {other:?}"),
        }
    }

    /// The events addressed to `user` since the last look.
    fn told(&mut self, user: UserId) -> Vec<ServerEvent> {
        while let Ok(frame) = self.notices.try_recv() {
            self.unread.push(frame);
        }
        let (theirs, others) = std::mem::take(&mut self.unread)
            .into_iter()
            .partition(|frame| frame.is_for(user));
        self.unread = others;
        theirs
            .into_iter()
            .map(
                |frame: Frame| match ServerMsg::decode(&frame.bytes).unwrap() {
                    ServerMsg::Event(event) => event,
                    other => panic!("not an event: {other:?}"),
                },
            )
            .collect()
    }

    /// Ends the session at once, as an Exit session or Terminate does.
    fn end(&mut self, end: SessionEnd) {
        let (reply, outcome) = self.core.handle(Command::End(end.clone()), self.at(0));
        assert_eq!(
            (reply, outcome),
            (Reply::Done(true), Some(Outcome::Ended(end)))
        );
    }

    fn typed(&mut self) -> Vec<String> {
        let mut typed = Vec::new();
        while let Ok(command) = self.shell.try_recv() {
            if let ShellCommand::Input(bytes) = command {
                typed.push(String::from_utf8(bytes).unwrap());
            }
        }
        typed
    }

    /// Whether the shell was told to close.
    fn shell_closed(&mut self) -> bool {
        let mut closed = false;
        while let Ok(command) = self.shell.try_recv() {
            closed |= matches!(command, ShellCommand::Close);
        }
        closed
    }

    fn markers(&mut self) -> Vec<(char, String)> {
        let mut events = Vec::new();
        while let Ok(event) = self.recording.try_recv() {
            events.push(match event {
                Recorded::Output(_, bytes) => ('o', String::from_utf8(bytes.to_vec()).unwrap()),
                Recorded::Input(_, bytes) => ('i', String::from_utf8(bytes).unwrap()),
                Recorded::Resize(_, cols, rows) => ('r', format!("{cols}x{rows}")),
                Recorded::Marker(_, label) => ('m', label),
                Recorded::End => ('e', String::new()),
            });
        }
        events
    }
}

fn attached(monitoring: bool) -> Reply {
    Reply::Attached {
        attached: true,
        monitoring,
    }
}

#[test]
fn the_recording_names_who_held_control_before_every_keystroke() {
    let mut session = session(false);
    session.core.output(b"$ ".to_vec());
    session.attach(1, CREATOR, false);
    assert_eq!(session.input(1, "id\r"), Reply::Done(true));
    session.run(Command::Shared(true));
    session.enter(ALICE, "Alice");
    session.attach(2, ALICE, false);
    assert_eq!(session.input(2, "rm -rf /\r"), Reply::Done(false));
    session.run(Command::RequestControl(ALICE));
    session.run(Command::Agree {
        answerer: CREATOR,
        requester: ALICE,
    });
    assert_eq!(session.input(2, "uptime\r"), Reply::Done(true));
    let resize = Command::Resize {
        connection: 2,
        cols: 100,
        rows: 30,
    };
    assert_eq!(session.run(resize), Reply::Done(true));
    session.run(Command::Leave(ALICE));
    session.run(Command::CancelShare);
    session.end(SessionEnd::ClosedByCreator);
    let expected = [
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
    ];
    let expected: Vec<(char, String)> = expected
        .iter()
        .map(|(code, text)| (*code, text.to_string()))
        .collect();
    assert_eq!(session.markers(), expected);
    assert_eq!(session.typed(), ["id\r", "uptime\r"]);
}

#[test]
fn only_the_controllers_browsers_type_or_resize() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    assert_eq!(session.enter(ALICE, "Alice"), Reply::Done(true));
    assert_eq!(session.attach(2, ALICE, false), attached(false));
    assert_eq!(session.input(2, "rm -rf /"), Reply::Done(false));
    assert_eq!(session.input(1, "ls"), Reply::Done(true));
    // A connection nobody opened types nothing.
    assert_eq!(session.input(99, "reboot"), Reply::Done(false));
    assert_eq!(session.typed(), ["ls"]);

    session.run(Command::RequestControl(ALICE));
    session.run(Command::Agree {
        answerer: CREATOR,
        requester: ALICE,
    });
    assert_eq!(session.input(1, "x"), Reply::Done(false));
    assert_eq!(session.input(2, "pwd"), Reply::Done(true));
    assert_eq!(session.typed(), ["pwd"]);
}

#[test]
fn only_users_in_the_session_attach_and_only_admins_may_watch_without_being_in() {
    let mut session = session(false);
    let refused = Reply::Attached {
        attached: false,
        monitoring: false,
    };
    assert_eq!(session.attach(1, ALICE, false), refused);
    // Someone in who may monitor attaches as a participant.
    assert_eq!(session.attach(2, CREATOR, true), attached(false));
    assert_eq!(session.attach(3, ROOT, true), attached(true));
}

#[test]
fn a_request_lapses_at_its_timeout_and_not_before() {
    let mut session = session(false);
    session.enter(ALICE, "Alice");
    session.attach(2, ALICE, false);
    session.run_at(5, Command::RequestControl(ALICE));
    let due = session.core.next_deadline(session.at(5)).unwrap();
    assert_eq!(due, session.at(5 + TIMEOUT.as_secs()).instant);
    assert_eq!(session.core.on_time(session.at(64)), None);
    assert_eq!(session.panel().requests, [ALICE.0]);
    assert_eq!(
        session.core.on_time(session.at(65)),
        Some(Outcome::TimedOut(vec![ALICE]))
    );
    assert!(session.panel().requests.is_empty());
    assert!(matches!(&session.told(ALICE)[..],
        [ServerEvent::Notice { message }] if message.contains("nobody answered within 60 seconds")));
    assert_eq!(session.core.next_deadline(session.at(65)), None);
}

#[test]
fn the_creator_has_the_grace_period_to_come_back_and_no_longer() {
    let mut session = session(true);
    // Login: the creator's page has the grace period to open.
    assert_eq!(
        session.core.next_deadline(session.at(0)),
        Some(session.at(30).instant)
    );
    session.attach(1, CREATOR, false);
    assert_eq!(session.core.next_deadline(session.at(1)), None);
    // The page reloads: a new socket before the old one closes.
    session.attach(2, CREATOR, false);
    session.run_at(10, Command::Detach { connection: 1 });
    assert_eq!(session.core.next_deadline(session.at(10)), None);
    session.run_at(10, Command::Detach { connection: 2 });
    assert_eq!(
        session.core.next_deadline(session.at(10)),
        Some(session.at(40).instant)
    );
    // Back in time: the grace is over.
    session.run_at(
        39,
        Command::Attach {
            connection: 3,
            user: CREATOR,
            name: "Creator".to_owned(),
            monitor: false,
        },
    );
    assert_eq!(session.core.on_time(session.at(45)), None);
    session.run_at(50, Command::Detach { connection: 3 });
    assert_eq!(session.core.on_time(session.at(79)), None);
    assert_eq!(
        session.core.on_time(session.at(80)),
        Some(Outcome::Ended(SessionEnd::CreatorGone))
    );
    assert_eq!(
        session.view.borrow().phase,
        Phase::Ended(SessionEnd::CreatorGone)
    );
    assert!(session.shell_closed());
}

#[test]
fn the_window_warns_before_its_end_an_extension_takes_the_warning_back_and_the_end_ends_it() {
    let mut session = session(false);
    let end = session.wall + TimeDelta::minutes(10);
    let window = SessionWindow {
        start: session.wall,
        end,
    };
    session.run(Command::SetWindow(window));
    assert_eq!(session.panel().ends_at, Some(end.to_rfc3339()));
    // The wall clock is read at least once a second while a window is set.
    assert_eq!(
        session.core.next_deadline(session.at(0)),
        Some(session.at(1).instant)
    );
    assert_eq!(session.core.on_time(session.at(299)), None);
    assert!(!session.panel().ending_soon);
    assert_eq!(session.core.on_time(session.at(300)), None);
    assert!(session.panel().ending_soon);

    let extended = SessionWindow {
        start: session.wall,
        end: end + TimeDelta::minutes(10),
    };
    session.run_at(301, Command::SetWindow(extended));
    assert!(!session.panel().ending_soon);
    assert_eq!(session.core.on_time(session.at(900)), None);
    assert!(session.panel().ending_soon);
    assert_eq!(
        session.core.on_time(session.at(1200)),
        Some(Outcome::Ended(SessionEnd::WindowOver))
    );
}

#[test]
fn after_the_end_every_command_changes_nothing_and_the_end_comes_once() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    session.end(SessionEnd::ClosedByCreator);
    session.markers();
    for command in [
        Command::End(SessionEnd::ShellExited),
        Command::Enter {
            user: ALICE,
            name: "Alice".to_owned(),
            member: false,
        },
        Command::Input {
            connection: 1,
            bytes: b"ls".to_vec(),
        },
        Command::Mark("too late".to_owned()),
        Command::Detach { connection: 1 },
    ] {
        let (reply, outcome) = session.core.handle(command, session.at(1));
        assert_eq!((reply, outcome), (Reply::Done(false), None));
    }
    assert_eq!(session.core.on_time(session.at(10_000)), None);
    assert!(session.markers().is_empty());
    assert_eq!(session.typed(), Vec::<String>::new());
    assert_eq!(
        session.view.borrow().phase,
        Phase::Ended(SessionEnd::ClosedByCreator)
    );
}

#[test]
fn keystrokes_typed_while_connecting_wait_for_the_shell_in_order() {
    let (shell_in, mut shell) = mpsc::unbounded_channel();
    let (recorder, _, _recording) = Recorder::channel();
    let now = Instant::now();
    let mut core = Core::new(
        (CREATOR, "Creator".to_owned()),
        TIMING,
        Outputs::new(shell_in, recorder),
        now,
        false,
    );
    let at = Now {
        instant: now,
        wall: Utc::now(),
    };
    let attach = Command::Attach {
        connection: 1,
        user: CREATOR,
        name: "Creator".to_owned(),
        monitor: false,
    };
    core.handle(attach, at);
    let resize = Command::Resize {
        connection: 1,
        cols: 100,
        rows: 30,
    };
    assert_eq!(core.handle(resize, at).0, Reply::Done(true));
    let input = Command::Input {
        connection: 1,
        bytes: b"ls\r".to_vec(),
    };
    assert_eq!(core.handle(input, at).0, Reply::Done(true));
    assert!(matches!(
        shell.try_recv(),
        Ok(ShellCommand::Resize(size)) if (size.cols(), size.rows()) == (100, 30)
    ));
    assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"ls\r"));
}

mod cooperation;
