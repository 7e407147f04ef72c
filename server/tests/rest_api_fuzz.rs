//! Arbitrary requests to the REST API: whatever the path segments, headers
//! and body, the answer is never a 500 or a panic, and every answer that is
//! not a success carries the documented error body with a listed code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Uri};
use domain::UserId;
use leptos::prelude::LeptosOptions;
use proptest::prelude::*;
use serde_json::Value;
use server::rest_api::ERROR_CODES;
use services::{Admin, Config, HostForm, Services};
use tower::ServiceExt;

/// A Tandem router in this process, with one desktop granted to Alice,
/// and her valid and revoked tokens.
struct Fixture {
    router: Router,
    ids: (i64, i64),
    valid: String,
    revoked: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("fuzz-admin-password".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let (services, _) = Services::start(config).await.unwrap();
    let admin = Admin::command_line();
    let alice = services
        .create_user(admin, "alice", "Alice", "operator", "alice-password")
        .await
        .unwrap();
    let project = services.create_project(admin, "fuzz", "").await.unwrap();
    let host = services
        .create_host(
            admin,
            HostForm {
                project_id: project,
                name: "desk",
                address: "127.0.0.1",
                port: "22",
                host_key: "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI",
            },
        )
        .await
        .unwrap();
    let account = services
        .create_host_account(admin, host, "ops", "password", "secret")
        .await
        .unwrap();
    services.create_grant(admin, alice, account).await.unwrap();
    let actor = services.actor(UserId(alice.0)).await.unwrap().unwrap();
    let valid = services
        .create_api_token(&actor, "valid", None)
        .await
        .unwrap();
    let revoked = services
        .create_api_token(&actor, "revoked", None)
        .await
        .unwrap();
    services
        .revoke_api_token(&actor, revoked.token.id)
        .await
        .unwrap();
    let options = LeptosOptions::builder().output_name("tandem").build();
    Fixture {
        router: server::router(services, options),
        ids: (project.0, host.0),
        valid: valid.secret,
        revoked: revoked.secret,
        _dir: dir,
    }
}

/// One path segment: often a meaningful one, otherwise anything at all,
/// percent-encoded or raw.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{project}".to_owned()),
        Just("{desktop}".to_owned()),
        Just("desktops".to_owned()),
        Just("remote-assistance".to_owned()),
        Just("openapi.json".to_owned()),
        "-?[0-9]{1,25}",
        "[a-zA-Z0-9%._~!$&'()*+,;=:@-]{0,16}",
        any::<Vec<u8>>().prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
    ]
}

fn token() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(b"{valid}".to_vec())),
        Just(Some(b"{revoked}".to_vec())),
        "tandem_[0-9a-f]{0,70}".prop_map(|token| Some(token.into_bytes())),
        any::<Vec<u8>>().prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just("name"),
        Just("password"),
        Just("validity"),
        Just("colour")
    ];
    let value = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        prop_oneof![Just("1h".to_owned()), Just("10m".to_owned()), ".{0,80}"].prop_map(Value::from),
        Just(serde_json::json!([1, "two"])),
        Just(serde_json::json!({"nested": {}})),
    ];
    prop_oneof![
        Just(Vec::new()),
        any::<Vec<u8>>(),
        ".{0,64}".prop_map(String::into_bytes),
        proptest::collection::btree_map(field, value, 0..4)
            .prop_map(|fields| { serde_json::to_vec(&fields).unwrap() }),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::DELETE),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::HEAD),
    ]
}

#[test]
fn arbitrary_requests_always_get_a_documented_answer() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fixture = runtime.block_on(fixture());
    let config = ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        method in method(),
        segments in proptest::collection::vec(segment(), 0..6),
        token in token(),
        body in body(),
    )| {
        let (project, desktop) = fixture.ids;
        let path = format!("/v2/{}", segments.join("/"))
            .replace("{project}", &project.to_string())
            .replace("{desktop}", &desktop.to_string());
        // A path the HTTP layer itself cannot carry never reaches Tandem.
        prop_assume!(path.parse::<Uri>().is_ok());
        let mut request = Request::builder().method(method.clone()).uri(&path);
        if let Some(token) = token {
            let token = String::from_utf8_lossy(&token)
                .replace("{valid}", &fixture.valid)
                .replace("{revoked}", &fixture.revoked);
            let value = HeaderValue::from_bytes(token.as_bytes());
            prop_assume!(value.is_ok());
            request = request.header("X-Auth-Token", value.unwrap());
        }
        let request = request.body(Body::from(body)).unwrap();
        let (status, answer) = runtime.block_on(async {
            let response = fixture.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, bytes)
        });
        prop_assert_ne!(status.as_u16(), 500, "{} {}", method, path);
        if method == Method::HEAD {
            return Ok(());
        }
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|_| TestCaseError::fail(format!("{method} {path}: not JSON: {answer:?}")))?;
        if status.is_success() {
            let is_document = answer["openapi"].is_string();
            let is_share_space = answer["invitation_code"].is_string();
            prop_assert!(is_document || is_share_space, "{} {}: {}", method, path, answer);
        } else {
            let fields: Vec<&String> = answer.as_object().unwrap().keys().collect();
            prop_assert_eq!(
                fields,
                vec!["encoded_authorization_message", "error_code", "error_detail", "error_msg"]
            );
            let code = answer["error_code"].as_str().unwrap();
            let listed = ERROR_CODES.iter().find(|(listed, _, _)| *listed == code);
            prop_assert!(listed.is_some(), "unlisted code {}", code);
            prop_assert_eq!(listed.unwrap().1, status.as_u16(), "{}", code);
            prop_assert!(answer["error_msg"].is_string() && answer["error_detail"].is_string());
        }
    });
}
