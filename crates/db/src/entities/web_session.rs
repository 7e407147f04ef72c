//! A signed-in browser: the server side of the opaque session cookie,
//! found by a hash of the cookie's id (the id itself is never stored).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    /// SHA-256 of the session id, in hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// The session record's data as JSON.
    pub data: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
