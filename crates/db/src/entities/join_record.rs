//! One entry into a session through its share, or one refused attempt.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "join_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `None` when the code matched no share.
    pub om_session_id: Option<i64>,
    pub share_id: Option<i64>,
    pub user_id: i64,
    pub address: String,
    /// When they entered, or were refused.
    pub at: DateTimeUtc,
    pub left_at: Option<DateTimeUtc>,
    /// The `JoinRefusal` code; `None` for an entry.
    pub refusal: Option<String>,
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
