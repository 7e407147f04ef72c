//! Keystroke echo latency, output throughput and the CPU time each byte of
//! output costs, through Tandem (WebSocket → Tandem → SSH → sshd and back)
//! against the same sshd reached directly with russh. Tandem runs as a
//! process of its own (the release `tandem serve`, recording as always), so
//! its CPU time is its own; the direct client's is this process's during
//! its turns. Prints figures; asserts nothing. Needs root (for the private
//! sshd). Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use domain::{Fingerprint, HostAddress, Port, TerminalSize};
use futures::{SinkExt, StreamExt};
use gateway::{Credential, ShellCommand, ShellEvent, ShellTarget, Timeouts};
use protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use support::{ADMIN_PASSWORD, Browser};
use test_sshd::{Sshd, TEST_PASSWORD, TEST_USER};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const KEYSTROKES: usize = 12_000;
/// Turns taken by each terminal. The order rotates from round to round, so
/// neither drift in the machine's load nor going first or last after
/// another terminal falls on one of them more than the others.
const ROUNDS: usize = 12;
const BULK_BYTES: usize = 32 * 1024 * 1024;
const BULK_FILE: &str = "/tmp/tandem-bench-output.txt";
const END_MARK: &str = "__BENCH_END__";

/// One way to reach the shell: send bytes, receive output.
trait Terminal {
    async fn send(&mut self, bytes: &[u8]);
    async fn receive(&mut self) -> Vec<u8>;

    async fn wait_for(&mut self, needle: &[u8]) -> usize {
        let mut window: Vec<u8> = Vec::new();
        let mut total = 0;
        loop {
            let chunk = self.receive().await;
            total += chunk.len();
            window.extend_from_slice(&chunk);
            if window.windows(needle.len()).any(|part| part == needle) {
                return total;
            }
            let keep = window.len().saturating_sub(needle.len());
            window.drain(..keep);
        }
    }
}

struct Direct {
    commands: mpsc::UnboundedSender<ShellCommand>,
    events: mpsc::Receiver<ShellEvent>,
}

impl Terminal for Direct {
    async fn send(&mut self, bytes: &[u8]) {
        self.commands
            .send(ShellCommand::Input(bytes.to_vec()))
            .unwrap();
    }

    async fn receive(&mut self) -> Vec<u8> {
        match self.events.recv().await.unwrap() {
            ShellEvent::Output(bytes) => bytes,
            ShellEvent::Closed(end) => panic!("shell closed: {end:?}"),
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct ThroughTandem {
    socket: Socket,
}

impl Terminal for ThroughTandem {
    async fn send(&mut self, bytes: &[u8]) {
        let frame = ClientMsg::Input(bytes.to_vec()).encode();
        self.socket.send(Message::binary(frame)).await.unwrap();
    }

    async fn receive(&mut self) -> Vec<u8> {
        loop {
            if let Message::Binary(frame) = self.socket.next().await.unwrap().unwrap()
                && let ServerMsg::Output(bytes) = ServerMsg::decode(&frame).unwrap()
            {
                return bytes;
            }
        }
    }
}

/// Turns off line editing and echo in the PTY, with `cat` echoing every
/// byte back as it arrives (signals stay on, so Ctrl-C ends it).
async fn start_echo(terminal: &mut impl Terminal) {
    // The quotes keep the echoed command line from matching the marker.
    terminal
        .send(b"stty -icanon -echo; echo RE\"\"ADY; cat\r")
        .await;
    terminal.wait_for(b"READY").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn echo_latencies(terminal: &mut impl Terminal, keystrokes: usize) -> Vec<Duration> {
    start_echo(terminal).await;
    let mut samples = Vec::with_capacity(keystrokes);
    for index in 0..keystrokes {
        let key = [b'a' + (index % 26) as u8];
        let started = Instant::now();
        terminal.send(&key).await;
        terminal.wait_for(&key).await;
        samples.push(started.elapsed());
    }
    // End cat and restore the PTY.
    terminal.send(b"\x03").await;
    terminal.send(b"stty sane\r").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    samples
}

/// Bytes per second through `terminal` for one bulk `cat`, and the CPU
/// seconds `process` spent meanwhile.
async fn throughput(terminal: &mut impl Terminal, process: &str) -> (f64, f64) {
    terminal
        .send(format!("cat {BULK_FILE}; echo __BENCH\"\"_END__\r").as_bytes())
        .await;
    let started = Instant::now();
    let cpu_before = cpu_seconds(process);
    let bytes = terminal.wait_for(END_MARK.as_bytes()).await;
    let cpu = cpu_seconds(process) - cpu_before;
    (
        bytes as f64 / started.elapsed().as_secs_f64() / 1_000_000.0,
        cpu,
    )
}

/// User and system CPU seconds of a process (`self` or a pid), from /proc.
fn cpu_seconds(process: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap();
    // The fields after the command name, which may hold spaces, in
    // parentheses; utime and stime are the 14th and 15th fields, in
    // ticks of 1/100 s.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000_000.0
}

async fn tandem_terminal(browser: &Browser, account: i64) -> ThroughTandem {
    let session = browser.start_session(account).await.unwrap();
    let request = browser.terminal_request(session, Some(&browser.base));
    // Browsers disable Nagle on WebSockets too.
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .unwrap();
    let hello = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        resume_from: None,
    }
    .encode();
    socket.send(Message::binary(hello)).await.unwrap();
    ThroughTandem { socket }
}

async fn direct_terminal(sshd: &Sshd) -> Direct {
    let target = ShellTarget {
        address: HostAddress::parse("127.0.0.1").unwrap(),
        port: Port::new(sshd.port).unwrap(),
        fingerprint: Fingerprint::parse(&sshd.host_key_fingerprint).unwrap(),
        login: TEST_USER.to_owned(),
        credential: Credential::Password(TEST_PASSWORD.to_owned()),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(10),
        keepalive_interval: Duration::from_secs(15),
        keepalive_max: 3,
    };
    let (commands, queue) = mpsc::unbounded_channel();
    let events = gateway::open_shell(target, TerminalSize::clamped(120, 40), timeouts, queue)
        .await
        .unwrap();
    Direct { commands, events }
}

fn write_bulk_file() {
    let line = "Tandem benchmark output: the quick brown fox jumps over the lazy dog 0123456789\n";
    let text = line.repeat(BULK_BYTES / line.len());
    std::fs::write(BULK_FILE, text).unwrap();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    write_bulk_file();
    let sshd = Sshd::start();
    let binary = std::env::var("TANDEM_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/tandem").to_owned()
    });
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url, _) =
        support::serve_process(&binary, dir.path(), &["--demo-host=false"], "");
    let tandem_pid = server.id().to_string();
    let admin = Browser::new(url);
    admin.log_in("admin", ADMIN_PASSWORD).await;
    let account = admin
        .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
        .await;
    let mut tandem = tandem_terminal(&admin, account).await;
    let mut direct = direct_terminal(&sshd).await;

