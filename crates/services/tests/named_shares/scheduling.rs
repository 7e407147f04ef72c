//! Scheduling a session, sharing it by name, and what only its owner may do.

use super::*;

#[tokio::test]
async fn a_scheduled_session_shared_by_name_goes_live_for_the_added_user() {
    let f = Fixture::start().await;
    let services = &f.services;
    let start = Utc::now() + Duration::seconds(3);
    let id = f.schedule("Fix nginx", start, Duration::minutes(30)).await;

    let mine = services.my_sessions(&f.owner).await.unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let row = &mine[0];
    assert_eq!(
        (row.id, row.status, row.title.as_str(), row.viewer_is_owner),
        (id, SessionStatus::Scheduled, "Fix nginx", true)
    );
    assert_eq!(
        (row.host_name.as_str(), row.login.as_str()),
        ("web-1", TEST_USER)
    );
    assert_eq!(row.owner, "olivia");
    assert_eq!(time(&row.start), start);
    assert_eq!(
        time(row.end.as_deref().unwrap()),
        start + Duration::minutes(30)
    );
    assert!(row.members.is_empty() && row.failure.is_none());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    // Nothing runs yet, so there is nothing to View.
    assert!(matches!(
        services.view_session(&f.owner, id, LOCALHOST).await,
        Err(ServiceError::NotFound("live session"))
    ));

    // Peter holds a grant in the project: no Session Use, no password.
    let note = "Please look at the error log with me.";
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], note))
        .await
        .unwrap();
    let members = &services.my_sessions(&f.owner).await.unwrap()[0].members;
    assert_eq!(
        members,
        &[MemberRecord {
            user: f.peter.id,
            username: "peter".to_owned(),
            display_name: "Peter Parker".to_owned(),
        }]
    );
    let shared = services.my_sessions(&f.peter).await.unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    let row = &shared[0];
    assert_eq!(
        (row.id, row.status, row.title.as_str(), row.viewer_is_owner),
        (
            id,
            SessionStatus::Scheduled,
            "Fix nginx (shared by olivia)",
            false
        )
    );
    assert_eq!(row.owner, "olivia");
    assert!(row.members.is_empty(), "only the owner sees who else is in");
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 1);
    assert_eq!(
        notes[0].text,
        "olivia shared the session Fix nginx with you."
    );
    assert_eq!(
        (notes[0].link.as_str(), notes[0].read),
        ("/my-sessions", false)
    );
    // The session page opens for him before the start, too.
    let record = services.session_record(&f.peter, id).await.unwrap();
    assert_eq!(
        (record.title.as_str(), record.viewer_is_creator),
        ("Fix nginx", false)
    );
    assert!(
        Utc::now() < start,
        "the setup took longer than the 3 s before the start; the test proves nothing"
    );

    // The clock opens the shell at the start, not before.
    let active_at = eventually("the clock to start the session", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        (rows[0].status == SessionStatus::Active).then(Utc::now)
    })
    .await;
    assert!(active_at >= start, "active at {active_at}, before {start}");
    assert_eq!(
        services.my_sessions(&f.peter).await.unwrap()[0].status,
        SessionStatus::Active
    );
    let notes = eventually("the notification that it is active", async || {
        let (notes, unread) = services.notifications(&f.peter).await.unwrap();
        (unread == 2).then_some(notes)
    })
    .await;
    assert_eq!(
        notes[0].text,
        "Fix nginx (olivia) is active: View it on My Sessions."
    );
    services.mark_notifications_read(&f.peter).await.unwrap();
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 0);
    assert!(notes.iter().all(|note| note.read));

    let mut olivia = Viewer::attach(services, &f.owner, id).await;
    // Peter is not in until he Views it; then he is a participant.
    assert!(matches!(
        services.attach_terminal(&f.peter, id).await,
        Err(ServiceError::Forbidden)
    ));
    services
        .view_session(&f.peter, id, LOCALHOST)
        .await
        .unwrap();
    let mut peter = Viewer::attach(services, &f.peter, id).await;
    let panel = peter
        .wait_for_panel("peter is in", |panel| {
            participant_ids(panel) == [f.owner.id.0, f.peter.id.0]
        })
        .await;
    assert_eq!(panel.creator, f.owner.id.0);
    assert_eq!(
        time(panel.ends_at.as_deref().unwrap()),
        start + Duration::minutes(30)
    );
    assert!(!panel.ending_soon, "30 minutes are left");
    let joined = f.audit_of_session(id, AuditKind::Joined).await;
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!(
        (joined[0].actor.as_str(), joined[0].detail.as_str()),
        ("peter", "named share")
    );

    // He sees what the owner types, live, from the real shell.
    olivia.type_text("echo shared-$((6*7))\r");
    peter.wait_for_output("shared-42").await;
    // He works in it as the owner does once given control.
    // Not yet: without control his keystrokes go nowhere.
    peter.type_text("echo not-$((3+4))\r");
    services.request_control(&f.peter, id).await.unwrap();
    services
        .answer_control_request(&f.owner, id, f.peter.id, true)
        .await
        .unwrap();
    peter.type_text("echo member-$((2+3))\r");
    olivia.wait_for_output("member-5").await;
    peter.wait_for_output("member-5").await;
    // Keystrokes reach the host in order: his first ones would show first.
    assert!(!olivia.output.contains("not-7"), "{}", olivia.output);

    // Cancelling an invitation forces out who came in through it, not
    // who the owner added by name.
    let ivan = user(services, "ivan", "Ivan Invited", Some(f.account)).await;
    let validity = domain::ShareValidity::TenMinutes;
    let invitation = services
        .create_share(&f.owner, id, validity, None)
        .await
        .unwrap();
    let entered = services
        .enter_share(&ivan, &invitation.code, "", LOCALHOST)
        .await
        .unwrap();
    assert_eq!(entered, id);
    peter
        .wait_for_panel("ivan came in", |panel| {
            participant_ids(panel) == [f.owner.id.0, f.peter.id.0, ivan.id.0]
        })
        .await;
    services.cancel_share(&f.owner, id).await.unwrap();
    let panel = peter
        .wait_for_panel("the invitation is closed", |panel| !panel.shared)
        .await;
    assert_eq!(participant_ids(&panel), [f.owner.id.0, f.peter.id.0]);
    assert_eq!(panel.controller, f.peter.id.0);
    peter.type_text("echo still-$((1+1))in\r");
    peter.wait_for_output("still-2in").await;
}

