//! One module per table.

pub mod grant;
pub mod host;
pub mod host_account;
pub mod om_session;
pub mod project;
pub mod user;
pub mod web_session;
