//! One audited event. Rows are only ever inserted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// `None` when nobody was signed in (a failed login, a bad API token).
    pub actor_id: Option<i64>,
    /// The user name at the time, or what was typed at a failed login.
    pub actor: String,
    /// The client's address, or empty when the action had none (a timer).
    pub address: String,
    /// An `AuditKind` name.
    pub kind: String,
    pub session_id: Option<i64>,
    pub host_id: Option<i64>,
    pub object: String,
    /// An `AuditOutcome` name.
    pub outcome: String,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