#[tokio::test]
async fn only_the_owner_extends_stops_cancels_or_shares_a_session() {
    // Five minutes, the shortest window: the clock warns at once.
    let f = Fixture::start_with(|config| {
        config.session_length = std::time::Duration::from_secs(5 * 60);
    })
    .await;
    let services = &f.services;
    let before = Utc::now();
    let id = services.start_session(&f.owner, f.account).await.unwrap();
    let row = services.my_sessions(&f.owner).await.unwrap().remove(0);
    assert_eq!((row.id, row.status), (id, SessionStatus::Active));
    assert_eq!(row.title, format!("{TEST_USER}@web-1"));
    let (start, end) = (time(&row.start), time(row.end.as_deref().unwrap()));
    assert!(start >= before && start <= Utc::now());
    assert_eq!(end - start, Duration::minutes(5));

    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    services
        .view_session(&f.peter, id, LOCALHOST)
        .await
        .unwrap();
    let mut peter = Viewer::attach(services, &f.peter, id).await;
    let warned = peter
        .wait_for_panel("the end is near", |panel| panel.ending_soon)
        .await;
    assert_eq!(time(warned.ends_at.as_deref().unwrap()), end);

    // Peter may view it, but none of the owner's actions are his.
    let by = Duration::minutes(30);
    let refusals = [
        services.extend_session(&f.peter, id, by).await,
        services.stop_session(&f.peter, id).await,
        services.cancel_session(&f.peter, id).await,
        services
            .share_with_users(&f.peter, id, Fixture::share(&[&f.nora], ""))
            .await,
        services
            .search_users(&f.peter, id, "", None)
            .await
            .map(|_| ()),
        services.remove_member(&f.peter, id, f.peter.id).await,
    ];
    for refusal in refusals {
        assert!(
            matches!(refusal, Err(ServiceError::NotCreator)),
            "{refusal:?}"
        );
    }
    let denied = f
        .audit(AuditQuery {
            user: Some("peter".to_owned()),
            kind: Some(AuditKind::AccessDenied),
            ..AuditQuery::default()
        })
        .await;
    assert_eq!(denied.len(), 6, "{denied:?}");
    for row in &denied {
        assert_eq!(row.object, format!("session:{id}"));
        assert_eq!(row.outcome, AuditOutcome::Denied);
    }
    assert!(services.session_record(&f.peter, id).await.is_ok());
    let row = services.my_sessions(&f.peter).await.unwrap().remove(0);
    assert_eq!(
        (row.status, time(row.end.as_deref().unwrap())),
        (SessionStatus::Active, end)
    );
    let members = &services.my_sessions(&f.owner).await.unwrap()[0].members;
    assert_eq!(members.len(), 1);

    // The owner: an active session is stopped, not cancelled, and is
    // extended within a day in all.
    assert!(matches!(
        services.cancel_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
    for too_short_or_long in [Duration::zero(), Duration::hours(24)] {
        match services
            .extend_session(&f.owner, id, too_short_or_long)
            .await
        {
            Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "by"),
            other => panic!("extending by {too_short_or_long}: {other:?}"),
        }
    }
    services.extend_session(&f.owner, id, by).await.unwrap();
    for actor in [&f.owner, &f.peter] {
        let row = services.my_sessions(actor).await.unwrap().remove(0);
        assert_eq!(
            time(row.end.as_deref().unwrap()),
            end + by,
            "{}",
            actor.username
        );
    }
    let extended = peter
        .wait_for_panel("the new end is shown", |panel| {
            panel.ends_at.as_deref().map(time) == Some(end + by)
        })
        .await;
    assert!(!extended.ending_soon, "35 minutes are left now");
    let audited = f.audit_of_session(id, AuditKind::SessionExtended).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(time(&audited[0].detail), end + by);
    // That the driver does not warn again after an extension, with the
    // time passed in, is a unit test of the driver.

    // Stop ends it for everyone and takes it off every My Sessions.
    services.stop_session(&f.owner, id).await.unwrap();
    let ended = peter
        .wait_for_event(|event| matches!(event, ServerEvent::Ended { .. }))
        .await;
    assert!(matches!(ended, ServerEvent::Ended { code, .. } if code == "S_200"));
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    let record = services.session_record(&f.owner, id).await.unwrap();
    assert_eq!(record.ended.unwrap().0, "S_200");
    for again in [
        services.stop_session(&f.owner, id).await,
        services.extend_session(&f.owner, id, by).await,
        services
            .share_with_users(&f.owner, id, Fixture::share(&[&f.nora], ""))
            .await,
    ] {
        assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");
    }
}

#[tokio::test]
async fn a_cancelled_session_never_starts_and_an_active_one_cannot_be_cancelled() {
    let f = Fixture::start().await;
    let services = &f.services;
    let start = Utc::now() + Duration::seconds(2);
    let id = f
        .schedule("Patch kernel", start, Duration::minutes(5))
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    // Stop is for active sessions.
    assert!(matches!(
        services.stop_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
    services.cancel_session(&f.owner, id).await.unwrap();
    assert!(
        Utc::now() < start,
        "cancelled after the start; the test proves nothing"
    );
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    let (notes, _) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(notes[0].text, "Patch kernel (olivia) was cancelled.");
    assert_eq!(
        f.audit_of_session(id, AuditKind::SessionCancelled)
            .await
            .len(),
        1
    );
    assert!(matches!(
        services.cancel_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));

    // Once the clock has started a session scheduled a second later, it
    // has been past this one's start: still, this one has not started.
    let witness = f
        .schedule(
            "Witness",
            start + Duration::seconds(1),
            Duration::minutes(5),
        )
        .await;
    eventually("the clock to start the witness", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        rows.into_iter()
            .find(|row| row.id == witness && row.status == SessionStatus::Active)
    })
    .await;
    let rows = services.my_sessions(&f.owner).await.unwrap();
    assert_eq!(rows.iter().map(|row| row.id).collect::<Vec<_>>(), [witness]);
    assert!(matches!(
        services.attach_terminal(&f.owner, id).await,
        Err(ServiceError::NotFound("live session"))
    ));
    assert!(
        f.audit_of_session(id, AuditKind::SessionStarted)
            .await
            .is_empty()
    );
    let (notes, _) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(
        notes.len(),
        2,
        "shared and cancelled, never active: {notes:?}"
    );

    // An active session is stopped, not cancelled.
    let active = services.start_session(&f.owner, f.account).await.unwrap();
    match services.cancel_session(&f.owner, active).await {
        Err(ServiceError::Conflict(message)) => {
            assert_eq!(message, "the session is active, so it cannot be cancelled")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        services.my_sessions(&f.owner).await.unwrap()[0].status,
        SessionStatus::Active
    );
}

/// The clock's other end: a scheduled session whose whole window passed
/// while Tandem was not running ends without starting (S_410). The window
/// cannot be shorter than five minutes, so instead of waiting the test
/// moves the stored window into the past, as a long outage would have.
#[tokio::test]
async fn a_scheduled_session_whose_window_passed_ends_without_starting() {
    use db::entities::om_session;
    use db::sea_orm::{ActiveModelTrait, ActiveValue::Set, Database};

    let f = Fixture::start().await;
    let services = &f.services;
    let id = f
        .schedule(
            "Missed",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], ""))
        .await
        .unwrap();
    let database = Database::connect(services.config().database_url())
        .await
        .unwrap();
    let now = Utc::now();
    om_session::ActiveModel {
        id: Set(id.0),
        started_at: Set(now - Duration::hours(2)),
        ends_at: Set(Some(now - Duration::hours(1))),
        ..Default::default()
    }
    .update(&database)
    .await
    .unwrap();

    let ended = eventually("the clock to end the session", async || {
        services.session_record(&f.owner, id).await.unwrap().ended
    })
    .await;
    assert_eq!(ended.0, "S_410");
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    assert!(services.my_sessions(&f.peter).await.unwrap().is_empty());
    assert!(matches!(
        services.attach_terminal(&f.owner, id).await,
        Err(ServiceError::Ended(domain::SessionEnd::WindowOver))
    ));
    assert!(
        f.audit_of_session(id, AuditKind::SessionStarted)
            .await
            .is_empty()
    );
    assert!(matches!(
        services
            .extend_session(&f.owner, id, Duration::minutes(30))
            .await,
        Err(ServiceError::Conflict(_))
    ));
}

#[tokio::test]
async fn a_scheduled_start_that_fails_stays_on_my_sessions_with_its_code() {
    let f = Fixture::start().await;
    let services = &f.services;
    let project = services.create_project(admin(), "down", "").await.unwrap();
    let port = test_sshd::closed_port().to_string();
    let host = services
        .create_host(
            admin(),
            HostForm {
                project_id: project,
                name: "down-1",
                address: "127.0.0.1",
                port: &port,
                host_key: &f._sshd.host_key_fingerprint,
            },
        )
        .await
        .unwrap();
    let account = services
        .create_host_account(admin(), host, TEST_USER, "password", TEST_PASSWORD)
        .await
        .unwrap();
    services
        .create_grant(admin(), f.owner.id, account)
        .await
        .unwrap();
    let id = services
        .schedule_session(
            &f.owner,
            account,
            "Unreachable",
            Utc::now() + Duration::seconds(1),
            Duration::hours(1),
        )
        .await
        .unwrap();

    let row = eventually("the start to fail", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        rows.into_iter()
            .find(|row| row.id == id && row.status == SessionStatus::Failed)
    })
    .await;
    let (code, message) = row.failure.unwrap();
    assert_eq!(code, "T_502");
    assert!(message.contains("could not be reached"), "{message}");
    // Nothing is left to stop or extend.
    assert!(matches!(
        services.stop_session(&f.owner, id).await,
        Err(ServiceError::Conflict(_))
    ));
}
