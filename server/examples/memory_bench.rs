//! The server's memory under bursts of sign-ins and after sessions: starts
//! the built `tandem serve` as a child process (its own data directory, the
//! demo host on) and, from this process as the client, signs in 1,000 times
//! at 8 at once, then opens 200 sessions on the demo host (8 at once), prints
//! some output in each and exits it. For each phase it prints the server's
//! resident memory before, at its peak and after, and the server's CPU time.
//!
//! Then what an idle session and an idle viewer cost: on a server that has
//! never hashed a password (its users signed in on a first server process
//! on the same data directory, whose sign-ins the second one honours, so
//! that no memory freed by password hashing hides what sessions take),
//! 1,000 sessions on the demo host, each with its creator's terminal
//! attached, then 1,000 viewers entering one of them. The demo host runs in
//! the server's process, so its share of each session is counted too; its
//! login shell is `/bin/sh`.
//! Prints figures; asserts nothing. Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use support::{Browser, Socket, connect, ended, id_where, output_until, type_line};

const ADMIN_PASSWORD: &str = "memory-bench-admin";
const SIGN_INS: usize = 1_000;
const SESSIONS: usize = 200;
const CONCURRENCY: usize = 8;
const IDLE_SESSIONS: usize = 1_000;
const IDLE_VIEWERS: usize = 1_000;
/// How long the server is left idle after a phase before its memory is
/// read again: long enough for an allocator that returns memory on a timer.
const SETTLE: Duration = Duration::from_secs(10);
const MIB: f64 = 1024.0 * 1024.0;

/// The server under test, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago; the server binds it at once.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(binary: &Path, data_dir: &Path, port: u16) -> Self {
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))
            .unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .env("TANDEM_DATA_DIR", data_dir)
            .env("TANDEM_ADDR", format!("127.0.0.1:{port}"))
            .env("TANDEM_PUBLIC_URL", &base)
            .env("TANDEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TANDEM_DEMO_HOST", "true")
            .env("TANDEM_MAX_SESSIONS_PER_USER", IDLE_SESSIONS.to_string())
            .env("SHELL", "/bin/sh")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", binary.display()));
        Server { child, base }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client.get(&self.base).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not answer within 60 s");
    }

    /// A line of `/proc/<pid>/status`, in bytes (the kernel counts kB).
    fn status_bytes(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with(field))
            .unwrap_or_else(|| panic!("no {field} in /proc status"));
        let kilobytes: u64 = line
            .trim_start_matches(field)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kilobytes * 1024
    }

    fn resident(&self) -> u64 {
        self.status_bytes("VmRSS:")
    }

    /// Resets the kernel's high-water mark of the resident set, so that
    /// `peak` tells the peak of one phase only.
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").unwrap();
    }

    fn peak(&self) -> u64 {
        self.status_bytes("VmHWM:")
    }

    /// User and system CPU time of the whole process (all its threads).
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // The command name may hold spaces; the fields after it do not.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Linux reports these in USER_HZ, 100 on every architecture it runs on.
        Duration::from_millis(ticks * 10)
    }
}

/// What one phase did to the server.
struct Figures {
    name: String,
    before: u64,
    peak: u64,
    right_after: u64,
    settled: u64,
    cpu: Duration,
    wall: Duration,
}

async fn measure<F: Future<Output = ()>>(server: &Server, name: &str, phase: F) -> Figures {
    let before = server.resident();
    let cpu = server.cpu();
    server.reset_peak();
    let started = Instant::now();
    phase.await;
    let wall = started.elapsed();
    let right_after = server.resident();
    let peak = server.peak();
    let cpu = server.cpu() - cpu;
    tokio::time::sleep(SETTLE).await;
    Figures {
        name: name.to_owned(),
        before,
        peak,
        right_after,
        settled: server.resident(),
        cpu,
        wall,
    }
}

