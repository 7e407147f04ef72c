//! Shares of live sessions and the record of who joined through them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("shares")
                    .col(big_pk_auto("id"))
                    .col(big_integer("om_session_id"))
                    .col(string_len("code", 8))
                    .col(string_null("password_hash"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("shares", "om_session_id")
                            .to("om_sessions", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shares_code")
                    .table("shares")
                    .col("code")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shares_om_session")
                    .table("shares")
                    .col("om_session_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("join_records")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("om_session_id"))
                    .col(big_integer_null("share_id"))
                    .col(big_integer("user_id"))
                    .col(string("address"))
                    .col(timestamp_with_time_zone("at"))
                    .col(timestamp_with_time_zone_null("left_at"))
                    .col(string_null("refusal"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("join_records", "om_session_id")
                            .to("om_sessions", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("join_records", "share_id")
                            .to("shares", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("join_records", "user_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("join_records_om_session")
                    .table("join_records")
                    .col("om_session_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("join_records").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("shares").to_owned())
            .await
    }
}
