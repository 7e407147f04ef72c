//! Fan-out of one shared session to N participants (N = 1, 10, 100,
//! 1,000), each a separate invited user with their own WebSocket, against
//! the release `tandem serve` running as a process of its own: how long
//! the N take to enter and attach, the panel bytes everyone was sent
//! meanwhile, MB/s delivered per participant while the host prints
//! continuously, p99 delay from host output to the last participant, and
//! the effect of one stalled participant on the others' p99. Prints figures; asserts nothing. Needs
//! root (for the private sshd). Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{FuturesUnordered, SplitSink};
use futures::{SinkExt, StreamExt};
use protocol::{ClientMsg, ServerEvent, ServerMsg};
use support::{ADMIN_PASSWORD, Browser, Socket, connect};
use test_sshd::Sshd;
use tokio_tungstenite::tungstenite::Message;

const SIZES: [usize; 4] = [1, 10, 100, 1000];
/// Participants entering and attaching at once.
const JOINING_AT_ONCE: usize = 16;
/// Timestamped lines printed by the host for the delay measurement.
const STAMPS: usize = 200;
/// Bytes printed for the throughput figure, shared out so that every N
/// moves a similar total through this 2-core machine.
const FLOOD_TOTAL_BYTES: usize = 1024 * 1024 * 1024;
const FLOOD_MIN_BYTES: usize = 2 * 1024 * 1024;

struct Bench {
    url: String,
    creator: Browser,
    /// The creator's keystrokes; their output is drained in the background
    /// so that the creator never counts as a stalled viewer.
    keyboard: SplitSink<Socket, Message>,
    session: i64,
    code: String,
    account: i64,
    users: usize,
}

impl Bench {
    async fn open(url: String, sshd: &Sshd) -> Self {
        let creator = Browser::new(url.clone());
        creator.log_in("admin", ADMIN_PASSWORD).await;
        let account = creator
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        let session = creator.start_session(account).await.unwrap();
        let (keyboard, mut output) = connect(&creator, session).await.split();
        tokio::spawn(async move { while output.next().await.is_some() {} });
        let share = creator
            .ok(
                "create_share",
                &[
                    ("id", &session.to_string()),
                    ("validity", "1h"),
                    ("password", ""),
                ],
            )
            .await;
        let code = share["code"].as_str().unwrap().to_owned();
        Self {
            url,
            creator,
            keyboard,
            session,
            code,
            account,
            users: 0,
        }
    }

    async fn type_line(&mut self, line: &str) {
        let input = ClientMsg::Input(format!("{line}\r").into_bytes()).encode();
        self.keyboard.send(Message::binary(input)).await.unwrap();
    }

    /// A new operator with the grant, signed in, not in the session yet.
    async fn participant(&mut self) -> Browser {
        self.users += 1;
        let name = format!("viewer{}", self.users);
        let password = format!("{name}-password");
        self.creator
            .ok(
                "admin/create_user",
                &[
                    ("username", &name),
                    ("display_name", &name),
                    ("role", "operator"),
                    ("password", &password),
                ],
            )
            .await;
        let users = self.creator.ok("admin/list_users", &[]).await;
        let user = support::id_where(&users, "username", &name);
        self.creator
            .ok(
                "admin/create_grant",
                &[
                    ("user_id", &user.to_string()),
                    ("host_account_id", &self.account.to_string()),
                ],
            )
            .await;
        let browser = Browser::new(self.url.clone());
        browser.log_in(&name, &password).await;
        browser
    }
}

/// Enters through the invitation and attaches the page's socket.
async fn join(browser: &Browser, code: &str, session: i64) -> Socket {
    browser
        .ok("enter_share", &[("code", code), ("password", "")])
        .await;
    connect(browser, session).await
}

