//! Notifications of a named share, mailed through a real SMTP server.

use super::*;

#[tokio::test]
async fn added_users_with_an_email_address_get_an_email_through_smtp() {
    let smtp = smtp::SmtpServer::start();
    let f = Fixture::start_with(|config| {
        config.smtp_url = Some(smtp.url());
        config.public_url = "https://tandem.example.test/".to_owned();
    })
    .await;
    let services = &f.services;
    let start = Utc::now() + Duration::hours(2);
    let id = f
        .schedule("Rotate TLS certs", start, Duration::hours(1))
        .await;
    let note = "Bring the change ticket CHG-1234, please.";
    // Nora has no email address: she is notified in the app only.
    let password = password_of("olivia");
    let share = Fixture::share_outside(&[&f.nora, &f.peter], note, &password);
    services
        .share_with_users(&f.owner, id, share)
        .await
        .unwrap();

    let messages = smtp.wait_for_messages(1, PATIENCE).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let email = &messages[0];
    assert_eq!(email.header("To"), Some("peter.parker@example.com"));
    assert_eq!(email.header("X-RcptTo"), Some("peter.parker@example.com"));
    assert!(
        email.header("From").unwrap().contains("<tandem@localhost>"),
        "{email:?}"
    );
    assert_eq!(
        email.header("Subject"),
        Some("olivia shared the session Rotate TLS certs with you")
    );
    let body = &email.body;
    for expected in [
        "olivia shared a session with you on Tandem.",
        "Session: Rotate TLS certs",
        &format!("Host: {TEST_USER}@web-1"),
        &format!("Start: {}", start.format("%Y-%m-%d %H:%M UTC")),
        &format!(
            "End: {}",
            (start + Duration::hours(1)).format("%Y-%m-%d %H:%M UTC")
        ),
        "Note from olivia:\nBring the change ticket CHG-1234, please.",
        "https://tandem.example.test/my-sessions",
    ] {
        assert!(body.contains(expected), "{expected:?} is not in:\n{body}");
    }
    for actor in [&f.nora, &f.peter] {
        let (notes, unread) = services.notifications(actor).await.unwrap();
        assert_eq!(unread, 1, "{}", actor.username);
        assert_eq!(
            notes[0].text,
            "olivia shared the session Rotate TLS certs with you."
        );
    }
}

#[tokio::test]
async fn a_mail_server_that_is_down_loses_only_the_email() {
    let f = Fixture::start_with(|config| {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{}", test_sshd::closed_port()));
    })
    .await;
    let services = &f.services;
    let id = f
        .schedule(
            "Nobody mails",
            Utc::now() + Duration::hours(1),
            Duration::hours(1),
        )
        .await;
    services
        .share_with_users(&f.owner, id, Fixture::share(&[&f.peter], "hi"))
        .await
        .unwrap();
    let (notes, unread) = services.notifications(&f.peter).await.unwrap();
    assert_eq!(unread, 1);
    assert_eq!(
        notes[0].text,
        "olivia shared the session Nobody mails with you."
    );
    assert_eq!(services.my_sessions(&f.peter).await.unwrap().len(), 1);
}
