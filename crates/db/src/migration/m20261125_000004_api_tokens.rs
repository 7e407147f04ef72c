//! API tokens for the REST API, and a name and a recoverable password on
//! shares (the API shows both to the session's creator).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string("name"))
                    .col(string("prefix"))
                    .col(string_uniq("secret_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("api_tokens", "user_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_tokens_user")
                    .table("api_tokens")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("shares")
                    .add_column(string("name").default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("shares")
                    .add_column(blob_null("password_sealed"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("shares")
                    .drop_column("password_sealed")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("shares")
                    .drop_column("name")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("api_tokens").to_owned())
            .await
    }
}
