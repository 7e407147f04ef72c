//! The session clock at a window's start and end, with Tandem's clock
//! moved ahead instead of waited for.

use domain::SessionEnd;
use services::Clock;

use super::*;

/// A fixture whose Tandem reads `clock`.
async fn with_clock(clock: &Clock) -> Fixture {
    let clock = clock.clone();
    Fixture::start_with(move |config| config.clock = clock).await
}

/// An active session warns everyone in its last five minutes, then ends
/// for everyone when its window is over (S_410), with its message.
#[tokio::test]
async fn an_active_session_ends_for_everyone_when_its_window_is_over() {
    let clock = Clock::default();
    let f = with_clock(&clock).await;
    let services = &f.services;
    let start = clock.now() + Duration::seconds(1);
    let id = f.schedule("Short", start, Duration::minutes(30)).await;
    eventually("the clock to start it", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        rows.into_iter()
            .find(|row| row.id == id && row.status == SessionStatus::Active)
    })
    .await;
    let mut owner = Viewer::attach(services, &f.owner, id).await;
    owner.wait_for_output("$").await;
    let calm = owner.wait_for_panel("any", |_| true).await;
    assert!(!calm.ending_soon, "29 minutes are left");

    clock.advance(Duration::minutes(26));
    let warned = owner
        .wait_for_panel("the end is near", |panel| panel.ending_soon)
        .await;
    assert_eq!(
        time(warned.ends_at.as_deref().unwrap()),
        start + Duration::minutes(30)
    );

    clock.advance(Duration::minutes(4));
    let ended = owner
        .wait_for_event(|event| matches!(event, ServerEvent::Ended { .. }))
        .await;
    let over = SessionEnd::WindowOver;
    assert_eq!(
        ended,
        ServerEvent::Ended {
            code: "S_410".to_owned(),
            message: over.message().to_owned(),
        }
    );
    let record = services.session_record(&f.owner, id).await.unwrap();
    assert_eq!(
        record.ended,
        Some(("S_410".to_owned(), over.message().to_owned()))
    );
    assert!(services.my_sessions(&f.owner).await.unwrap().is_empty());
    let audited = f.audit_of_session(id, AuditKind::SessionEnded).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].detail, "S_410");
}

/// At a scheduled start, an owner who no longer holds the grant gets no
/// session: it fails with S_403 and its message, and stays on My Sessions.
#[tokio::test]
async fn a_scheduled_session_whose_owner_lost_the_grant_does_not_start() {
    let clock = Clock::default();
    let f = with_clock(&clock).await;
    let services = &f.services;
    let start = clock.now() + Duration::hours(1);
    let id = f.schedule("Later", start, Duration::minutes(30)).await;
    let grant = services
        .list_grants(admin())
        .await
        .unwrap()
        .into_iter()
        .find(|grant| grant.user_id == f.owner.id && grant.host_account_id == f.account)
        .unwrap();
    services.revoke_grant(admin(), grant.id).await.unwrap();

    clock.advance(Duration::hours(1));
    let row = eventually("the start to be refused", async || {
        let rows = services.my_sessions(&f.owner).await.unwrap();
        rows.into_iter()
            .find(|row| row.id == id && row.status == SessionStatus::Failed)
    })
    .await;
    let not_permitted = SessionEnd::NotPermitted;
    assert_eq!(
        row.failure,
        Some(("S_403".to_owned(), not_permitted.message().to_owned()))
    );
    assert!(
        f.audit_of_session(id, AuditKind::SessionStarted)
            .await
            .is_empty()
    );
    let audited = f.audit_of_session(id, AuditKind::SessionEnded).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].detail, "S_403");
}
