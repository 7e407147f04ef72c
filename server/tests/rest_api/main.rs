//! The REST API against a real sshd: every field, format and status code of
//! remote assistance, each answer checked against the served OpenAPI
//! document and compared whole; API tokens from creation to revocation and
//! expiry; and the refusals the HTTP layer itself could give.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

#[path = "../support/mod.rs"]
mod support;

mod contract;
mod fixture;
mod refusals;
mod share_spaces;
mod tokens;
