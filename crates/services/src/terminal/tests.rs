//! Live sessions through their handles: a driver task, the screen task and
//! browsers reading the stream, with a shell played by the test.

use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use gateway::ShellEvent;

use super::screen::Screen;
use super::stream::KEPT_BYTES;
use super::*;

const CREATOR: UserId = UserId(7);
const ALICE: UserId = UserId(8);

/// Keeps the outcomes the driver settles, in order.
#[derive(Clone, Default)]
struct Settled(Arc<StdMutex<Vec<Outcome>>>);

impl Host for Settled {
    fn now(&self) -> Now {
        Now {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    async fn settle(&self, _: OmSessionId, _: UserId, outcome: Outcome) {
        self.0.lock().unwrap().push(outcome);
    }
}

struct Started {
    session: Arc<LiveSession>,
    shell: mpsc::Sender<ShellEvent>,
    commands: mpsc::UnboundedReceiver<ShellCommand>,
    settled: Settled,
}

/// A session whose shell has opened, with `ALICE` invited.
async fn started() -> Started {
    let settled = Settled::default();
    let (recorder, key_screens, _recording) = Recorder::channel();
    let start = Start {
        id: OmSessionId(1),
        creator: (CREATOR, "Creator".to_owned()),
        timing: Timing {
            request_timeout: domain::REQUEST_TIMEOUT,
            reconnect_grace: Duration::from_secs(60),
            panel_interval: PANEL_INTERVAL,
        },
        recorder,
        key_screens,
        window: None,
        awaits_creator: false,
    };
    let (session, ends) = LiveSession::start(start, settled.clone());
    let (shell, events) = mpsc::channel(16);
    ends.opened.send(Ok(events)).unwrap();
    assert!(session.enter(ALICE, "Alice".to_owned()).await);
    Started {
        session,
        shell,
        commands: ends.commands,
        settled,
    }
}

impl Started {
    async fn print(&self, bytes: &[u8]) {
        let output = ShellEvent::Output(bytes.to_vec());
        self.shell.send(output).await.unwrap();
    }

    async fn attach(&self, user: UserId) -> Attachment {
        let name = format!("user {}", user.0);
        self.session.attach(user, name, false).await.unwrap()
    }
}

/// What one browser shows, replayed from the frames it was sent, and how
/// much of the session's output that is, as the page counts it.
struct Browser {
    screen: Screen,
    messages: Vec<ServerMsg>,
    offset: u64,
    /// The next output is the screen after a Reset, not the session's.
    redrawing: bool,
}

impl Browser {
    fn new() -> Self {
        Self {
            screen: Screen::new(TerminalSize::INITIAL),
            messages: Vec::new(),
            offset: 0,
            redrawing: false,
        }
    }

    fn show(&mut self, frames: Vec<Frame>) {
        for frame in frames {
            let message = ServerMsg::decode(&frame.bytes).unwrap();
            match &message {
                ServerMsg::Output(bytes) => {
                    self.screen.output(bytes);
                    match self.redrawing {
                        true => self.redrawing = false,
                        false => self.offset += bytes.len() as u64,
                    }
                }
                ServerMsg::Event(ServerEvent::Reset { cols, rows, offset }) => {
                    self.screen = Screen::new(TerminalSize::from_client(*cols, *rows).unwrap());
                    (self.offset, self.redrawing) = (*offset, true);
                }
                ServerMsg::Event(ServerEvent::Resized { cols, rows }) => {
                    self.screen
                        .resize(TerminalSize::from_client(*cols, *rows).unwrap());
                }
                ServerMsg::Event(_) => {}
            }
            self.messages.push(message);
        }
    }

    /// Reads from `attachment` until `done` holds of this browser.
    async fn read_until(&mut self, attachment: &mut Attachment, done: impl Fn(&Self) -> bool) {
        let reading = async {
            while !done(self) {
                match attachment.next().await {
                    Some(frames) => self.show(frames),
                    None => return,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), reading)
            .await
            .expect("the browser did not get there");
    }

    fn line(&self, row: usize) -> String {
        self.screen.text()[row].trim_end().to_owned()
    }

    fn ended(&self) -> bool {
        self.messages
            .iter()
            .any(|message| matches!(message, ServerMsg::Event(ServerEvent::Ended { .. })))
    }
}

#[tokio::test]
async fn a_late_joiner_gets_the_screen_as_it_stands_then_the_stream() {
    let session = started().await;
    session.print(b"hello\r\nworld").await;
    let mut creator = session.attach(CREATOR).await;
    let mut browser = Browser::new();
    browser
        .read_until(&mut creator, |browser| browser.line(1) == "world")
        .await;
    assert_eq!(
        browser.messages[0],
        ServerMsg::Event(ServerEvent::Connected)
    );
    assert_eq!(browser.line(0), "hello");

    let mut alice = session.attach(ALICE).await;
    let mut late = Browser::new();
    late.read_until(&mut alice, |browser| browser.line(1) == "world")
        .await;
    session.print(b"!").await;
    late.read_until(&mut alice, |browser| browser.line(1) == "world!")
        .await;
    assert_eq!(late.line(0), "hello");
}

#[tokio::test]
async fn a_late_joiner_inside_a_full_screen_program_sees_the_shell_again_when_it_exits() {
    let session = started().await;
    session.print(b"$ vim notes\r\n").await;
    session.print(b"\x1b[?1049h\x1b[H\x1b[2J~ editing").await;
    let mut alice = session.attach(ALICE).await;
    let mut browser = Browser::new();
    browser
        .read_until(&mut alice, |browser| browser.line(0) == "~ editing")
        .await;
    session.print(b"\x1b[?1049l$ ").await;
    browser
        .read_until(&mut alice, |browser| browser.line(0) == "$ vim notes")
        .await;
    assert_eq!(browser.line(1), "$");
}

/// Browsers that join at every point of a session that switches screens,
/// resizes and colours its text end up with the very screen (contents,
/// cursors, modes) of one that watched from the start.
#[tokio::test]
async fn a_snapshot_and_the_entries_after_it_reproduce_the_screen_exactly() {
    let session = started().await;
    let mut creator = session.attach(CREATOR).await;
    let mut watcher = Browser::new();
    let script: [&[u8]; 8] = [
        b"$ ls\r\n\x1b[1;31mred\x1b[0m plain\r\n",
        b"\x1b[?1049h\x1b[H\x1b[2J\x1b[7mtop\x1b[0m",
        b"\x1b[5;3Hmiddle \xe2\x94",
        b"\x80 box\x1b7\x1b[10;1H",
        b"\x1b[?1049l$ after vim",
        b"\r\n\x1b[?25l",
        b"\x1b[2;5r\x1b[3Hin region",
        b"\x1b[r\x1b[?25h$ done",
    ];
    let mut joiners = Vec::new();
    for (step, chunk) in script.iter().enumerate() {
        session.print(chunk).await;
        if step == 3 {
            let size = TerminalSize::from_client(100, 30).unwrap();
            creator.resize(size);
        }
        joiners.push((session.attach(ALICE).await, Browser::new()));
    }
    session.print(b"\x00end").await;
    let at_end = |browser: &Browser| {
        browser
            .screen
            .text()
            .iter()
            .any(|line| line.contains("end"))
    };
    watcher.read_until(&mut creator, at_end).await;
    assert_eq!(
        watcher.screen.size(),
        TerminalSize::from_client(100, 30).unwrap()
    );
    for (attachment, browser) in &mut joiners {
        browser.read_until(attachment, at_end).await;
        assert_eq!(browser.screen.snapshot(), watcher.screen.snapshot());
    }
}

#[tokio::test]
async fn a_stalled_browser_holds_nobody_up_and_is_redrawn_when_it_reads_again() {
    let mut session = started().await;
    let mut creator = session.attach(CREATOR).await;
    let mut stalled = session.attach(ALICE).await;
    let mut reading = Browser::new();
    let line = format!("{}\r\n", "x".repeat(1000));
    let lines = 3 * KEPT_BYTES / line.len();
    for n in 0..lines {
        session.print(line.as_bytes()).await;
        if n % 100 == 0 {
            creator.input(format!("echo {n}\r").into_bytes());
        }
    }
    session.print(b"last").await;
    reading
        .read_until(&mut creator, |browser| browser.line(23) == "last")
        .await;
    // Keystrokes reached the shell all along.
    let mut typed = 0;
    while let Ok(ShellCommand::Input(_)) = session.commands.try_recv() {
        typed += 1;
    }
    assert_eq!(typed, lines.div_ceil(100));
    // The stalled browser lost its place in the stream: it is sent the
    // screen afresh, not the megabytes it missed.
    let mut late = Browser::new();
    late.read_until(&mut stalled, |browser| browser.line(23) == "last")
        .await;
    let output: usize = late
        .messages
        .iter()
        .map(|message| match message {
            ServerMsg::Output(bytes) => bytes.len(),
            ServerMsg::Event(_) => 0,
        })
        .sum();
    assert!(output < 2 * KEPT_BYTES, "{output} bytes sent");
    assert!(
        late.messages
            .iter()
            .any(|message| matches!(message, ServerMsg::Event(ServerEvent::Reset { .. })))
    );
    assert_eq!(late.screen.snapshot(), reading.screen.snapshot());
}

#[tokio::test]
async fn the_end_follows_all_output_and_ends_every_browser_once_it_is_settled() {
    let session = started().await;
    let mut creator = session.attach(CREATOR).await;
    session.print(b"bye").await;
    assert!(session.session.end(SessionEnd::ClosedByCreator).await);
    // Settled before the answer came.
    assert_eq!(
        *session.settled.0.lock().unwrap(),
        [Outcome::Ended(SessionEnd::ClosedByCreator)]
    );
    assert!(!session.session.end(SessionEnd::ShellExited).await);
    let mut browser = Browser::new();
    browser.read_until(&mut creator, Browser::ended).await;
    assert_eq!(browser.line(0), "bye");
    assert!(matches!(browser.messages.last(),
        Some(ServerMsg::Event(ServerEvent::Ended { code, .. })) if code == "S_200"));
    assert!(creator.next().await.is_none());
    assert!(session.session.has_ended());
    assert!(
        session
            .session
            .attach(CREATOR, "Creator".to_owned(), false)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_shell_closing_ends_the_session_with_its_reason() {
    let session = started().await;
    let mut creator = session.attach(CREATOR).await;
    session
        .shell
        .send(ShellEvent::Closed(Some(SessionEnd::ShellExited)))
        .await
        .unwrap();
    let mut browser = Browser::new();
    browser.read_until(&mut creator, Browser::ended).await;
    assert_eq!(
        *session.settled.0.lock().unwrap(),
        [Outcome::Ended(SessionEnd::ShellExited)]
    );
}

/// Waits until the published panel satisfies `wanted`.
async fn panel_where(session: &LiveSession, wanted: impl Fn(&protocol::Panel) -> bool) {
    let mut panel = session.panel.clone();
    let waiting = async {
        loop {
            let frame = panel.borrow_and_update().frame.clone();
            if let Ok(ServerMsg::Event(ServerEvent::Panel(panel))) = ServerMsg::decode(&frame)
                && wanted(&panel)
            {
                return;
            }
            panel.changed().await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the panel never showed it");
}

#[tokio::test]
async fn dropping_an_attachment_detaches_its_browser() {
    let session = started().await;
    let _creator = session.attach(CREATOR).await;
    let alice = session.attach(ALICE).await;
    let alice_online = |online: bool| {
        move |panel: &protocol::Panel| {
            panel
                .participants
                .iter()
                .any(|p| p.id == ALICE.0 && p.online == online)
        }
    };
    panel_where(&session.session, alice_online(true)).await;
    drop(alice);
    panel_where(&session.session, alice_online(false)).await;
}

#[tokio::test]
async fn when_only_the_number_of_a_crowd_changes_browsers_are_sent_the_number() {
    let session = started().await;
    let crowd = protocol::PANEL_LISTED as i64;
    for id in 100..100 + crowd {
        session
            .session
            .enter(UserId(id), format!("guest {id}"))
            .await;
    }
    let mut creator = session.attach(CREATOR).await;
    let mut browser = Browser::new();
    let panel_count = |browser: &Browser| {
        browser
            .messages
            .iter()
            .rev()
            .find_map(|message| match message {
                ServerMsg::Event(ServerEvent::Panel(panel)) => Some(panel.participant_count),
                _ => None,
            })
    };
    // The creator, Alice and the guests.
    let everyone = crowd as u32 + 2;
    browser
        .read_until(&mut creator, |browser| {
            panel_count(browser) == Some(everyone)
        })
        .await;
    let sent = browser.messages.len();
    session.session.enter(UserId(99), "late".to_owned()).await;
    let counted = |browser: &Browser| {
        browser.messages.iter().any(|message| {
            matches!(message, ServerMsg::Event(ServerEvent::ParticipantCount { count })
                if *count == everyone + 1)
        })
    };
    browser.read_until(&mut creator, counted).await;
    let panels = browser.messages[sent..]
        .iter()
        .filter(|message| matches!(message, ServerMsg::Event(ServerEvent::Panel(_))))
        .count();
    assert_eq!(panels, 0, "the listed participants did not change");
}

#[tokio::test]
async fn the_registry_finds_each_live_session_by_id_until_it_is_removed() {
    let sessions = LiveSessions::default();
    let first = started().await.session;
    sessions.insert(first.clone());
    assert!(Arc::ptr_eq(&sessions.get(OmSessionId(1)).unwrap(), &first));
    assert_eq!(sessions.all().len(), 1);
    assert!(Arc::ptr_eq(
        &sessions.remove(OmSessionId(1)).unwrap(),
        &first
    ));
    assert!(sessions.get(OmSessionId(1)).is_none());
    assert!(sessions.remove(OmSessionId(1)).is_none());
    assert!(sessions.all().is_empty());
}

#[tokio::test]
async fn a_browser_that_reconnects_within_the_kept_output_gets_what_follows_without_a_redraw() {
    let session = started().await;
    session.print(b"one\r\n").await;
    let mut first = session.attach(CREATOR).await;
    let mut browser = Browser::new();
    browser
        .read_until(&mut first, |browser| browser.line(0) == "one")
        .await;
    assert_eq!(browser.offset, 5);
    drop(first);
    session.print(b"two\r\n").await;

    let mut again = session.attach(CREATOR).await;
    again.begin(Some(browser.offset)).await;
    let sent = browser.messages.len();
    browser
        .read_until(&mut again, |browser| browser.line(1) == "two")
        .await;
    let resent = &browser.messages[sent..];
    assert!(
        resent
            .iter()
            .all(|message| !matches!(message, ServerMsg::Event(ServerEvent::Reset { .. }))),
        "{resent:?}"
    );
    assert!(resent.contains(&ServerMsg::Output(b"two\r\n".to_vec())));
    assert!(!resent.contains(&ServerMsg::Output(b"one\r\n".to_vec())));
    assert_eq!(browser.offset, 10);

    // An offset the session never reached is redrawn, as is one it no
    // longer keeps.
    let mut lost = session.attach(CREATOR).await;
    lost.begin(Some(1 << 40)).await;
    let mut redrawn = Browser::new();
    redrawn
        .read_until(&mut lost, |browser| browser.line(1) == "two")
        .await;
    assert!(redrawn.messages.iter().any(|message| matches!(
        message,
        ServerMsg::Event(ServerEvent::Reset { offset: 10, .. })
    )));
    assert_eq!(redrawn.offset, 10);
}
