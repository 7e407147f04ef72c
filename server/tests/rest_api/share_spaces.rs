//! Share spaces the contract test does not reach: a session that failed
//! before it was shared, and a share whose validity is over.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_sshd::SilentListener;

use crate::contract::{expected_share_space, recent_time, timed_out_reason};
use crate::fixture::{Api, NO_SUCH_RESOURCE, error_body};
use crate::support::{FINGERPRINT, connect, output_until};

/// Waits until the session's end is stored: the session page's record
/// reads it from the database, as the REST API does.
async fn stored_end(api: &Api, session: i64) -> Value {
    let id = session.to_string();
    for _ in 0..400 {
        let record = api.admin.ok("session", &[("id", &id)]).await;
        if record["ended"].is_array() {
            return record["ended"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("session {session} never ended");
}

#[tokio::test]
async fn a_session_that_failed_to_connect_still_answers_with_its_reason() {
    let api = Api::open().await;
    let silent = SilentListener::start();
    let account = api
        .admin
        .add_test_host("silent", silent.port, FINGERPRINT)
        .await;
    let (project, desktop) = api.ids_of(account).await;
    let path = api.path(project, desktop);
    let admin = Some(api.admin_token.as_str());
    assert_eq!(
        api.error(Method::GET, &path, admin, None).await,
        (
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such share space")
        )
    );

    let session = api.admin.start_session(account).await.unwrap();
    assert_eq!(stored_end(&api, session).await, "T_514");
    let (status, answer) = api.call(Method::GET, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({
            "share_space_id": null,
            "invitation_code": null,
            "share_space_name": "tandem-test@silent",
            "share_space_passwd": null,
            "private_share_link": null,
            "internet_share_link": null,
            "create_time": recent_time(&answer),
            "status": "ENDED",
            "failed_reason": timed_out_reason(),
        })
    );
    // Nothing is live there to share or cancel.
    for method in [Method::POST, Method::DELETE] {
        assert_eq!(
            api.error(method.clone(), &path, admin, None).await,
            (
                404,
                error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such active session")
            ),
            "{method}"
        );
    }
}

#[tokio::test]
async fn a_share_whose_validity_is_over_answers_expired() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);
    let admin = Some(api.admin_token.as_str());
    let session = api.admin.start_session(api.account).await.unwrap();
    let mut socket = connect(&api.admin, session).await;
    output_until(&mut socket, "$").await;

    let (_, shared) = api.call(Method::POST, &path, admin, None).await;
    api.expire_share(&shared["share_space_id"]).await;
    let (status, expired) = api.call(Method::GET, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        expired,
        expected_share_space(&shared, "tandem-test@desk", None, "EXPIRED", None)
    );
    // The invitation refuses with J_410, as a server function and a page.
    let code = shared["invitation_code"].as_str().unwrap();
    let (status, refusal) = api.alice.call("invitation", &[("code", code)]).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        refusal,
        json!({"Refused": {
            "code": "J_410",
            "title": "Invitation expired",
            "message": "This invitation has expired. Ask the session's creator for a new one."
        }})
    );
    let (status, page) = api.alice.page(&format!("/invite/{code}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("Invitation expired"), "{page}");
    // Sharing again opens a new share in its place.
    let (_, renewed) = api.call(Method::POST, &path, admin, None).await;
    assert_ne!(renewed["share_space_id"], shared["share_space_id"]);
    assert_eq!(
        renewed,
        expected_share_space(&renewed, "tandem-test@desk", None, "OPEN", None)
    );
}
