//! An O&M session: one SSH shell opened by its creator through a host
//! account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "om_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub creator_id: i64,
    pub host_account_id: i64,
    /// A `SessionStatus`: `scheduled`, `active`, `ended`, `failed` or
    /// `cancelled`.
    pub state: String,
    /// The start of the session's window: when it started, or when it is
    /// scheduled to.
    pub started_at: DateTimeUtc,
    /// The end of its window; `None` for sessions from before windows.
    pub ends_at: Option<DateTimeUtc>,
    pub title: String,
    pub ended_at: Option<DateTimeUtc>,
    /// The `SessionEnd` code, once it is over.
    pub end_reason: Option<String>,
    /// The asciicast file, relative to the data directory.
    pub recording_path: Option<String>,
    /// Bytes, once the session is over.
    pub recording_size: Option<i64>,
    /// From the first byte to the end, once the session is over.
    pub recording_duration_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
