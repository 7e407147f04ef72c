//! The audit log: one row per audited event, only ever added to (triggers
//! refuse updates and deletes). The indexes serve the admin's filters with
//! keyset paging on `id`, so a page stays fast however long the log grows.

use sea_orm_migration::sea_orm::DatabaseBackend;
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
        // Append-only in the database itself, not only in Tandem's code: an
        // UPDATE or DELETE of a row fails whoever sends it.
        let connection = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => &[
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
                "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            ],
            _ => &[
                "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
            ],
        };
        for statement in statements {
            connection.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION audit_events_append_only()")
                .await?;
        }
        Ok(())
    }
}
