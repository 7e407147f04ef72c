//! Tandem's SSH side: reading and checking host keys and account keys, and
//! (later) the client connections to managed hosts.

mod host_key;
mod keys;

pub use host_key::{FetchHostKeyError, HostKey, fetch_host_key};
pub use keys::{check_private_key, parse_pinned_key};
