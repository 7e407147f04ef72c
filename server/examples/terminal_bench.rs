//! Keystroke echo latency and output throughput through Tandem (WebSocket →
//! Tandem → SSH → sshd and back), with and without recording, against the
//! same sshd reached directly with russh. Prints figures; asserts nothing. Needs root (for the private
//! sshd). Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use domain::{Fingerprint, HostAddress, Port, TerminalSize};
use futures::{SinkExt, StreamExt};
use gateway::{Credential, ShellCommand, ShellEvent, ShellTarget, Timeouts};
use protocol::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use support::{ADMIN_PASSWORD, Browser, TestServer};
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

async fn throughput(terminal: &mut impl Terminal) -> f64 {
    terminal
        .send(format!("cat {BULK_FILE}; echo __BENCH\"\"_END__\r").as_bytes())
        .await;
    let started = Instant::now();
    let bytes = terminal.wait_for(END_MARK.as_bytes()).await;
    bytes as f64 / started.elapsed().as_secs_f64() / 1_000_000.0
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
    let recorded_dir = tempfile::tempdir().unwrap();
    let unrecorded_dir = tempfile::tempdir().unwrap();
    let recorded = TestServer::start(recorded_dir.path()).await;
    let unrecorded = TestServer::start_with(unrecorded_dir.path(), |config| {
        config.record_sessions = false;
    })
    .await;
    let mut tandems = Vec::new();
    for server in [&recorded, &unrecorded] {
        let admin = server.browser();
        admin.log_in("admin", ADMIN_PASSWORD).await;
        let account = admin
            .add_test_host("sshd", sshd.port, &sshd.host_key_fingerprint)
            .await;
        tandems.push(tandem_terminal(&admin, account).await);
    }
    let [mut with_recording, mut without_recording] =
        <[ThroughTandem; 2]>::try_from(tandems).ok().unwrap();

    let mut direct = direct_terminal(&sshd).await;
    let mut echoes = [Vec::new(), Vec::new(), Vec::new()];
    let mut rates = [0.0_f64; 3];
    // What recording costs, round by round: the recorded and unrecorded
    // turns of one round run within seconds of each other, so the ratio
    // of the two is spared most of the machine's drift.
    let mut costs = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        let mut p50 = [0.0; 3];
        let mut p99 = [0.0; 3];
        let mut rate = [0.0; 3];
        for turn in 0..3 {
            let which = (turn + round) % 3;
            let (mut echo, bytes_per_second) = match which {
                0 => (
                    echo_latencies(&mut direct, KEYSTROKES / ROUNDS).await,
                    throughput(&mut direct).await,
                ),
                1 => (
                    echo_latencies(&mut with_recording, KEYSTROKES / ROUNDS).await,
                    throughput(&mut with_recording).await,
                ),
                _ => (
                    echo_latencies(&mut without_recording, KEYSTROKES / ROUNDS).await,
                    throughput(&mut without_recording).await,
                ),
            };
            echo.sort();
            p50[which] = micros(percentile(&echo, 0.5));
            p99[which] = micros(percentile(&echo, 0.99));
            rate[which] = bytes_per_second;
            echoes[which].extend(echo);
            rates[which] = rates[which].max(bytes_per_second);
        }
        costs[0].push(p50[1] / p50[2] - 1.0);
        costs[1].push(p99[1] / p99[2] - 1.0);
        costs[2].push(rate[1] / rate[2] - 1.0);
    }
    let _ = std::fs::remove_file(BULK_FILE);
    for samples in &mut echoes {
        samples.sort();
    }

    let p50 = echoes.each_ref().map(|echo| micros(percentile(echo, 0.5)));
    let p99 = echoes.each_ref().map(|echo| micros(percentile(echo, 0.99)));
    let names = [
        "direct russh",
        "via Tandem, recorded",
        "via Tandem, unrecorded",
    ];
    println!(
        "Keystroke echo over {KEYSTROKES} keystrokes (sshd on loopback, cat echoing in a PTY):"
    );
    for (index, name) in names.iter().enumerate() {
        println!(
            "  {name:<24}: p50 {:>8.1} µs   p99 {:>8.1} µs   ({:.2} x / {:.2} x direct)",
            p50[index],
            p99[index],
            p50[index] / p50[0],
            p99[index] / p99[0]
        );
    }
    println!(
        "Output throughput, cat of {} MB through a PTY (best of {ROUNDS}):",
        BULK_BYTES / 1_000_000
    );
    for (index, name) in names.iter().enumerate() {
        println!(
            "  {name:<24}: {:>8.1} MB/s ({:.0}% of direct)",
            rates[index],
            rates[index] / rates[0] * 100.0
        );
    }
    let [p50_cost, p99_cost, rate_cost] = costs.map(|mut round_costs| {
        round_costs.sort_by(f64::total_cmp);
        round_costs[round_costs.len() / 2] * 100.0
    });
    println!(
        "What recording costs (median of {ROUNDS} rounds, recorded against unrecorded): \
         echo p50 {p50_cost:+.1}%, p99 {p99_cost:+.1}%, throughput {rate_cost:+.1}%"
    );
}