/// Reads a socket until `stop`, counting the bytes of panel frames.
async fn count_panels(
    mut socket: Socket,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (Socket, usize) {
    let mut bytes = 0;
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return (socket, bytes),
            frame = socket.next() => {
                let Some(Ok(Message::Binary(frame))) = frame else {
                    panic!("participant socket closed")
                };
                if let ServerMsg::Event(ServerEvent::Panel(_) | ServerEvent::ParticipantCount { .. }) =
                    ServerMsg::decode(&frame).unwrap()
                {
                    bytes += frame.len();
                }
            }
        }
    }
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Reads a participant's stream until `end`, noting when each `T<nanos>;`
/// stamp arrived relative to when the host printed it, and counting bytes.
async fn follow(mut socket: Socket, end: &'static str) -> (Socket, Vec<(u128, Duration)>, usize) {
    let mut delays = Vec::new();
    let mut bytes = 0;
    let mut carry = String::new();
    loop {
        let Some(Ok(Message::Binary(frame))) = socket.next().await else {
            panic!("participant socket closed")
        };
        let ServerMsg::Output(output) = ServerMsg::decode(&frame).unwrap() else {
            continue;
        };
        let arrived = now_nanos();
        bytes += output.len();
        carry.push_str(&String::from_utf8_lossy(&output));
        while let Some(start) = carry.find("T1") {
            let Some(length) = carry[start..].find(';') else {
                break;
            };
            if let Ok(stamp) = carry[start + 1..start + length].parse::<u128>() {
                let delay = arrived.saturating_sub(stamp);
                delays.push((stamp, Duration::from_nanos(delay as u64)));
            }
            carry.drain(..start + length + 1);
        }
        if carry.contains(end) {
            return (socket, delays, bytes);
        }
        let keep = carry.len().saturating_sub(64);
        let mut cut = keep;
        while !carry.is_char_boundary(cut) {
            cut -= 1;
        }
        carry.drain(..cut);
    }
}

/// p99 over stamps of the delay to the last participant that got each.
async fn delay_p99(bench: &mut Bench, participants: Vec<Socket>) -> (Vec<Socket>, Duration) {
    // Stamps from the host's clock (the same machine), 5 ms apart; the
    // quotes keep the typed command line from looking like a stamp.
    bench
        .type_line(&format!(
            "for i in $(seq {STAMPS}); do echo \"T\"$(date +%s%N)\";\"; sleep 0.005; done; echo STAMPS\"\"_DONE"
        ))
        .await;
    let followers: FuturesUnordered<_> = participants
        .into_iter()
        .map(|socket| follow(socket, "STAMPS_DONE"))
        .collect();
    let results: Vec<_> = followers.collect().await;
    let mut last: std::collections::HashMap<u128, Duration> = Default::default();
    let mut sockets = Vec::new();
    for (socket, delays, _) in results {
        sockets.push(socket);
        for (stamp, delay) in delays {
            let slowest = last.entry(stamp).or_default();
            *slowest = (*slowest).max(delay);
        }
    }
    let mut slowest: Vec<Duration> = last.into_values().collect();
    slowest.sort();
    let p99 = slowest[((slowest.len() - 1) as f64 * 0.99).round() as usize];
    (sockets, p99)
}

/// MB/s each participant received while the host printed continuously.
async fn throughput(bench: &mut Bench, participants: Vec<Socket>) -> (Vec<Socket>, f64) {
    let bytes = (FLOOD_TOTAL_BYTES / participants.len()).max(FLOOD_MIN_BYTES);
    bench
        .type_line(&format!(
            "head -c {bytes} /dev/zero | tr '\\0' x; echo; echo FLOOD\"\"_DONE"
        ))
        .await;
    let started = std::time::Instant::now();
    let followers: FuturesUnordered<_> = participants
        .into_iter()
        .map(|socket| follow(socket, "FLOOD_DONE"))
        .collect();
    let results: Vec<_> = followers.collect().await;
    let seconds = started.elapsed().as_secs_f64();
    let total: usize = results.iter().map(|(_, _, bytes)| bytes).sum();
    let count = results.len() as f64;
    let sockets = results.into_iter().map(|(socket, _, _)| socket).collect();
    (sockets, total as f64 / count / seconds / 1_000_000.0)
}

/// Reads every socket until it has been quiet for a while: what joining
/// sent (screens, panels) is out of the way before anything is timed.
async fn settle(participants: Vec<Socket>) -> Vec<Socket> {
    let readers: FuturesUnordered<_> = participants
        .into_iter()
        .map(|mut socket| async move {
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_millis(300), socket.next()).await
            {}
            socket
        })
        .collect();
    readers.collect().await
}