async fn sign_ins(base: &str) {
    let workers = (0..CONCURRENCY).map(|_| async move {
        for _ in 0..SIGN_INS / CONCURRENCY {
            // A browser of its own each time, as many people signing in.
            let browser = Browser::new(base.to_owned());
            let (status, body) = browser.log_in("admin", ADMIN_PASSWORD).await;
            assert!(status.is_success(), "sign-in: {status} {body}");
        }
    });
    futures::future::join_all(workers).await;
}

/// Opens a session on the demo host as Login does, attaches its terminal,
/// prints about 100 kB in it and exits it.
async fn one_session(admin: &Browser, account: i64) {
    let session = admin.start_session(account).await.unwrap();
    let mut socket = connect(admin, session).await;
    // The quotes keep the echoed command line from matching the marker.
    type_line(&mut socket, "seq 1 20000; echo SEQ\"\"-DONE").await;
    output_until(&mut socket, "SEQ-DONE").await;
    admin
        .ok("exit_session", &[("id", &session.to_string())])
        .await;
    ended(&mut socket).await;
}

async fn sessions(admin: &Browser, account: i64) {
    let workers = (0..CONCURRENCY).map(|_| async move {
        for _ in 0..SESSIONS / CONCURRENCY {
            one_session(admin, account).await;
        }
    });
    futures::future::join_all(workers).await;
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / MIB)
}

fn the_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TANDEM_BIN") {
        return path.into();
    }
    // target/<profile>/examples/memory_bench → target/<profile>/tandem
    let example = std::env::current_exe().unwrap();
    example.parent().unwrap().parent().unwrap().join("tandem")
}

#[tokio::main]
async fn main() {
    let binary = the_server_binary();
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(&binary, data_dir.path(), free_port());
    server.wait_until_ready().await;
    println!(
        "Server {} (pid {}), fresh: {} resident",
        binary.display(),
        server.pid(),
        megabytes(server.resident())
    );

    let mut figures = vec![
        measure(
            &server,
            &format!("{SIGN_INS} sign-ins, {CONCURRENCY} at once"),
            sign_ins(&server.base),
        )
        .await,
    ];

    let admin = Browser::new(server.base.clone());
    let (status, body) = admin.log_in("admin", ADMIN_PASSWORD).await;
    assert!(status.is_success(), "{body}");
    let accounts = admin.ok("admin/list_host_accounts", &[]).await;
    let demo = id_where(&accounts, "host_name", "demo");
    figures.push(
        measure(
            &server,
            &format!("{SESSIONS} sessions, {CONCURRENCY} at once"),
            sessions(&admin, demo),
        )
        .await,
    );

    println!(
        "  {:<28} {:>9} {:>9} {:>11} {:>14} {:>9} {:>8}",
        "phase",
        "before",
        "peak",
        "right after",
        format!("after {} s", SETTLE.as_secs()),
        "CPU",
        "wall"
    );
    for phase in &figures {
        println!(
            "  {:<28} {:>9} {:>9} {:>11} {:>14} {:>7.1} s {:>6.1} s",
            phase.name,
            megabytes(phase.before),
            megabytes(phase.peak),
            megabytes(phase.right_after),
            megabytes(phase.settled),
            phase.cpu.as_secs_f64(),
            phase.wall.as_secs_f64()
        );
    }
    let first = figures[0].before;
    let last = figures[figures.len() - 1].settled;
    println!(
        "  from fresh to the end: {} → {} ({:+.0} MiB)",
        megabytes(first),
        megabytes(last),
        (last as f64 - first as f64) / MIB
    );
    drop(server);

    idle_costs(&binary).await;
}

