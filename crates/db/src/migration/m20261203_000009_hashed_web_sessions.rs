//! Web sessions are kept under a SHA-256 hash of the cookie's id, never the
//! id itself, so a copy of the database signs no one in. The rows of
//! earlier versions are keyed by the raw id and cannot be rekeyed without
//! keeping it: the table is replaced, and everyone signs in again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "web_sessions";
const EXPIRY_INDEX: &str = "web_sessions_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let signed_in = signed_in_count(manager).await?;
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await?;
        create(manager, "id_hash").await?;
        if signed_in > 0 {
            tracing::info!(
                signed_in,
                "web sessions are now stored as hashes: the sign-ins of the \
                 previous version were ended, and everyone signs in again"
            );
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await?;
        create(manager, "id").await
    }
}

/// The table as the foundation migration made it, keyed by `key`.
async fn create(manager: &SchemaManager<'_>, key: &'static str) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(TABLE)
                .col(string(key).primary_key())
                .col(text("data"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name(EXPIRY_INDEX)
                .table(TABLE)
                .col("expires_at")
                .to_owned(),
        )
        .await
}

async fn signed_in_count(manager: &SchemaManager<'_>) -> Result<i64, DbErr> {
    let connection = manager.get_connection();
    let count = connection
        .query_one_raw(Statement::from_string(
            connection.get_database_backend(),
            format!("SELECT COUNT(*) AS signed_in FROM {TABLE}"),
        ))
        .await?;
    match count {
        Some(row) => row.try_get("", "signed_in"),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::MigratorTrait;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database, EntityTrait};

    use crate::entities::web_session;
    use crate::migration::Migrator;

    #[tokio::test]
    async fn the_sign_ins_of_an_older_version_are_ended() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let connection = Database::connect(&url).await.unwrap();
        Migrator::up(&connection, Some(8)).await.unwrap();
        connection
            .execute_unprepared(
                "INSERT INTO web_sessions (id, data, expires_at) \
                 VALUES ('raw-cookie-id', '{\"user_id\":1}', '2999-01-01T00:00:00Z')",
            )
            .await
            .unwrap();

        Migrator::up(&connection, None).await.unwrap();
        let rows = web_session::Entity::find().all(&connection).await.unwrap();
        assert_eq!(rows, []);
    }
}
