//! The invitation on a live session (cooperation).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub om_session_id: i64,
    /// The invitation code; unique among open shares.
    pub code: String,
    /// argon2id; `None` when the share has no password.
    pub password_hash: Option<String>,
    /// `OPEN`, `CANCELLED` or `ENDED`; expiry is read from `expires_at`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it was cancelled or its session ended.
    pub closed_at: Option<DateTimeUtc>,
    /// Shown to the REST API as `share_space_name`.
    pub name: String,
    /// The password sealed by the secret box, so the API can show it to the
    /// session's creator; `password_hash` still decides who enters.
    pub password_sealed: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::om_session::Entity",
        from = "Column::OmSessionId",
        to = "super::om_session::Column::Id"
    )]
    OmSession,
}

impl Related<super::om_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OmSession.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
