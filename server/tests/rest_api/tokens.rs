//! API tokens from creation to revocation and expiry.

use chrono::Utc;
use reqwest::Method;
use serde_json::Value;

use crate::fixture::{AUTHENTICATION_FAILED, Api, error_body};
use crate::support::id_where;

#[tokio::test]
async fn tokens_are_listed_used_revoked_and_expire() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);

    let listed = api.alice.ok("api_tokens", &[]).await;
    assert_eq!(listed[0]["last_used_at"], Value::Null);
    assert!(
        api.alice_token
            .starts_with(listed[0]["prefix"].as_str().unwrap())
    );
    assert!(
        !listed.to_string().contains(&api.alice_token),
        "the secret is never listed"
    );
    api.call(Method::GET, &path, Some(&api.alice_token), None)
        .await;
    let listed = api.alice.ok("api_tokens", &[]).await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // A token acts only for its own user: Alice cannot revoke the admin's.
    let admin_tokens = api.admin.ok("api_tokens", &[]).await;
    let admin_token_id = id_where(&admin_tokens, "name", "contract tests").to_string();
    let (_, refused) = api
        .alice
        .call("revoke_api_token", &[("id", &admin_token_id)])
        .await;
    assert!(refused["NotFound"].is_string(), "{refused}");
    api.admin
        .ok("revoke_api_token", &[("id", &admin_token_id)])
        .await;
    assert_eq!(
        api.error(Method::GET, &path, Some(&api.admin_token), None)
            .await,
        (
            401,
            error_body(
                "TANDEM.4013",
                AUTHENTICATION_FAILED,
                "the token was revoked"
            )
        )
    );
    let admin_tokens = api.admin.ok("api_tokens", &[]).await;
    assert_eq!(admin_tokens[0]["status"], "Revoked");

    api.expire_token("alice's script", &api.alice).await;
    assert_eq!(
        api.error(Method::GET, &path, Some(&api.alice_token), None)
            .await,
        (
            401,
            error_body(
                "TANDEM.4014",
                AUTHENTICATION_FAILED,
                "the token has expired"
            )
        )
    );

    // A disabled user's tokens stop working at once.
    let carol = id_where(
        &api.admin.ok("admin/list_users", &[]).await,
        "username",
        "carol",
    );
    api.admin
        .ok(
            "admin/set_disabled",
            &[
                ("kind", "user"),
                ("id", &carol.to_string()),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(
        api.error(Method::GET, &path, Some(&api.carol_token), None)
            .await,
        (
            401,
            error_body(
                "TANDEM.4015",
                AUTHENTICATION_FAILED,
                "the token's user is disabled"
            )
        )
    );

    // Invalid lifetimes and names are refused on creation.
    for (name, days) in [("", ""), ("ok", "0"), ("ok", "soon")] {
        let (_, refused) = api
            .alice
            .call(
                "create_api_token",
                &[("name", name), ("expires_in_days", days)],
            )
            .await;
        assert!(refused["Invalid"].is_object(), "{name} {days}: {refused}");
    }
    let created = api
        .alice
        .ok(
            "create_api_token",
            &[("name", "weekly"), ("expires_in_days", "7")],
        )
        .await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["token"]["expires_at"].as_str().unwrap())
            .unwrap();
    let days = (expires.with_timezone(&Utc) - Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days} hours");
}
