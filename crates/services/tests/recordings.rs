//! Who may play a recording, against a real database and a real session
//! on the demo host: the creator and admins, nobody else.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use domain::OmSessionId;
use protocol::{ServerEvent, ServerMsg};
use services::{Actor, Admin, Config, ServiceError, Services};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn operator(services: &Services, name: &str) -> (domain::UserId, Actor) {
    let password = format!("{name}-password");
    let id = services
        .create_user(
            Admin::command_line(),
            name,
            &name.to_uppercase(),
            "operator",
            &password,
        )
        .await
        .unwrap();
    let actor = services.log_in(name, &password, LOCALHOST).await.unwrap();
    (id, actor)
}

/// A session of `actor` on the demo host that runs `echo {expression}`
/// until the shell printed `result`, then ends.
async fn recorded_session(
    services: &Services,
    actor: &Actor,
    expression: &str,
    result: &str,
) -> OmSessionId {
    let account = services.granted_accounts(actor).await.unwrap()[0].host_account_id;
    let id = services.start_session(actor, account).await.unwrap();
    let mut attachment = services.attach_terminal(actor, id).await.unwrap();
    attachment.input(format!("echo {expression}\r").into_bytes());
    let mut seen = String::new();
    while !seen.contains(result) {
        let frames = tokio::time::timeout(Duration::from_secs(10), attachment.next())
            .await
            .unwrap()
            .unwrap();
        for frame in frames {
            match ServerMsg::decode(&frame.bytes).unwrap() {
                ServerMsg::Output(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
                ServerMsg::Event(ServerEvent::Ended { message, .. }) => panic!("{message}"),
                ServerMsg::Event(_) => {}
            }
        }
    }
    services.exit_session(actor, id).await.unwrap();
    id
}

#[tokio::test]
async fn creators_and_admins_play_a_recording_and_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let (services, _) = Services::start(config).await.unwrap();
    services.start_demo_host(0).await.unwrap();
    let admin = services
        .log_in("admin", "first-admin-pw", LOCALHOST)
        .await
        .unwrap();
    let demo_account = services.granted_accounts(&admin).await.unwrap()[0].host_account_id;
    let (alice_id, alice) = operator(&services, "alice").await;
    let (_, bob) = operator(&services, "bob").await;
    services
        .create_grant(Admin::command_line(), alice_id, demo_account)
        .await
        .unwrap();

    let first = recorded_session(&services, &alice, "first-$((1+1))", "first-2").await;
    let second = recorded_session(&services, &alice, "second-$((2+2))", "second-4").await;

    let recording = services.recording(&alice, second).await.unwrap();
    assert!(recording.path.starts_with(dir.path().join("recordings")));
    let cast = std::fs::read_to_string(&recording.path).unwrap();
    assert!(cast.contains("second-4"), "{cast}");
    let record = recording.record;
    assert_eq!(record.id, second);
    assert_eq!(record.creator, "alice");
    assert_eq!(
        record.label,
        format!("{}@demo", demo_login(&services).await)
    );
    assert_eq!(record.project_name, "Demo");
    assert_eq!(
        record.ended.as_ref().map(|(code, _)| code.as_str()),
        Some("S_200")
    );
    assert!(record.ended_at.is_some());
    assert_eq!(
        record.size,
        Some(std::fs::metadata(&recording.path).unwrap().len())
    );
    assert!(record.duration_ms.is_some());
    let labels: Vec<&str> = record
        .markers
        .iter()
        .map(|marker| marker.label.as_str())
        .collect();
    assert_eq!(labels, ["control: ALICE", "session ended (S_200)"]);
    assert!(record.markers[0].seconds <= record.markers[1].seconds);

    // An admin may play anyone's; another operator may not, not even
    // learn the file's path.
    assert_eq!(
        services.recording(&admin, second).await.unwrap().path,
        recording.path
    );
    assert!(matches!(
        services.recording(&bob, second).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        services.recording_path(&bob, first).await,
        Err(ServiceError::Forbidden)
    ));
    assert_eq!(
        services.recording_path(&alice, second).await.unwrap(),
        recording.path
    );
    assert!(matches!(
        services.recording(&admin, OmSessionId(9999)).await,
        Err(ServiceError::NotFound("session"))
    ));

    // Past sessions: my own, newest first.
    let past = services.own_past_sessions(&alice).await.unwrap();
    let ids: Vec<OmSessionId> = past.iter().map(|session| session.id).collect();
    assert_eq!(ids, [second, first]);
    assert!(past.iter().all(|session| session.has_recording));
    assert_eq!(past[0].ended.as_ref().unwrap().0, "S_200");
    assert!(services.own_past_sessions(&bob).await.unwrap().is_empty());
    assert!(services.own_past_sessions(&admin).await.unwrap().is_empty());

    // A recording whose file is gone is not found, for everyone.
    std::fs::remove_file(&recording.path).unwrap();
    assert!(matches!(
        services.recording(&alice, second).await,
        Err(ServiceError::NotFound("recording"))
    ));
    assert!(matches!(
        services.recording_path(&admin, second).await,
        Err(ServiceError::NotFound("recording"))
    ));
    // Still forbidden first for someone who may not play it at all.
    assert!(matches!(
        services.recording(&bob, second).await,
        Err(ServiceError::Forbidden)
    ));
}

/// The demo host's account login (the user running the test).
async fn demo_login(services: &Services) -> String {
    services
        .list_host_accounts(Admin::command_line())
        .await
        .unwrap()[0]
        .login
        .clone()
}
