//! Share Session's search: the project, or everyone after the owner's password.

use super::*;

/// The search of Share Session: within the project, or everyone after the
/// owner's password; a wrong password is refused, and guessing locked out.
async fn search_scope(f: &Fixture) {
    let services = &f.services;
    let id = f
        .schedule(
            "Search",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    let names = |found: &[domain::UserMatch]| -> Vec<(String, bool)> {
        found
            .iter()
            .map(|user| (user.username.clone(), user.in_project))
            .collect()
    };
    let pair = |name: &str, in_project| (name.to_owned(), in_project);

    // Without the password: only who holds a grant in the project, never
    // the owner.
    let found = services.search_users(&f.owner, id, "", None).await.unwrap();
    assert_eq!(names(&found), [pair("peter", true)]);
    assert_eq!(found[0].id, f.peter.id);
    assert_eq!(found[0].display_name, "Peter Parker");
    for query in ["PARKER", "parker@example", "pet"] {
        let found = services
            .search_users(&f.owner, id, query, None)
            .await
            .unwrap();
        assert_eq!(names(&found), [pair("peter", true)], "{query}");
    }
    assert!(
        services
            .search_users(&f.owner, id, "xavier", None)
            .await
            .unwrap()
            .is_empty()
    );

    // With it: everyone enabled, by user ID, name or email.
    let password = password_of("olivia");
    let everyone = Some(password.as_str());
    let found = services
        .search_users(&f.owner, id, "", everyone)
        .await
        .unwrap();
    assert_eq!(
        names(&found),
        [
            pair("admin", false),
            pair("nora", false),
            pair("peter", true),
            pair("xavier", false)
        ]
    );
    for query in ["Outsider", "example.org", "xav"] {
        let found = services
            .search_users(&f.owner, id, query, everyone)
            .await
            .unwrap();
        assert_eq!(names(&found), [pair("xavier", false)], "{query}");
    }
    let admin_id = services.user_id_by_name("admin").await.unwrap();
    let admin_actor = services.actor(admin_id).await.unwrap().unwrap();
    services
        .set_user_disabled(admin(), &admin_actor, f.nora.id, true)
        .await
        .unwrap();
    let found = services
        .search_users(&f.owner, id, "nora", everyone)
        .await
        .unwrap();
    assert!(found.is_empty(), "disabled users are not found: {found:?}");
    let widened = f.audit_of_session(id, AuditKind::UserSearchWidened).await;
    assert_eq!(
        widened.len(),
        5,
        "each widened search is audited: {widened:?}"
    );

    // A wrong password: refused, audited, and after five of them even the
    // right one is, for a while (as signing in is).
    for _ in 0..5 {
        match services.search_users(&f.owner, id, "", Some("guess")).await {
            Err(ServiceError::Invalid(error)) => {
                assert_eq!(
                    (error.field, error.message.as_str()),
                    ("password", "is not your password")
                )
            }
            other => panic!("{other:?}"),
        }
    }
    match services.search_users(&f.owner, id, "", everyone).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(
            (error.field, error.message.as_str()),
            ("password", "too many wrong attempts; try again later")
        ),
        other => panic!("the right password after five wrong ones: {other:?}"),
    }
    // The same lockout as signing in: Olivia cannot sign in either.
    assert!(matches!(
        services
            .log_in("olivia", &password_of("olivia"), LOCALHOST)
            .await,
        Err(ServiceError::LoginFailed)
    ));
    let failed = f
        .audit(AuditQuery {
            user: Some("olivia".to_owned()),
            kind: Some(AuditKind::UserSearchWidened),
            ..AuditQuery::default()
        })
        .await;
    let denied = failed
        .iter()
        .filter(|row| row.outcome == AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 6);
    // The project search needs no password and still works.
    let found = services.search_users(&f.owner, id, "", None).await.unwrap();
    assert_eq!(names(&found), [pair("peter", true)]);
}

#[tokio::test]
async fn the_owner_searches_the_project_or_everyone_with_their_password() {
    search_scope(&Fixture::start().await).await;
}

/// The search is SQL (LIKE) and so the one part of this layer whose answer
/// could differ by database: the same on PostgreSQL.
#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn the_search_is_the_same_on_postgresql() {
    postgres::with_database("tandem_named_shares", |url| async move {
        let fixture = Fixture::start_with(|config| config.database_url = Some(url)).await;
        search_scope(&fixture).await;
    })
    .await;
}

