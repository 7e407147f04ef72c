//! O&M sessions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("om_sessions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("creator_id"))
                    .col(big_integer("host_account_id"))
                    .col(string("state"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("ended_at"))
                    .col(string_null("end_reason"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("om_sessions", "creator_id")
                            .to("users", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("om_sessions", "host_account_id")
                            .to("host_accounts", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("om_sessions_state")
                    .table("om_sessions")
                    .col("state")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("om_sessions").to_owned())
            .await
    }
}
