//! A fresh PostgreSQL database for one test, on the server that
//! TANDEM_TEST_POSTGRES_URL names, dropped afterwards even when the test
//! fails. Tests that use it are `#[ignore]`d, so that a plain `cargo test`
//! reports them as skipped; scripts/test runs them with `--include-ignored`
//! after making sure a PostgreSQL server answers (starting its own if none
//! does), so there a missing database is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::future::Future;

use db::sea_orm::{ConnectionTrait, Database};

/// Runs `test` with the URL of a new database named `<prefix>_<pid>`.
/// Panics when TANDEM_TEST_POSTGRES_URL is not set.
pub async fn with_database<F, T>(prefix: &str, test: F)
where
    F: FnOnce(String) -> T,
    T: Future<Output = ()> + Send + 'static,
{
    let server_url = std::env::var("TANDEM_TEST_POSTGRES_URL")
        .expect("TANDEM_TEST_POSTGRES_URL names the PostgreSQL server to test on");
    let database = format!("{prefix}_{}", std::process::id());
    let maintenance = Database::connect(format!("{server_url}/postgres"))
        .await
        .unwrap();
    for statement in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        maintenance.execute_unprepared(&statement).await.unwrap();
    }
    // In a task of its own, so that the database is dropped even when an
    // assertion fails.
    let outcome = tokio::spawn(test(format!("{server_url}/{database}"))).await;
    maintenance
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .await
        .unwrap();
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}