/// Time from Apply for control (a server function) until every
/// participant's panel shows the request; then the creator refuses it.
async fn control_change_delay(
    bench: &Bench,
    requester: &Browser,
    participants: Vec<Socket>,
) -> (Vec<Socket>, Duration) {
    let id = bench.session.to_string();
    let started = std::time::Instant::now();
    requester.ok("request_control", &[("id", &id)]).await;

    let watchers: FuturesUnordered<_> = participants
        .into_iter()
        .map(|mut socket| async move {
            loop {
                let Some(Ok(Message::Binary(frame))) = socket.next().await else {
                    panic!("participant socket closed")
                };
                if let ServerMsg::Event(ServerEvent::Panel(panel)) =
                    ServerMsg::decode(&frame).unwrap()
                    && let Some(requester) = panel.requests.first()
                {
                    return (socket, started.elapsed(), *requester);
                }
            }
        })
        .collect();
    let results: Vec<_> = watchers.collect().await;
    let slowest = results.iter().map(|(_, delay, _)| *delay).max().unwrap();
    let requester_id = results[0].2.to_string();
    bench
        .creator
        .ok(
            "refuse_control",
            &[("id", &id), ("requester", &requester_id)],
        )
        .await;
    let sockets = results.into_iter().map(|(socket, _, _)| socket).collect();
    (sockets, slowest)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let sshd = Sshd::start();
    let binary = std::env::var("TANDEM_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/tandem").to_owned()
    });
    println!(
        "Fan-out of one shared session (sshd and a separate Tandem process on loopback, release build):"
    );
    println!(
        "  {:>5}  {:>9}  {:>11}  {:>10}  {:>12}  {:>14}",
        "N", "all in", "panel bytes", "MB/s each", "p99 to last", "control change"
    );
    for size in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, url, _) =
            support::serve_process(&binary, dir.path(), &["--demo-host=false"], "");
        let mut bench = Bench::open(url, &sshd).await;
        let mut browsers = Vec::new();
        for _ in 0..size {
            browsers.push(bench.participant().await);
        }

        // Everyone enters and attaches, JOINING_AT_ONCE at a time, while
        // those already in read what they are sent.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let started = std::time::Instant::now();
        let mut readers = Vec::new();
        for batch in browsers.chunks(JOINING_AT_ONCE) {
            let joins: FuturesUnordered<_> = batch
                .iter()
                .map(|browser| join(browser, &bench.code, bench.session))
                .collect();
            for socket in joins.collect::<Vec<_>>().await {
                readers.push(tokio::spawn(count_panels(socket, stopped.clone())));
            }
        }
        let joined = started.elapsed();
        // The last panel goes out within the panel interval.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.send_replace(true);
        let mut participants = Vec::new();
        let mut panel_bytes = 0;
        for reader in readers {
            let (socket, bytes) = reader.await.unwrap();
            participants.push(socket);
            panel_bytes += bytes;
        }
        let participants = settle(participants).await;
        let (participants, control) =
            control_change_delay(&bench, &browsers[0], participants).await;
        let (participants, p99) = delay_p99(&mut bench, participants).await;
        let (participants, rate) = throughput(&mut bench, participants).await;
        println!(
            "  {:>5}  {:>7.2} s  {:>8.2} MB  {:>10.1}  {:>9.1} ms  {:>11.1} ms",
            size,
            joined.as_secs_f64(),
            panel_bytes as f64 / 1_000_000.0,
            rate,
            p99.as_secs_f64() * 1000.0,
            control.as_secs_f64() * 1000.0,
        );
        if size >= 100 {
            // One participant stops reading; the others' p99 again.
            let mut participants = participants;
            let stalled = participants.pop().unwrap();
            let (participants, _) = throughput(&mut bench, participants).await;
            let (_participants, stalled_p99) = delay_p99(&mut bench, participants).await;
            println!(
                "         with one of {size} stalled: p99 to last of the others {:.1} ms ({:+.0}%)",
                stalled_p99.as_secs_f64() * 1000.0,
                (stalled_p99.as_secs_f64() / p99.as_secs_f64() - 1.0) * 100.0
            );
            drop(stalled);
        }
        let _ = server.kill();
        let _ = server.wait();
    }
    println!(
        "  all in: from the first entering to the last socket attached, {JOINING_AT_ONCE} at a time"
    );
    println!("  panel bytes: panel frames sent to all participants meanwhile");
    println!("  MB/s each: received by every participant while the host prints continuously");
    println!("  p99 to last: host output stamp to the last participant that got it");
    println!("  control change: Apply for control until every participant's panel shows it");
}
