//! The live session's rules, driven without a shell or a socket.

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
        ServerMsg::Event(ServerEvent::Left { message, may_enter_again: false }) if message.contains("cancelled")))
    );
    assert!(!session.input(ALICE, b"x".to_vec()));
    assert!(session.input(CREATOR, b"y".to_vec()));
    assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"y"));
    // A browser of Alice's that resynchronises now learns she is out.
    let again = decode(&session.resynchronise(ALICE).initial);
    assert!(matches!(
        &again[0],
        ServerMsg::Event(ServerEvent::Left {
            may_enter_again: false,
            ..
        })
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
    assert!(matches!(last, ServerMsg::Event(ServerEvent::Ended { code, .. }) if code == "S_200"));
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

/// A viewer that reads nothing holds nobody up: every frame is at once
/// available to a viewer that keeps reading, in order, and the keystrokes
/// of whoever has control still reach the shell. Output never waits on a
/// browser (it cannot: `output` is not async), whatever the stall.
#[test]
fn a_stalled_viewer_holds_nobody_up() {
    let (session, mut shell) = connected();
    session.set_shared(true);
    session.enter(ALICE, "Alice".to_owned());
    let mut stalled = session.attach(ALICE).unwrap();
    let mut reading = session.attach(CREATOR).unwrap();
    let frames = FRAME_BUFFER * 3;
    for n in 0..frames {
        session.output(format!("{n};").into_bytes());
        let mut seen = String::new();
        while let Ok(frame) = reading.frames.try_recv() {
            if let ServerMsg::Output(bytes) = ServerMsg::decode(&frame.bytes).unwrap() {
                seen.push_str(&String::from_utf8(bytes).unwrap());
            }
        }
        assert_eq!(seen, format!("{n};"), "frame {n} waits for no one");
    }
    assert!(session.input(CREATOR, b"echo ok\r".to_vec()));
    assert!(matches!(shell.try_recv(), Ok(ShellCommand::Input(bytes)) if bytes == b"echo ok\r"));
    // The stalled viewer only lost its place, and is told so.
    assert!(matches!(
        stalled.frames.try_recv(),
        Err(broadcast::error::TryRecvError::Lagged(_))
    ));
}

#[test]
fn the_registry_finds_each_live_session_by_id_until_it_is_removed() {
    let sessions = LiveSessions::default();
    let first = session();
    let (recorder, _recording) = Recorder::channel();
    let (second, _shell) = LiveSession::new(
        OmSessionId(2),
        (CREATOR, "Creator".to_owned()),
        TerminalSize::INITIAL,
        domain::REQUEST_TIMEOUT,
        recorder,
    );
    sessions.insert(first.clone());
    sessions.insert(second.clone());
    assert!(Arc::ptr_eq(&sessions.get(OmSessionId(1)).unwrap(), &first));
    assert!(Arc::ptr_eq(&sessions.get(OmSessionId(2)).unwrap(), &second));
    let mut ids: Vec<i64> = sessions.all().iter().map(|session| session.id.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2]);

    assert!(Arc::ptr_eq(
        &sessions.remove(OmSessionId(1)).unwrap(),
        &first
    ));
    assert!(sessions.get(OmSessionId(1)).is_none());
    assert!(sessions.remove(OmSessionId(1)).is_none());
    assert_eq!(sessions.all().len(), 1);
}