/// Creates `count` operators with the grant to `account`, each signed in
/// with a browser of their own.
async fn signed_in_viewers(admin: &Browser, account: i64, count: usize) -> Vec<Browser> {
    let mut viewers = Vec::new();
    for n in 0..count {
        let name = format!("viewer{n}");
        let password = format!("{name}-password");
        let form = [
            ("username", name.as_str()),
            ("display_name", name.as_str()),
            ("role", "operator"),
            ("password", password.as_str()),
        ];
        admin.ok("admin/create_user", &form).await;
        viewers.push((name, password));
    }
    let users = admin.ok("admin/list_users", &[]).await;
    for (name, _) in &viewers {
        let user = id_where(&users, "username", name).to_string();
        let grant = [
            ("user_id", user.as_str()),
            ("host_account_id", &account.to_string()),
        ];
        admin.ok("admin/create_grant", &grant).await;
    }
    let mut browsers = Vec::new();
    for batch in viewers.chunks(CONCURRENCY) {
        let sign_ins: FuturesUnordered<_> = batch
            .iter()
            .map(|(name, password)| async move {
                let browser = Browser::new(admin.base.clone());
                let (status, body) = browser.log_in(name, password).await;
                assert!(status.is_success(), "{body}");
                browser
            })
            .collect();
        browsers.extend(sign_ins.collect::<Vec<_>>().await);
    }
    browsers
}

/// A session on the demo host with its creator's terminal attached, once
/// its shell answers.
async fn idle_session(admin: &Browser, account: i64) -> (i64, Socket) {
    let session = admin.start_session(account).await.unwrap();
    let mut socket = connect(admin, session).await;
    type_line(&mut socket, "echo READY\"\"-$((6*7))").await;
    output_until(&mut socket, "READY-42").await;
    (session, socket)
}

/// Resident memory once the server has been left alone for a while.
async fn settled(server: &Server) -> u64 {
    tokio::time::sleep(SETTLE).await;
    server.resident()
}

async fn idle_costs(binary: &Path) {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let first = Server::start(binary, data_dir.path(), port);
    first.wait_until_ready().await;
    let admin = Browser::new(first.base.clone());
    let (status, body) = admin.log_in("admin", ADMIN_PASSWORD).await;
    assert!(status.is_success(), "{body}");
    let accounts = admin.ok("admin/list_host_accounts", &[]).await;
    let demo = id_where(&accounts, "host_name", "demo");
    let viewers = signed_in_viewers(&admin, demo, IDLE_VIEWERS).await;
    drop(first);

    let server = Server::start(binary, data_dir.path(), port);
    server.wait_until_ready().await;
    let fresh = settled(&server).await;

    let mut sessions = Vec::new();
    for _ in 0..IDLE_SESSIONS / CONCURRENCY {
        let opening: FuturesUnordered<_> = (0..CONCURRENCY)
            .map(|_| idle_session(&admin, demo))
            .collect();
        sessions.extend(opening.collect::<Vec<_>>().await);
    }
    let with_sessions = settled(&server).await;

    let watched = sessions[0].0;
    let share = admin
        .ok(
            "create_share",
            &[
                ("id", &watched.to_string()),
                ("validity", "1h"),
                ("password", ""),
            ],
        )
        .await;
    let code = share["code"].as_str().unwrap();
    let mut watching = Vec::new();
    for batch in viewers.chunks(CONCURRENCY) {
        let joins: FuturesUnordered<_> = batch
            .iter()
            .map(|viewer| async move {
                viewer
                    .ok("enter_share", &[("code", code), ("password", "")])
                    .await;
                connect(viewer, watched).await
            })
            .collect();
        watching.extend(joins.collect::<Vec<_>>().await);
    }
    let with_viewers = settled(&server).await;

    let per = |grown: u64, count: usize| grown as f64 / count as f64 / 1024.0;
    println!(
        "Idle sessions and viewers (a server that has hashed no password; demo host, /bin/sh):"
    );
    println!(
        "  fresh {}, with {IDLE_SESSIONS} idle sessions {}: {:.0} KiB a session",
        megabytes(fresh),
        megabytes(with_sessions),
        per(with_sessions.saturating_sub(fresh), IDLE_SESSIONS)
    );
    println!(
        "  with {IDLE_VIEWERS} idle viewers on one of them {}: {:.0} KiB a viewer",
        megabytes(with_viewers),
        per(with_viewers.saturating_sub(with_sessions), IDLE_VIEWERS)
    );
    drop((watching, sessions));
}
