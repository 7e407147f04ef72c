//! The audit log: one row per audited event, only ever added to. The
//! indexes serve the admin's filters with keyset paging on `id`, so a page
//! stays fast however long the log grows.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "audit_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer_null("actor_id"))
                    .col(string("actor"))
                    .col(string("address"))
                    .col(string("kind"))
                    .col(big_integer_null("session_id"))
                    .col(big_integer_null("host_id"))
                    .col(string("object"))
                    .col(string("outcome"))
                    .col(string("detail"))
                    .to_owned(),
            )
            .await?;
        // Each filter column leads an index that ends in `id`, so a filtered
        // page is one index range read newest first.
        for (name, column) in [
            ("audit_events_actor", "actor_id"),
            ("audit_events_session", "session_id"),
            ("audit_events_host", "host_id"),
            ("audit_events_kind", "kind"),
            ("audit_events_at", "at"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(TABLE)
                        .col(column)
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }
}
