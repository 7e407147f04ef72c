//! A private OpenSSH `sshd` for tests: its own configuration, host key and
//! loopback port, and a test user with a password and an authorized key.
//! It needs root (for password logins of another user and for PTYs) and
//! Debian's `openssh-server`; it never touches the system's own sshd.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The login every test sshd accepts.
pub const TEST_USER: &str = "tandem-test";
pub const TEST_PASSWORD: &str = "tandem-test-password";

pub struct Sshd {
    pub port: u16,
    /// `SHA256:...` of the server's host key, as pinned in Tandem.
    pub host_key_fingerprint: String,
    /// An OpenSSH private key authorized for `TEST_USER`.
    pub client_private_key: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Sshd {
    pub fn start() -> Self {
        ensure_test_user();
        let dir = tempfile::tempdir().unwrap();
        let host_key = dir.path().join("host_ed25519");
        keygen(&host_key);
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key);
        install_authorized_key(&client_key.with_extension("pub"));
        let port = free_port();
        let config = dir.path().join("sshd_config");
        std::fs::write(&config, sshd_config(dir.path(), &host_key, port)).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start /usr/sbin/sshd (apt-get install openssh-server)");
        wait_for_banner(port);
        Self {
            port,
            host_key_fingerprint: fingerprint(&host_key.with_extension("pub")),
            client_private_key: std::fs::read_to_string(&client_key).unwrap(),
            child,
            dir,
        }
    }
}

impl Sshd {
    /// What sshd logged so far (at DEBUG1: every authentication request
    /// with its user and method).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap()
    }

    /// Stops (SIGSTOP) every process serving a connection, so the host
    /// goes silent without closing anything, as a hung host does. Returns
    /// them, for `kill_frozen`.
    pub fn freeze_connections(&self) -> Vec<String> {
        let frozen = descendants(self.child.id());
        for pid in &frozen {
            signal(pid, "-STOP");
        }
        frozen
    }
}

/// Kills processes frozen by `freeze_connections`.
pub fn kill_frozen(pids: &[String]) {
    for pid in pids {
        signal(pid, "-KILL");
    }
}

fn signal(pid: &str, signal: &str) {
    let _ = Command::new("kill").args([signal, pid]).status();
}

fn descendants(pid: u32) -> Vec<String> {
    let output = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .flat_map(|child| {
            let mut family = vec![child.to_owned()];
            family.extend(descendants(child.parse().unwrap_or(0)));
            family
        })
        .collect()
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Only our own process, by pid: other sshd processes may be running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP listener that accepts connections and never says a word: an SSH
/// client waits on it forever unless it has a timeout.
pub struct SilentListener {
    pub port: u16,
    _thread: std::thread::JoinHandle<()>,
}

impl SilentListener {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        Self {
            port,
            _thread: thread,
        }
    }
}

/// A TCP listener that greets like an SSH server, then sends bytes no SSH
/// packet can be: a client fails with a protocol error, neither a timeout
/// nor an unreachable host.
pub struct GarbleListener {
    pub port: u16,
    _thread: std::thread::JoinHandle<()>,
}

impl GarbleListener {
    pub fn start() -> Self {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for mut stream in listener.incoming().flatten() {
                // A packet length of 4 GiB, then nothing more.
                let _ = stream.write_all(b"SSH-2.0-Garble\r\n\xff\xff\xff\xff\xff\xff\xff\xff");
                held.push(stream);
            }
        });
        Self {
            port,
            _thread: thread,
        }
    }
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    free_port()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "tandem-test", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen failed");
}

fn fingerprint(public_key: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(public_key)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().nth(1).unwrap().to_owned()
}

fn sshd_config(dir: &Path, host_key: &Path, port: u16) -> String {
    format!(
        "ListenAddress 127.0.0.1\n\
         Port {port}\n\
         HostKey {host_key}\n\
         PidFile {pid}\n\
         AuthorizedKeysFile {authorized}\n\
         UsePAM no\n\
         PasswordAuthentication yes\n\
         KbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\n\
         StrictModes no\n\
         PermitRootLogin no\n\
         UseDNS no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         MaxStartups 200:30:300\n\
         MaxSessions 100\n\
         AcceptEnv LANG LC_*\n\
         LogLevel DEBUG1\n",
        host_key = host_key.display(),
        pid = dir.join("sshd.pid").display(),
        authorized = dir.join("authorized_keys").display(),
    )
}

fn install_authorized_key(public_key: &Path) {
    let dir = public_key.parent().unwrap();
    std::fs::copy(public_key, dir.join("authorized_keys")).unwrap();
}

fn ensure_test_user() {
    let exists = Command::new("id")
        .arg(TEST_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    if !exists {
        // Another test may be creating it at the same moment: ignore the
        // failure and check again.
        let _ = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/bash", TEST_USER])
            .stderr(Stdio::null())
            .status();
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd (tests that start sshd must run as root)");
    use std::io::Write;
    chpasswd
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{TEST_USER}:{TEST_PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(
        chpasswd.wait().unwrap().success(),
        "chpasswd failed: run the tests as root"
    );
}

fn wait_for_banner(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut banner = [0u8; 4];
            if stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("sshd did not come up on port {port}");
}
