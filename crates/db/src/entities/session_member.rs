//! A user the owner of a session added to it by name (a named share).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub om_session_id: i64,
    pub user_id: i64,
    pub added_by: i64,
    pub note: String,
    /// The Session Use answer, when the user is outside the session's
    /// project.
    pub purpose: Option<String>,
    pub customer: Option<String>,
    pub comment: Option<String>,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
