//! The admin's live view of sessions against a real OpenSSH sshd: an admin
//! without a grant monitors an operator's session read-only while its
//! creator is told, then terminates it; operators get 403 from all of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use futures::StreamExt;
use protocol::{ClientMsg, Panel, ServerEvent, ServerMsg};
use reqwest::StatusCode;
use serde_json::Value;
use support::{
    Socket, TestServer, connect, id_where, next, operator, output_until, send, signed_in_admin,
    type_line,
};
use test_sshd::Sshd;

/// Reads panels until one satisfies `test`.
async fn panel_where(socket: &mut Socket, test: impl Fn(&Panel) -> bool) -> Panel {
    loop {
        if let ServerMsg::Event(ServerEvent::Panel(panel)) = next(socket).await
            && test(&panel)
        {
            return panel;
        }
    }
}

/// Reads until the session ends; returns its code once the socket closed.
async fn ended_and_closed(socket: &mut Socket) -> (String, String) {
    loop {
        if let ServerMsg::Event(ServerEvent::Ended { code, message }) = next(socket).await {
            let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .unwrap();
            assert!(
                matches!(
                    closed,
                    None | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
                ),
                "{closed:?}"
            );
            return (code, message);
        }
    }
}

fn row_of(listing: &Value, session: i64) -> Option<Value> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == session)
        .cloned()
}

#[tokio::test]
async fn an_admin_monitors_a_session_read_only_and_terminates_it() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let admin = signed_in_admin(&server).await;
    let account = admin
        .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
        .await;
    // The admin watches without a grant of their own.
    let grant = id_where(
        &admin.ok("admin/list_grants", &[]).await,
        "username",
        "admin",
    );
    admin
        .ok("admin/revoke_grant", &[("id", &grant.to_string())])
        .await;
    let olivia = operator(&server, &admin, "olivia", Some(account)).await;
    let oscar = operator(&server, &admin, "oscar", Some(account)).await;

    let session = olivia.start_session(account).await.unwrap();
    let id = session.to_string();
    let mut creator = connect(&olivia, session).await;
    type_line(&mut creator, "echo before-$((40+2))").await;
    output_until(&mut creator, "before-42").await;

    // Operators get 403 from every admin server function and the page.
    for (endpoint, form) in [
        ("admin/list_live_sessions", vec![]),
        ("admin/list_past_sessions", vec![]),
        ("admin/terminate_session", vec![("id", id.as_str())]),
    ] {
        let (status, body) = olivia.call(endpoint, &form).await;
        assert!(!status.is_success(), "{endpoint}: {body}");
        assert_eq!(body, Value::String("Forbidden".to_owned()), "{endpoint}");
    }
    let (status, _) = olivia.page("/admin/sessions").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An operator who is not in the session may not watch it, grant or not.
    let (status, _) = oscar.page(&format!("/sessions/{session}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let refused =
        tokio_tungstenite::connect_async(oscar.terminal_request(session, Some(&oscar.base)))
            .await
            .unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");

    // The admin lists it live, opens its page as a monitor and watches.
    let (status, page) = admin.page("/admin/sessions").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Live sessions") && page.contains("Monitor"));
    let live = admin.ok("admin/list_live_sessions", &[]).await;
    let row = row_of(&live, session).expect("the session is listed live");
    assert_eq!(row["creator"], "olivia");
    assert_eq!(row["host"], "sshd");
    assert_eq!(row["account"], test_sshd::TEST_USER);
    assert_eq!(row["participants"], serde_json::json!(["OLIVIA"]));
    assert_eq!(row["controller"], "OLIVIA");
    assert_eq!(row["shared"], false);
    let record = admin.ok("session", &[("id", &id)]).await;
    assert_eq!(record["viewer_is_monitor"], true, "{record}");
    assert_eq!(record["viewer_is_creator"], false);
    let (status, page) = admin.page(&format!("/sessions/{session}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Stop monitoring") && !page.contains("Exit session"));

    let mut monitor = connect(&admin, session).await;
    // The current screen first, then the creator's typing as it happens.
    output_until(&mut monitor, "before-42").await;
    let seen = panel_where(&mut creator, |panel| !panel.monitors.is_empty()).await;
    assert_eq!(seen.monitors, ["Administrator"]);
    assert_eq!(seen.participants.len(), 1, "a monitor is no participant");
    let live = admin.ok("admin/list_live_sessions", &[]).await;
    assert_eq!(
        row_of(&live, session).unwrap()["monitors"],
        serde_json::json!(["Administrator"])
    );

    // The monitor's keystrokes and resizes never reach the host.
    type_line(&mut monitor, "echo typed-by-$((2+2))-monitor").await;
    send(&mut monitor, ClientMsg::Resize { cols: 33, rows: 11 }).await;
    type_line(&mut creator, "stty size; echo creator-$((3*3))").await;
    let screen = output_until(&mut monitor, "creator-9").await;
    assert!(!screen.contains("typed-by-4"), "{screen}");
    assert!(!screen.contains("11 33"), "{screen}");
    let screen = output_until(&mut creator, "creator-9").await;
    assert!(!screen.contains("typed-by-4"), "{screen}");

    // A second socket of the admin's, closed again, leaves them listed.
    let mut second = connect(&admin, session).await;
    second.close(None).await.unwrap();
    type_line(&mut creator, "echo still-$((5*5))").await;
    output_until(&mut monitor, "still-25").await;

    // Terminate: the creator and the monitor are told, and their sockets
    // close.
    admin.ok("admin/terminate_session", &[("id", &id)]).await;
    let (code, message) = ended_and_closed(&mut creator).await;
    assert_eq!(code, "S_451");
    assert_eq!(message, "The session was terminated by an administrator.");
    assert_eq!(ended_and_closed(&mut monitor).await.0, "S_451");

    // Stored as ended with S_451, listed under Past sessions only.
    let record = olivia.ok("session", &[("id", &id)]).await;
    assert_eq!(record["ended"][0], "S_451", "{record}");
    let live = admin.ok("admin/list_live_sessions", &[]).await;
    assert!(row_of(&live, session).is_none(), "{live}");
    let past = admin.ok("admin/list_past_sessions", &[]).await;
    let row = row_of(&past, session).expect("the session is listed as past");
    assert_eq!(row["end_code"], "S_451");
    assert_eq!(row["creator"], "olivia");
    assert!(row["recording_size"].as_i64().unwrap() > 0, "{row}");
    assert!(row["duration_ms"].as_i64().unwrap() >= 0, "{row}");
    let (status, body) = admin.call("admin/terminate_session", &[("id", &id)]).await;
    assert!(!status.is_success(), "only a live session ends");
    assert_eq!(body, serde_json::json!({"NotFound": "live session"}));

    // The recording names the monitor and who terminated it.
    let path = dir.path().join("recordings");
    let file = std::fs::read_dir(&path)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("session-{session}-"))
                && path
                    .extension()
                    .is_some_and(|extension| extension == "cast")
        })
        .unwrap();
    let cast = std::fs::read_to_string(file).unwrap();
    let markers: Vec<String> = cast
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|event| event[1] == "m")
        .map(|event| event[2].as_str().unwrap().to_owned())
        .collect();
    let started = markers
        .iter()
        .position(|m| m == "Administrator started monitoring");
    let terminated = markers
        .iter()
        .position(|m| m == "terminated by Administrator");
    let end = markers.iter().position(|m| m == "session ended (S_451)");
    assert!(
        started.is_some() && started < terminated && terminated < end,
        "{markers:?}"
    );
}
