//! The driver's sharing rules: control changing hands, invited users and
//! members forced out, monitors, and the panel a crowd is shown.

use super::*;

#[test]
fn control_changes_reach_the_panel_and_their_outcomes_reach_the_requester() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    session.enter(ALICE, "Alice");
    session.attach(2, ALICE, false);
    assert_eq!(
        session.run(Command::RequestControl(ALICE)),
        Reply::Control(Ok(()))
    );
    let panel = session.panel();
    assert_eq!(panel.requests, [ALICE.0]);
    assert_eq!(panel.name_of(ALICE.0), "Alice");
    assert!(panel.participants.iter().all(|p| p.online));
    assert_eq!(
        session.run(Command::RequestControl(ALICE)),
        Reply::Control(Err(ControlError::AlreadyRequested))
    );

    let refuse = Command::Refuse {
        answerer: CREATOR,
        requester: ALICE,
    };
    assert_eq!(session.run(refuse), Reply::Control(Ok(())));
    assert!(session.panel().requests.is_empty());
    assert!(session.told(CREATOR).is_empty(), "the refusal is Alice's");
    session.run(Command::RequestControl(ALICE));
    assert!(matches!(&session.told(ALICE)[..],
        [ServerEvent::Notice { message }] if message.contains("refused")));
    // The creator takes control back from whoever has it.
    session.run(Command::Agree {
        answerer: CREATOR,
        requester: ALICE,
    });
    assert_eq!(session.panel().controller, ALICE.0);
    session.run(Command::TakeBack(CREATOR));
    assert_eq!(session.panel().controller, CREATOR.0);
    let told = session.told(ALICE);
    assert!(matches!(told.last(),
        Some(ServerEvent::Notice { message }) if message.contains("took control back")));
}

#[test]
fn cancel_share_forces_invited_users_out_and_keeps_the_creator_and_members() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    session.enter(ALICE, "Alice");
    session.run(Command::Enter {
        user: ROOT,
        name: "Root".to_owned(),
        member: true,
    });
    session.attach(2, ALICE, false);
    session.run(Command::RequestControl(ALICE));
    session.run(Command::Agree {
        answerer: CREATOR,
        requester: ALICE,
    });
    session.told(ALICE);
    assert_eq!(
        session.run(Command::CancelShare),
        Reply::ForcedOut(vec![ALICE])
    );
    assert!(matches!(&session.told(ALICE)[..],
        [ServerEvent::Left { message, may_enter_again: false }] if message.contains("cancelled")));
    assert_eq!(session.input(2, "x"), Reply::Done(false));
    assert_eq!(session.input(1, "y"), Reply::Done(true));
    assert!(session.view.borrow().is_in(ROOT));
    assert!(!session.view.borrow().is_in(ALICE));
    // Removed by name, Root is out too.
    assert_eq!(session.run(Command::RemoveMember(ROOT)), Reply::Done(true));
    assert!(matches!(
        &session.told(ROOT)[..],
        [ServerEvent::Left {
            may_enter_again: false,
            ..
        }]
    ));
    assert_eq!(session.run(Command::RemoveMember(ROOT)), Reply::Done(false));
}

#[test]
fn an_invited_controller_who_drops_returns_control_to_the_creator_and_stays_in() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    session.enter(ALICE, "Alice");
    session.attach(2, ALICE, false);
    session.run(Command::RequestControl(ALICE));
    session.run(Command::Agree {
        answerer: CREATOR,
        requester: ALICE,
    });
    session.run(Command::Detach { connection: 2 });
    assert_eq!(session.panel().controller, CREATOR.0);
    assert!(!session.panel().participants[1].online);
    assert_eq!(session.attach(3, ALICE, false), attached(false));
    assert_eq!(session.input(3, "x"), Reply::Done(false));
}

#[test]
fn a_monitor_watches_named_in_the_panel_until_their_last_socket_and_never_types() {
    let mut session = session(false);
    session.attach(1, CREATOR, false);
    session.markers();
    session.attach(2, ROOT, true);
    session.attach(3, ROOT, true);
    assert_eq!(session.panel().monitors, ["user 9"]);
    assert!(session.panel().participants.iter().all(|p| p.id != ROOT.0));
    assert_eq!(session.input(2, "rm -rf /\r"), Reply::Done(false));
    let resize = Command::Resize {
        connection: 2,
        cols: 100,
        rows: 40,
    };
    assert_eq!(session.run(resize), Reply::Done(false));
    assert_eq!(
        session.run(Command::RequestControl(ROOT)),
        Reply::Control(Err(ControlError::NotInSession))
    );
    session.run(Command::Detach { connection: 2 });
    assert_eq!(session.panel().monitors, ["user 9"], "one socket is left");
    session.run(Command::Detach { connection: 3 });
    assert!(session.panel().monitors.is_empty());
    session.run(Command::Mark("terminated by Root".to_owned()));
    session.end(SessionEnd::TerminatedByAdmin);
    let markers: Vec<String> = session
        .markers()
        .into_iter()
        .filter(|(code, _)| *code == 'm')
        .map(|(_, label)| label)
        .collect();
    assert_eq!(
        markers,
        [
            "user 9 started monitoring",
            "user 9 stopped monitoring",
            "terminated by Root",
            "session ended (S_451)"
        ]
    );
    assert_eq!(session.typed(), Vec::<String>::new());
}

#[test]
fn a_crowd_is_counted_and_the_panel_lists_the_creator_the_controller_and_requesters_first() {
    let mut session = session(false);
    let crowd = protocol::PANEL_LISTED as i64 + 10;
    for id in 100..100 + crowd {
        session.enter(UserId(id), &format!("guest {id}"));
    }
    let last = UserId(99 + crowd);
    session.attach(1, last, false);
    session.run(Command::RequestControl(last));
    let panel = session.panel();
    assert_eq!(panel.participant_count, crowd as u32 + 1);
    assert_eq!(panel.participants.len(), protocol::PANEL_LISTED);
    let listed: Vec<i64> = panel.participants.iter().map(|p| p.id).collect();
    assert_eq!(&listed[..3], [CREATOR.0, last.0, 100]);
    assert_eq!(panel.name_of(last.0), format!("guest {}", last.0));
    // Everyone is still in, listed or not.
    assert!(session.view.borrow().is_in(UserId(120)));
}

#[test]
fn while_the_panel_keeps_changing_it_is_published_once_per_interval_with_the_latest() {
    let timing = Timing {
        panel_interval: Duration::from_millis(100),
        ..TIMING
    };
    let mut session = session_with(timing, false);
    let published = |session: &Session| session.panel.borrow().frame.clone();
    session.run_at(1, Command::Shared(true));
    assert!(
        session.panel().shared,
        "a change after a quiet interval goes out at once"
    );
    let first = published(&session);
    // A crowd enters within the interval: one panel follows, at its end.
    for id in 100..110 {
        let name = "guest".to_owned();
        let member = false;
        let user = UserId(id);
        session.run_at(1, Command::Enter { user, name, member });
    }
    assert_eq!(published(&session), first);
    let due = session.core.next_deadline(session.at(1)).unwrap();
    assert_eq!(due, session.at(1).instant + Duration::from_millis(100));
    // Who is in is known at once, whatever the panel shows.
    assert!(session.view.borrow().is_in(UserId(109)));
    let later = Now {
        instant: due,
        wall: session.wall,
    };
    assert_eq!(session.core.on_time(later), None);
    assert_eq!(session.panel().participant_count, 11);
    assert_eq!(session.core.next_deadline(later), None);
}
