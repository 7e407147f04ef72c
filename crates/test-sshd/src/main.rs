//! Runs a test sshd until standard input closes, for the browser tests:
//! prints one JSON line with its port, host key fingerprint and login.

use std::io::Read;

fn main() {
    let sshd = test_sshd::Sshd::start();
    println!(
        "{{\"port\":{},\"fingerprint\":\"{}\",\"user\":\"{}\",\"password\":\"{}\"}}",
        sshd.port,
        sshd.host_key_fingerprint,
        test_sshd::TEST_USER,
        test_sshd::TEST_PASSWORD
    );
    // Until whoever started us goes away.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
