//! Tandem's database: one sea-orm entity per table and the migrations that
//! create them. Queries live with the services that need them.

pub mod entities;
pub mod migration;

pub use sea_orm;

use std::os::unix::fs::OpenOptionsExt;
use std::str::FromStr;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// Connects to `url` (SQLite or PostgreSQL) and applies every pending
/// migration.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        create_private_sqlite_file(url)?;
        // One writer at a time is what SQLite allows anyway; a single
        // connection avoids "database is locked" errors under load.
        options.max_connections(1);
        options.map_sqlx_sqlite_opts(|sqlite| {
            // Write-ahead logging: a commit appends to the log and syncs
            // it at checkpoints rather than syncing the journal and the
            // database at every commit, which made a thousand people
            // joining a session wait on the disk. A crash of Tandem loses
            // nothing; a power cut may lose the last commits but leaves
            // the database whole. The log is checkpointed every 256 KiB
            // and cut back to that, so it stays small (a server whose file
            // size is limited still writes it).
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("wal_autocheckpoint", "64")
                .pragma("journal_size_limit", "262144")
        });
    }
    let connection = sea_orm::Database::connect(options).await?;
    migration::Migrator::up(&connection, None).await?;
    Ok(connection)
}

/// Creates the file of a SQLite database that `url` lets SQLite create
/// (`mode=rwc`), with mode 0600, before SQLite does. SQLite would create it
/// under the process umask (0644 under the usual 022); its `-wal` and
/// `-shm` files take the database file's mode, so all three are private.
fn create_private_sqlite_file(url: &str) -> Result<(), DbErr> {
    let creates = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "mode=rwc"));
    if !creates {
        return Ok(());
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| DbErr::Custom(format!("the SQLite URL: {error}")))?;
    let path = options.get_filename();
    // `sqlite::memory:` names no file (its name starts `file:`).
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        // There already, or its directory is missing: SQLite opens the one
        // and reports the other.
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
            ) =>
        {
            Ok(())
        }
        Err(error) => Err(DbErr::Custom(format!(
            "creating the database file {}: {error}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tandem.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let connection = connect_and_migrate(&url).await.unwrap();
        assert_eq!(mode(&path), 0o600);
        // In WAL mode, the -wal and -shm files take the database's mode
        // too. The test process runs under umask 022, so nothing here is
        // the umask's doing.
        use sea_orm::ConnectionTrait;
        connection
            .execute_unprepared("CREATE TABLE scratch (n INTEGER)")
            .await
            .unwrap();
        let journal = connection
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(journal.try_get_by_index::<String>(0).unwrap(), "wal");
        // NORMAL (1): the log is synced at checkpoints, not every commit.
        let synchronous = connection
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA synchronous",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(synchronous.try_get_by_index::<i64>(0).unwrap(), 1);
        for file in ["tandem.db", "tandem.db-wal", "tandem.db-shm"] {
            assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
        }
        connection.close().await.unwrap();
    }

    #[test]
    fn only_a_file_sqlite_may_create_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("existing.db");
        create_private_sqlite_file(&format!("sqlite://{}?mode=rw", path.display())).unwrap();
        assert!(!path.exists());
        // In memory: no file, under any name (sqlx names it in the working
        // directory's terms, `file:sqlx-in-memory-N`).
        let here: Vec<_> = std::fs::read_dir(".").unwrap().collect();
        create_private_sqlite_file("sqlite::memory:?mode=rwc").unwrap();
        assert_eq!(std::fs::read_dir(".").unwrap().count(), here.len());
        create_private_sqlite_file("sqlite://?mode=memory").unwrap();
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        create_private_sqlite_file(&format!("sqlite://{}?mode=rwc", path.display())).unwrap();
        assert_eq!(
            mode(&path),
            0o640,
            "an existing file is SQLite's to open as it is"
        );
    }
}
