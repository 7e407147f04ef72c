//! Tandem's SSH side: host keys, account keys, and interactive shells on
//! managed hosts.

mod demo_host;
mod host_key;
mod keys;
mod shell;

pub use demo_host::{DemoHost, start_demo_host};
pub use host_key::{FetchHostKeyError, HostKey, fetch_host_key};
pub use keys::{check_private_key, parse_pinned_key};
pub use shell::{Credential, ShellCommand, ShellEvent, ShellTarget, TERM, Timeouts, open_shell};
