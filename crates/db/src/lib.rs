//! Tandem's database: one sea-orm entity per table and the migrations that
//! create them. Queries live with the services that need them.

pub mod entities;
pub mod migration;

pub use sea_orm;

use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// Connects to `url` (SQLite or PostgreSQL) and applies every pending
/// migration.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is what SQLite allows anyway; a single
        // connection avoids "database is locked" errors under load.
        options.max_connections(1);
    }
    let connection = sea_orm::Database::connect(options).await?;
    migration::Migrator::up(&connection, None).await?;
    Ok(connection)
}
