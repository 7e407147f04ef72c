//! The server's memory under bursts of sign-ins and after sessions: starts
//! the built `tandem serve` as a child process (its own data directory, the
//! demo host on) and, from this process as the client, signs in 1,000 times
//! at 8 at once, then opens 200 sessions on the demo host (8 at once), prints
//! some output in each and exits it. For each phase it prints the server's
//! resident memory before, at its peak and after, and the server's CPU time.
//! Prints figures; asserts nothing. Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Browser, connect, ended, id_where, output_until, type_line};

const ADMIN_PASSWORD: &str = "memory-bench-admin";
const SIGN_INS: usize = 1_000;
const SESSIONS: usize = 200;
const CONCURRENCY: usize = 8;
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

impl Server {
    fn start(binary: &Path, data_dir: &Path) -> Self {
        // A port that was free a moment ago; the server binds it at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(data_dir.join("server.log")).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .env("TANDEM_DATA_DIR", data_dir)
            .env("TANDEM_ADDR", format!("127.0.0.1:{port}"))
            .env("TANDEM_PUBLIC_URL", &base)
            .env("TANDEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TANDEM_DEMO_HOST", "true")
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
    let server = Server::start(&binary, data_dir.path());
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
}
