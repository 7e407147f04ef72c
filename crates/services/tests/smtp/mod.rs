//! A real SMTP server for tests: aiosmtpd from PyPI, which scripts/test
//! installs (scripts/tools.sh, `ensure_smtp_server`) into a virtual
//! environment whose python it exports as TANDEM_SMTP_PYTHON. The server
//! keeps every message it accepts in a maildir, read back here.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test helpers fail loudly

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HOW_TO_GET_IT: &str = "run the tests with scripts/test, or install aiosmtpd first with \
     `source scripts/tools.sh && ensure_smtp_server` from the repository root and export \
     TANDEM_SMTP_PYTHON=$PWD/target/tools/aiosmtpd/bin/python";

/// An aiosmtpd process on a loopback port; killed when dropped.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    log: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits until it accepts connections. Fails,
    /// saying how to fix it, when TANDEM_SMTP_PYTHON is not set.
    pub fn start() -> Self {
        let python = std::env::var_os("TANDEM_SMTP_PYTHON")
            .filter(|python| !python.is_empty())
            .unwrap_or_else(|| {
                panic!("TANDEM_SMTP_PYTHON is not set, so there is no SMTP server to test email with: {HOW_TO_GET_IT}")
            });
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("aiosmtpd.log");
        let output = File::create(&log).unwrap();
        let port = test_sshd::closed_port();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "starting {} -m aiosmtpd: {error}; {HOW_TO_GET_IT}",
                    Path::new(&python).display()
                )
            });
        let mut server = Self {
            port,
            maildir,
            log,
            child,
            _dir: dir,
        };
        server.wait_until_listening();
        server
    }

    /// The URL to give Tandem: plain SMTP, as to a relay on the same host.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "aiosmtpd exited ({status}) before it listened: {}; {HOW_TO_GET_IT}",
                    self.log()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {} within 20 s: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server printed, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every message delivered so far, in the order of their files' names
    /// (which start with the time of arrival). The maildir handler writes
    /// each one to tmp/ and renames it into new/, so a file there is whole.
    pub fn messages(&self) -> Vec<Email> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
        paths.sort();
        paths
            .iter()
            .map(|path| Email::parse(&std::fs::read_to_string(path).unwrap()))
            .collect()
    }

    /// Waits up to `timeout` until at least `count` messages arrived, and
    /// returns them all.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<Email> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} emails arrived within {timeout:?}; the SMTP server said: {}",
                messages.len(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // Only our own process, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message: its headers (unfolded) and its decoded body.
#[derive(Debug)]
pub struct Email {
    headers: Vec<(String, String)>,
    pub body: String,
    pub raw: String,
}

impl Email {
    fn parse(raw: &str) -> Self {
        let text = raw.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            match (line.starts_with([' ', '\t']), headers.last_mut()) {
                (true, Some((_, value))) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                _ => {
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
            }
        }
        let mut email = Self {
            headers,
            body: String::new(),
            raw: raw.to_owned(),
        };
        email.body = match email
            .header("Content-Transfer-Encoding")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("7bit" | "8bit" | "binary") => body.to_owned(),
            Some("quoted-printable") => decode_quoted_printable(body),
            Some(other) => panic!("an email body in {other}, which this test cannot read: {raw}"),
        };
        email
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(found, _)| found.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[at], hex) {
            (b'=', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
