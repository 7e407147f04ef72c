//! `/sessions/{id}/recording.cast`, its keyframes and the player page
//! against a real sshd: the creator and an admin get them, another
//! operator is refused, and nobody unsigned gets anything.
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

/// A Tandem on a real sshd with its admin, Alice, and Bob, who holds the
/// same grant (that is not enough to see Alice's sessions), and one
/// session of Alice's that ran `command` until `shown` came back, then
/// ended.
struct Recorded {
    server: TestServer,
    admin: Browser,
    alice: Browser,
    bob: Browser,
    session: i64,
    dir: tempfile::TempDir,
    _sshd: Sshd,
}

impl Recorded {
    async fn session(command: &str, shown: &str) -> Self {
        let sshd = Sshd::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(dir.path()).await;
        let admin = signed_in_admin(&server).await;
        let account = admin
            .add_test_host("play", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let alice = operator(&server, &admin, "alice", Some(account)).await;
        let bob = operator(&server, &admin, "bob", Some(account)).await;
        let session = alice.start_session(account).await.unwrap();
        let mut socket = connect(&alice, session).await;
        type_line(&mut socket, command).await;
        output_until(&mut socket, shown).await;
        alice
            .ok("exit_session", &[("id", &session.to_string())])
            .await;
        assert_eq!(ended(&mut socket).await, "S_200");
        Self {
            server,
            admin,
            alice,
            bob,
            session,
            dir,
            _sshd: sshd,
        }
    }
}

#[tokio::test]
async fn a_recording_downloads_for_its_creator_and_admins_only() {
    let Recorded {
        server,
        admin,
        alice,
        bob,
        session,
        dir,
        _sshd,
    } = Recorded::session("echo downloaded-$((40+2))", "downloaded-42").await;

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
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "cast")
        })
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

/// The one keyframes file in the data directory's recordings, once it
/// appears.
async fn kept_keyframes(data_dir: &std::path::Path) -> std::path::PathBuf {
    let began = std::time::Instant::now();
    loop {
        let kept: Vec<_> = std::fs::read_dir(data_dir.join("recordings"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with(".keyframes.json"))
            .collect();
        match kept.as_slice() {
            [one] => return one.clone(),
            [] if began.elapsed() < std::time::Duration::from_secs(15) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => panic!("keyframes kept: {other:?}"),
        }
    }
}

#[tokio::test]
async fn keyframes_are_built_when_the_session_ends_for_those_who_may_play_it() {
    // About 1.3 MB of output: more than one keyframe's worth (1 MiB).
    let Recorded {
        server,
        admin,
        alice,
        bob,
        session,
        dir,
        _sshd,
    } = Recorded::session("seq -f 'n%06g' 1 200000", "n200000").await;

    // Built when the session ended, before anyone asked, and kept beside
    // the recording.
    let kept = kept_keyframes(dir.path()).await;

    let url = format!("/sessions/{session}/recording.keyframes.json");
    let (status, content_type, json) = download(&alice, &url).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(content_type, "application/json");
    let keyframes: Vec<services::Keyframe> = serde_json::from_str(&json).unwrap();
    assert_eq!(keyframes.len(), 1, "{json}");
    let keyframe = &keyframes[0];
    // Its screen is a stretch of seq's lines from partway through.
    let lines: Vec<u32> = drawn(keyframe)
        .iter()
        .filter_map(|line| line.trim_end().strip_prefix('n')?.parse().ok())
        .collect();
    assert!(lines.len() >= 20, "{lines:?}");
    assert!(
        lines.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{lines:?}"
    );
    assert!((100_000..200_000).contains(&lines[0]), "{lines:?}");

    assert_eq!(std::fs::read_to_string(&kept).unwrap(), json);
    assert_eq!(download(&admin, &url).await.2, json);

    let (status, _, refused) = download(&bob, &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!refused.contains("screen"));
    let (status, _, _) = download(&server.browser(), &url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A recording whose keyframes were not kept (Tandem stopped during
    // the session) has none beside it: the first Play builds them by
    // replaying it, at the same place with the same screen, and keeps them.
    std::fs::remove_file(&kept).unwrap();
    let (status, _, json) = download(&alice, &url).await;
    assert_eq!(status, StatusCode::OK);
    let rebuilt: Vec<services::Keyframe> = serde_json::from_str(&json).unwrap();
    let place = |key: &services::Keyframe| (key.events, key.time, key.cols, key.rows);
    assert_eq!(
        rebuilt.iter().map(place).collect::<Vec<_>>(),
        [place(keyframe)]
    );
    assert_eq!(drawn(&rebuilt[0]), drawn(keyframe));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), json);
}

/// The rows a terminal shows after drawing `keyframe`'s screen.
fn drawn(keyframe: &services::Keyframe) -> Vec<String> {
    let (cols, rows) = (usize::from(keyframe.cols), usize::from(keyframe.rows));
    let mut terminal = avt::Terminal::new(cols, rows).unwrap();
    terminal.feed(keyframe.screen.as_str());
    terminal.screen().text()
}
