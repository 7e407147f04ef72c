//! The audit log is paged by time, newest first, with `id` breaking ties:
//! `(at, id)` rather than `id` alone. Ordering by `id` let PostgreSQL walk
//! the whole id index backwards to reach a narrow time range deep in the
//! log. Each filter's index now ends in `(at, id)`, so every filtered page
//! is again one index range read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "audit_events";

/// (old index, new index, filter column); `audit_events_at` on `(at, id)`
/// stays as it is.
const INDEXES: [(&str, &str, &str); 4] = [
    ("audit_events_actor", "audit_events_actor_at", "actor_id"),
    (
        "audit_events_session",
        "audit_events_session_at",
        "session_id",
    ),
    ("audit_events_host", "audit_events_host_at", "host_id"),
    ("audit_events_kind", "audit_events_kind_at", "kind"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(new)
                        .table(TABLE)
                        .col(column)
                        .col("at")
                        .col("id")
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(Index::drop().name(old).table(TABLE).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(old)
                        .table(TABLE)
                        .col(column)
                        .col("id")
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(Index::drop().name(new).table(TABLE).to_owned())
                .await?;
        }
        Ok(())
    }
}
