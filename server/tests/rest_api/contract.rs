//! The remote assistance contract end to end, on a live session.

use chrono::Utc;
use domain::SessionEnd;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_sshd::kill_frozen;

use crate::fixture::{
    AUTHENTICATION_FAILED, Api, INTERNAL_URL, MALFORMED, NO_PERMISSION, NO_SUCH_RESOURCE,
    PUBLIC_URL, error_body,
};
use crate::support::{self, connect, ended, output_until, type_line};

/// A share space the API returned, checked field by field where the value
/// is the server's choice (id, code, time): the whole body it must equal.
pub fn expected_share_space(
    answer: &Value,
    name: &str,
    password: Option<&str>,
    status: &str,
    failed_reason: Option<&str>,
) -> Value {
    let id = answer["share_space_id"].as_str().unwrap();
    assert!(id.parse::<i64>().unwrap() > 0, "{answer}");
    let code = answer["invitation_code"].as_str().unwrap();
    assert!(
        code.len() == 8
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{code}"
    );
    json!({
        "share_space_id": id,
        "invitation_code": code,
        "share_space_name": name,
        "share_space_passwd": password,
        "private_share_link": format!("{INTERNAL_URL}/invite/{code}"),
        "internet_share_link": format!("{PUBLIC_URL}/invite/{code}"),
        "create_time": recent_time(answer),
        "status": status,
        "failed_reason": failed_reason,
    })
}

/// `create_time`, checked to be in the README's format and within the last
/// minute (the test's own duration).
pub fn recent_time(answer: &Value) -> String {
    let time = answer["create_time"].as_str().unwrap();
    let parsed = chrono::NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap()
        .and_utc();
    let now = Utc::now();
    assert!(
        parsed <= now && now - parsed < chrono::Duration::minutes(1),
        "{time}"
    );
    time.to_owned()
}

/// `T_514: ` and its full message, as `failed_reason` carries it.
pub fn timed_out_reason() -> String {
    let end = SessionEnd::from_code("T_514").unwrap();
    format!("T_514: {}", end.message())
}

