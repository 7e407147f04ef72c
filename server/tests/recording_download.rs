//! `/sessions/{id}/recording.cast` and the player page against a real
//! sshd: the creator and an admin get the file, another operator is
//! refused, and nobody unsigned gets anything.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use reqwest::StatusCode;
use support::{
    Browser, TestServer, connect, ended, operator, output_until, signed_in_admin, type_line,
};
use test_sshd::Sshd;

/// The status, content type and body of a GET as `browser`.
async fn download(browser: &Browser, path: &str) -> (StatusCode, String, String) {
    let response = browser
        .client
        .get(format!("{}{path}", browser.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn a_recording_downloads_for_its_creator_and_admins_only() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("play", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let alice = operator(&server, &admin, "alice", Some(account)).await;
    // Bob holds the same grant: that is not enough to see Alice's sessions.
    let bob = operator(&server, &admin, "bob", Some(account)).await;

    let session = alice.start_session(account).await.unwrap();
    let mut socket = connect(&alice, session).await;
    type_line(&mut socket, "echo downloaded-$((40+2))").await;
    output_until(&mut socket, "downloaded-42").await;
    alice
        .ok("exit_session", &[("id", &session.to_string())])
        .await;
    assert_eq!(ended(&mut socket).await, "S_200");

    let url = format!("/sessions/{session}/recording.cast");
    let (status, content_type, cast) = download(&alice, &url).await;
    assert_eq!(status, StatusCode::OK, "{cast}");
    assert_eq!(content_type, "application/x-asciicast");
    assert!(cast.starts_with("{\"version\":2,"), "{cast}");
    assert!(cast.contains("downloaded-42"), "{cast}");
    assert!(cast.contains("\"m\",\"control: ALICE\""), "{cast}");
    let recordings: Vec<_> = std::fs::read_dir(dir.path().join("recordings"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(recordings.len(), 1);
    assert_eq!(std::fs::read_to_string(&recordings[0]).unwrap(), cast);

    let (status, _, by_admin) = download(&admin, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_admin, cast);

    let (status, _, refused) = download(&bob, &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!refused.contains("downloaded-42"));
    let (status, _, _) = download(&server.browser(), &url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = download(&alice, "/sessions/9999/recording.cast").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The player page follows the same rule, and Past sessions links it.
    let (status, page) = alice.page(&format!("/sessions/{session}/play")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("control: ALICE"), "{page}");
    let (status, _) = admin.page(&format!("/sessions/{session}/play")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = bob.page(&format!("/sessions/{session}/play")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = alice.page("/operation/past-sessions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("href=\"/sessions/{session}/play\"")),
        "{page}"
    );
    let (_, page) = bob.page("/operation/past-sessions").await;
    assert!(
        !page.contains(&format!("/sessions/{session}/play")),
        "{page}"
    );
}