    let mut echoes = [Vec::new(), Vec::new()];
    let mut rates = [Vec::new(), Vec::new()];
    // CPU seconds per MB: the direct client's (this process), Tandem's
    // (its process) and Tandem's browser side (this process).
    let mut cpu = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for turn in 0..2 {
            let which = (turn + round) % 2;
            let mb = BULK_BYTES as f64 / 1_000_000.0;
            let echo = match which {
                0 => {
                    let echo = echo_latencies(&mut direct, KEYSTROKES / ROUNDS).await;
                    let (rate, client) = throughput(&mut direct, "self").await;
                    rates[0].push(rate);
                    cpu[0].push(client / mb);
                    echo
                }
                _ => {
                    let echo = echo_latencies(&mut tandem, KEYSTROKES / ROUNDS).await;
                    let client_before = cpu_seconds("self");
                    let (rate, served) = throughput(&mut tandem, &tandem_pid).await;
                    rates[1].push(rate);
                    cpu[1].push(served / mb);
                    cpu[2].push((cpu_seconds("self") - client_before) / mb);
                    echo
                }
            };
            echoes[which].extend(echo);
        }
    }
    let _ = std::fs::remove_file(BULK_FILE);
    let resident = resident_kib(&tandem_pid);
    let _ = server.kill();
    let _ = server.wait();
    for samples in &mut echoes {
        samples.sort();
    }
    let median = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };

    let p50 = echoes.each_ref().map(|echo| micros(percentile(echo, 0.5)));
    let p99 = echoes.each_ref().map(|echo| micros(percentile(echo, 0.99)));
    let names = ["direct russh", "via Tandem (recorded)"];
    println!(
        "Keystroke echo over {KEYSTROKES} keystrokes (sshd on loopback, cat echoing in a PTY):"
    );
    for (index, name) in names.iter().enumerate() {
        println!(
            "  {name:<22}: p50 {:>8.1} µs   p99 {:>8.1} µs   ({:.2} x / {:.2} x direct)",
            p50[index],
            p99[index],
            p50[index] / p50[0],
            p99[index] / p99[0]
        );
    }
    let rate = rates.each_ref().map(|rates| median(rates));
    println!(
        "Output throughput, cat of {} MB through a PTY (median of {ROUNDS}):",
        BULK_BYTES / 1_000_000
    );
    for (index, name) in names.iter().enumerate() {
        println!(
            "  {name:<22}: {:>8.1} MB/s ({:.0}% of direct)",
            rate[index],
            rate[index] / rate[0] * 100.0
        );
    }
    let [client, served, browser] = cpu.each_ref().map(|cpu| median(cpu) * 1000.0);
    println!("CPU time per MB of output streamed (median of {ROUNDS}):");
    println!("  direct russh client    : {client:>7.2} ms");
    println!(
        "  Tandem server          : {served:>7.2} ms ({:.2} x the direct client)",
        served / client
    );
    println!("  its WebSocket client   : {browser:>7.2} ms (this benchmark, for reference)");
    println!("Tandem's resident memory after the run: {resident} KiB");
}

/// The resident memory of a process, from /proc.
fn resident_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