#[tokio::test]
async fn users_outside_the_project_need_a_session_use_answer_and_the_password() {
    let f = Fixture::start().await;
    let services = &f.services;
    let id = services.start_session(&f.owner, f.account).await.unwrap();
    let password = password_of("olivia");

    let no_answer = Fixture::share(&[&f.peter, &f.xavier], "");
    match services.share_with_users(&f.owner, id, no_answer).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "purpose"),
        other => panic!("{other:?}"),
    }
    let wrong_password = Fixture::share_outside(&[&f.xavier], "", "not-my-password");
    match services
        .share_with_users(&f.owner, id, wrong_password)
        .await
    {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "password"),
        other => panic!("{other:?}"),
    }
    // Refused shares add nobody and notify nobody.
    assert!(
        services.my_sessions(&f.owner).await.unwrap()[0]
            .members
            .is_empty()
    );
    assert!(services.my_sessions(&f.xavier).await.unwrap().is_empty());
    assert_eq!(services.notifications(&f.xavier).await.unwrap().1, 0);
    assert_eq!(services.notifications(&f.peter).await.unwrap().1, 0);

    let note = "Join the demo for Acme.";
    let both = Fixture::share_outside(&[&f.peter, &f.xavier], note, &password);
    services.share_with_users(&f.owner, id, both).await.unwrap();
    let members: Vec<UserId> = services.my_sessions(&f.owner).await.unwrap()[0]
        .members
        .iter()
        .map(|member| member.user)
        .collect();
    assert_eq!(members, [f.peter.id, f.xavier.id]);
    // The answer is recorded for the user it concerns only.
    let mut shared = f.audit_of_session(id, AuditKind::SessionSharedWith).await;
    shared.sort_by_key(|row| row.id);
    let rows: Vec<(&str, &str, &str)> = shared
        .iter()
        .map(|row| (row.actor.as_str(), row.object.as_str(), row.detail.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "olivia",
                format!("user:{}", f.peter.id).as_str(),
                "in project"
            ),
            (
                "olivia",
                format!("user:{}", f.xavier.id).as_str(),
                "session use: Customer demo; Acme Corp; quarterly review"
            ),
        ]
    );
    // Sharing again with the same users adds nobody twice.
    let again = Fixture::share_outside(&[&f.xavier], "", &password);
    services
        .share_with_users(&f.owner, id, again)
        .await
        .unwrap();
    assert_eq!(
        services.my_sessions(&f.owner).await.unwrap()[0]
            .members
            .len(),
        2
    );
    assert_eq!(services.notifications(&f.xavier).await.unwrap().1, 1);

    // Xavier has no grant on the account, yet works in the session.
    let granted = services.granted_accounts(&f.xavier).await.unwrap();
    assert!(
        granted
            .iter()
            .all(|account| account.host_account_id != f.account)
    );
    let record = services.session_record(&f.xavier, id).await.unwrap();
    assert_eq!(record.account.host_account_id, f.account);
    assert_eq!(record.creator, "olivia");
    let row = services.my_sessions(&f.xavier).await.unwrap().remove(0);
    assert_eq!(row.title, format!("{TEST_USER}@web-1 (shared by olivia)"));
    services
        .view_session(&f.xavier, id, LOCALHOST)
        .await
        .unwrap();
    let mut owner = Viewer::attach(services, &f.owner, id).await;
    let mut xavier = Viewer::attach(services, &f.xavier, id).await;
    owner.type_text("echo outside-$((3*3))\r");
    xavier.wait_for_output("outside-9").await;

    // Someone nobody added may not View it.
    assert!(matches!(
        services.view_session(&f.nora, id, LOCALHOST).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        services.session_record(&f.nora, id).await,
        Err(ServiceError::Forbidden)
    ));

    // Removed, he is forced out and cannot come back.
    services
        .remove_member(&f.owner, id, f.xavier.id)
        .await
        .unwrap();
    let left = xavier
        .wait_for_event(|event| matches!(event, ServerEvent::Left { .. }))
        .await;
    assert_eq!(
        left,
        ServerEvent::Left {
            message: "The owner removed you from this session.".to_owned(),
            may_enter_again: false,
        }
    );
    owner
        .wait_for_panel("xavier is out", |panel| {
            !participant_ids(panel).contains(&f.xavier.id.0)
        })
        .await;
    assert!(matches!(
        services.view_session(&f.xavier, id, LOCALHOST).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        services.session_record(&f.xavier, id).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(services.my_sessions(&f.xavier).await.unwrap().is_empty());
    assert!(matches!(
        services.remove_member(&f.owner, id, f.xavier.id).await,
        Err(ServiceError::NotFound("member"))
    ));
    assert_eq!(
        f.audit_of_session(id, AuditKind::MemberRemoved).await.len(),
        1
    );
    // Peter, still a member, is still in.
    assert_eq!(
        services.my_sessions(&f.peter).await.unwrap()[0].status,
        SessionStatus::Active
    );
}
