//! One module per table.

pub mod api_token;
pub mod audit_event;
pub mod grant;
pub mod host;
pub mod host_account;
pub mod join_record;
pub mod notification;
pub mod om_session;
pub mod project;
pub mod session_member;
pub mod share;
pub mod user;
pub mod web_session;