#[tokio::test]
async fn remote_assistance_answers_exactly_as_documented() {
    let api = Api::open().await;
    let (project, desktop) = api.ids().await;
    let path = api.path(project, desktop);
    let admin = Some(api.admin_token.as_str());
    let alice = Some(api.alice_token.as_str());

    // The document promises exactly the seed's fields, all of them always.
    for (schema, fields) in [
        (
            "ShareSpace",
            &[
                "create_time",
                "failed_reason",
                "internet_share_link",
                "invitation_code",
                "private_share_link",
                "share_space_id",
                "share_space_name",
                "share_space_passwd",
                "status",
            ][..],
        ),
        (
            "ErrorBody",
            &[
                "encoded_authorization_message",
                "error_code",
                "error_detail",
                "error_msg",
            ],
        ),
    ] {
        let schema = &api.document["components"]["schemas"][schema];
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|field| field.as_str().unwrap())
            .collect();
        required.sort_unstable();
        assert_eq!(required, fields);
        assert_eq!(schema["additionalProperties"], false);
    }

    // Authentication comes first, then the ids, then existence, then grants.
    let no_token = error_body(
        "TANDEM.4011",
        AUTHENTICATION_FAILED,
        "send an API token in the X-Auth-Token header",
    );
    let bad_project = error_body(
        "TANDEM.4001",
        MALFORMED,
        "project_id must be a positive integer",
    );
    let bad_desktop = error_body(
        "TANDEM.4001",
        MALFORMED,
        "desktop_id must be a positive integer",
    );
    let no_desktop = error_body("TANDEM.4042", NO_SUCH_RESOURCE, "no such desktop");
    for (method, token, path, status, body) in [
        (Method::GET, None, path.clone(), 401, no_token.clone()),
        (
            Method::GET,
            Some("tandem_nonsense"),
            path.clone(),
            401,
            error_body("TANDEM.4012", AUTHENTICATION_FAILED, "the token is unknown"),
        ),
        (Method::POST, None, path.clone(), 401, no_token),
        (
            Method::GET,
            admin,
            api.path("abc", desktop),
            400,
            bad_project.clone(),
        ),
        (
            Method::GET,
            admin,
            api.path(format!("0{project}"), desktop),
            400,
            bad_project,
        ),
        (
            Method::GET,
            admin,
            api.path(project, "-3"),
            400,
            bad_desktop.clone(),
        ),
        (
            Method::DELETE,
            admin,
            api.path(project, "9223372036854775808"),
            400,
            bad_desktop,
        ),
        (
            Method::GET,
            admin,
            api.path(999, desktop),
            404,
            error_body("TANDEM.4041", NO_SUCH_RESOURCE, "no such project"),
        ),
        (
            Method::GET,
            admin,
            api.path(project, i64::MAX),
            404,
            no_desktop.clone(),
        ),
        (
            Method::DELETE,
            admin,
            api.path(project, 999),
            404,
            no_desktop,
        ),
        (
            Method::GET,
            admin,
            path.clone(),
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such share space"),
        ),
        (
            Method::POST,
            admin,
            path.clone(),
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such active session"),
        ),
        (
            Method::DELETE,
            admin,
            path.clone(),
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such active session"),
        ),
    ] {
        let answer = api.error(method.clone(), &path, token, None).await;
        assert_eq!(answer, (status, body), "{method} {path}");
    }
    let (status, mut refusal) = api
        .error(Method::GET, &path, Some(&api.carol_token), None)
        .await;
    let sealed = refusal["encoded_authorization_message"]
        .take()
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        (status, refusal),
        (
            403,
            json!({
                "error_code": "TANDEM.4031",
                "error_msg": NO_PERMISSION,
                "error_detail": "you hold no grant on an account of this desktop",
                "encoded_authorization_message": null,
            })
        )
    );
    assert!(!sealed.contains("carol"), "the reason is sealed: {sealed}");
    let (opened, succeeded) = api.decode(&sealed);
    assert!(succeeded, "{opened}");
    assert!(
        opened.contains("user carol") && opened.contains("TANDEM.4031"),
        "{opened}"
    );
    let (_, succeeded) = api.decode("bm90IHNlYWxlZA==");
    assert!(!succeeded, "a message this server did not seal is refused");

    // The admin's live session on the desktop.
    let session = api.admin.start_session(api.account).await.unwrap();
    let mut socket = connect(&api.admin, session).await;
    output_until(&mut socket, "$").await;

    // The body is checked before anything is shared: none of these opens
    // a share on the live session.
    let not_valid = |why: &str| {
        error_body(
            "TANDEM.4002",
            MALFORMED,
            &format!("the body is not valid: {why}"),
        )
    };
    let invalid = |why: &str| error_body("TANDEM.4003", MALFORMED, why);
    let validity_choice = "validity: choose 10 minutes, 1 hour, 8 hours or 24 hours";
    for (body, answer) in [
        (
            "{",
            not_valid("EOF while parsing an object at line 1 column 1"),
        ),
        (r#"["n","pw","10m"]"#, not_valid("it must be a JSON object")),
        ("null", not_valid("it must be a JSON object")),
        (
            r#"{"name":"x","colour":"red"}"#,
            not_valid("unknown field `colour`"),
        ),
        (r#"{"validity":"3y"}"#, invalid(validity_choice)),
        (r#"{"validity":"2h"}"#, invalid(validity_choice)),
        (r#"{"validity":60}"#, invalid("validity: must be a string")),
        (r#"{"name":""}"#, invalid("name: must not be empty")),
        (
            &format!(r#"{{"name":"{}"}}"#, "n".repeat(65)),
            invalid("name: must be at most 64 characters"),
        ),
        (r#"{"name":7}"#, invalid("name: must be a string")),
        (
            r#"{"password":["pw"]}"#,
            invalid("password: must be a string"),
        ),
    ] {
        let got = api.error(Method::POST, &path, admin, Some(body)).await;
        assert_eq!(got, (400, answer), "{body}");
    }
    assert_eq!(
        api.error(Method::GET, &path, admin, None).await,
        (
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such share space")
        ),
        "a refused body shares nothing"
    );

    let (status, shared) = api
        .call(
            Method::POST,
            &path,
            admin,
            Some(r#"{"name":"help desk","password":"s3cret","validity":"10m"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    assert_eq!(
        shared,
        expected_share_space(&shared, "help desk", Some("s3cret"), "OPEN", None)
    );
    let row = api.share_row(&shared["share_space_id"]).await;
    assert_eq!(
        row.expires_at - row.created_at,
        chrono::Duration::minutes(10)
    );
    let code = shared["invitation_code"].as_str().unwrap().to_owned();

    // While the share is open, POST answers with it again.
    let (_, again) = api.call(Method::POST, &path, admin, None).await;
    assert_eq!(again, shared);

    // Alice holds the grant: she sees the share she may join, without its
    // password, and may neither share nor cancel it.
    let (status, seen) = api.call(Method::GET, &path, alice, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut without_password = shared.clone();
    without_password["share_space_passwd"] = Value::Null;
    assert_eq!(seen, without_password);
    for method in [Method::POST, Method::DELETE] {
        let (status, mut refusal) = api.error(method.clone(), &path, alice, None).await;
        assert!(refusal["encoded_authorization_message"].take().is_string());
        assert_eq!(
            (status, refusal),
            (
                403,
                error_body(
                    "TANDEM.4032",
                    NO_PERMISSION,
                    "only the session's creator may do this"
                )
            ),
            "{method}"
        );
    }
    // The link the API returned admits her, with the password.
    api.alice
        .ok("enter_share", &[("code", &code), ("password", "s3cret")])
        .await;
    let mut alice_socket = connect(&api.alice, session).await;
    type_line(&mut socket, "echo api-$((40+2))").await;
    output_until(&mut alice_socket, "api-42").await;

    let (status, cancelled) = api.call(Method::DELETE, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut expected = shared.clone();
    expected["status"] = json!("CANCELLED");
    assert_eq!(cancelled, expected);
    assert_eq!(ended_or_left(&mut alice_socket).await, "left");
    let (_, now) = api.call(Method::GET, &path, admin, None).await;
    assert_eq!(now, expected);
    assert_eq!(
        api.error(Method::DELETE, &path, admin, None).await,
        (
            404,
            error_body("TANDEM.4043", NO_SUCH_RESOURCE, "no such open share")
        )
    );

    // Without a body: the defaults, validity `1h` among them.
    let (_, reopened) = api.call(Method::POST, &path, admin, None).await;
    assert_eq!(
        reopened,
        expected_share_space(&reopened, "tandem-test@desk", None, "OPEN", None)
    );
    assert_ne!(reopened["share_space_id"], shared["share_space_id"]);
    let row = api.share_row(&reopened["share_space_id"]).await;
    assert_eq!(row.expires_at - row.created_at, chrono::Duration::hours(1));

    // A host that goes silent: the share space reports why.
    let frozen = api.sshd.freeze_connections();
    assert_eq!(ended(&mut socket).await, "T_514");
    kill_frozen(&frozen);
    let (_, failed) = api.call(Method::GET, &path, admin, None).await;
    let mut expected = reopened.clone();
    expected["status"] = json!("ENDED");
    expected["failed_reason"] = json!(timed_out_reason());
    assert_eq!(failed, expected);
}

/// Reads Alice's socket until she is forced out.
async fn ended_or_left(socket: &mut support::Socket) -> &'static str {
    use protocol::{ServerEvent, ServerMsg};
    loop {
        match support::next(socket).await {
            ServerMsg::Event(ServerEvent::Left { .. }) => return "left",
            ServerMsg::Event(ServerEvent::Ended { .. }) => return "ended",
            _ => {}
        }
    }
}
