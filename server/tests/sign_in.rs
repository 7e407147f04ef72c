//! Signing in over real HTTP: the session cookie, the idle sign-out, and
//! the limits on failed logins and guessed invitations, per account and per
//! address.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use domain::LoginLimits;
use reqwest::StatusCode;
use serde_json::Value;
use support::{ADMIN_PASSWORD, Browser, TestServer, operator, signed_in_admin};

/// The session cookie a successful sign-in sets.
async fn session_cookie(server: &TestServer) -> String {
    let response = reqwest::Client::new()
        .post(server.url("/api/login"))
        .header("Accept", "application/json")
        .header("Origin", server.url(""))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A Tandem with these limits on failed logins and guessed invitations.
async fn with_limits(
    data_dir: &std::path::Path,
    per_account: usize,
    per_address: usize,
    window: Duration,
) -> TestServer {
    TestServer::start_with(data_dir, |config| {
        config.login_limits = LoginLimits {
            per_account,
            per_address,
            window,
        };
    })
    .await
}

fn login_failed() -> (StatusCode, Value) {
    (StatusCode::UNAUTHORIZED, Value::from("LoginFailed"))
}

#[tokio::test]
async fn login_sets_a_private_session_cookie_and_refuses_bad_passwords_alike() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let browser = server.browser();

    let wrong = browser.log_in("admin", "nope").await;
    let unknown = browser.log_in("nobody", "nope").await;
    assert_eq!(wrong, login_failed());
    assert_eq!(
        unknown, wrong,
        "an unknown user and a wrong password look alike"
    );

    let cookie = session_cookie(&server).await;
    assert!(cookie.starts_with("tandem_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http gets no Secure flag: {cookie}"
    );
}

/// Behind a TLS proxy, the public URL is https: the cookie is then sent
/// over https only.
#[tokio::test]
async fn an_https_public_url_makes_the_session_cookie_secure() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |config| {
        config.public_url = "https://tandem.example.org".to_owned();
    })
    .await;
    let cookie = session_cookie(&server).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
}

/// A browser that keeps making requests stays signed in past the idle
/// time; one left alone longer than it is signed out.
#[tokio::test]
async fn a_browser_left_idle_is_signed_out() {
    let dir = tempfile::tempdir().unwrap();
    let idle = Duration::from_secs(2);
    let server = TestServer::start_with(dir.path(), |config| config.web_session_idle = idle).await;
    let browser = server.browser();
    assert!(browser.log_in("admin", ADMIN_PASSWORD).await.0.is_success());
    let active_until = Instant::now() + 2 * idle;
    while Instant::now() < active_until {
        browser.ok("granted_accounts", &[]).await;
        tokio::time::sleep(idle / 4).await;
    }
    tokio::time::sleep(idle + Duration::from_secs(1)).await;
    assert_eq!(
        browser.call("granted_accounts", &[]).await,
        (StatusCode::UNAUTHORIZED, Value::from("NotSignedIn"))
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let browser = server.browser();
    for _ in 0..5 {
        assert_eq!(browser.log_in("admin", "wrong").await, login_failed());
    }
    assert_eq!(
        browser.log_in("admin", ADMIN_PASSWORD).await,
        login_failed(),
        "locked, with the same answer"
    );
    // From another address too: the account is what is locked.
    let elsewhere = Browser::from_address(server.url(""), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(
        elsewhere.log_in("admin", ADMIN_PASSWORD).await,
        login_failed()
    );
}

/// One address guessing at many accounts is stopped at the address's
/// limit, while the same accounts still sign in from elsewhere.
#[tokio::test]
async fn failures_from_one_address_lock_that_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_limits(dir.path(), 100, 3, Duration::from_secs(300)).await;
    let sprayer = server.browser();
    for name in ["ann", "ben", "cid"] {
        assert_eq!(sprayer.log_in(name, "guess").await, login_failed());
    }
    assert_eq!(
        sprayer.log_in("admin", ADMIN_PASSWORD).await,
        login_failed()
    );
    let elsewhere = Browser::from_address(server.url(""), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
    assert!(
        elsewhere
            .log_in("admin", ADMIN_PASSWORD)
            .await
            .0
            .is_success()
    );
}

/// Failures count only within the window (`--login-window-secs`): once
/// they have left it, the right password signs in again.
#[tokio::test]
async fn failures_leave_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let window = Duration::from_secs(2);
    let server = with_limits(dir.path(), 2, 100, window).await;
    let browser = server.browser();
    for _ in 0..2 {
        assert_eq!(browser.log_in("admin", "wrong").await, login_failed());
    }
    assert_eq!(
        browser.log_in("admin", ADMIN_PASSWORD).await,
        login_failed()
    );
    tokio::time::sleep(window + Duration::from_millis(500)).await;
    assert!(browser.log_in("admin", ADMIN_PASSWORD).await.0.is_success());
}

/// Guessed invitation codes count per address as well as per user: users
/// behind one address share its limit, while others are not held up.
#[tokio::test]
async fn guessed_invitation_codes_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_limits(dir.path(), 100, 3, Duration::from_secs(300)).await;
    let admin = signed_in_admin(&server).await;
    let mut guessers = Vec::new();
    for name in ["gus", "gil", "gwen", "gabe"] {
        guessers.push(operator(&server, &admin, name, None).await);
    }
    let refusal = |body: Value| body["Refused"]["code"].as_str().unwrap().to_owned();
    for guesser in &guessers[..3] {
        let (status, body) = guesser.call("invitation", &[("code", "ABCD2345")]).await;
        assert_eq!(
            (status, refusal(body)),
            (StatusCode::NOT_FOUND, "J_404".to_owned())
        );
    }
    let (status, body) = guessers[3]
        .call("invitation", &[("code", "ABCD2345")])
        .await;
    assert_eq!(
        (status, refusal(body)),
        (StatusCode::TOO_MANY_REQUESTS, "J_429".to_owned())
    );

    let elsewhere = Browser::from_address(server.url(""), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4)));
    assert!(
        elsewhere
            .log_in("gabe", "gabe-password")
            .await
            .0
            .is_success()
    );
    let (status, body) = elsewhere.call("invitation", &[("code", "ABCD2345")]).await;
    assert_eq!(
        (status, refusal(body)),
        (StatusCode::NOT_FOUND, "J_404".to_owned())
    );
}
