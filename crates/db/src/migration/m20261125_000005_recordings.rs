//! Where each session's recording is, and its size and duration once the
//! session is over.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            string_null("recording_path"),
            big_integer_null("recording_size"),
            big_integer_null("recording_duration_ms"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("om_sessions")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["recording_duration_ms", "recording_size", "recording_path"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("om_sessions")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
