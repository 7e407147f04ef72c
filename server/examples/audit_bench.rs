//! Pages the audit log at one million rows: fills a fresh SQLite database
//! (or the PostgreSQL database in `TANDEM_BENCH_DATABASE_URL`) with a
//! million events, then times the admin's page queries through `Services`,
//! unfiltered and with each filter, at the newest page and deep in the log.
//! Prints figures; asserts nothing. Run it with `scripts/bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::time::{Duration, Instant};

use chrono::Utc;
use db::entities::audit_event;
use db::sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use domain::{AuditKind, AuditQuery, HostId, OmSessionId};
use services::{Admin, Config, Services};

const ROWS: i64 = 1_000_000;
const BATCH: i64 = 2_000;
const RUNS: usize = 7;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        admin_password: Some("bench-admin-password".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    config.database_url = std::env::var("TANDEM_BENCH_DATABASE_URL").ok();
    let url = config.database_url();
    println!(
        "Audit log at {ROWS} rows on {}",
        url.split(':').next().unwrap_or("?")
    );

    let filled = Instant::now();
    let db = db::connect_and_migrate(&url).await.unwrap();
    let start = Utc::now() - chrono::Duration::seconds(ROWS);
    for first in (0..ROWS).step_by(BATCH as usize) {
        let rows = (first..first + BATCH).map(|n| audit_event::ActiveModel {
            // One event a second, oldest first, as a real log grows.
            at: Set(start + chrono::Duration::seconds(n)),
            actor_id: Set(Some(n % 500 + 1)),
            actor: Set(format!("user-{}", n % 500 + 1)),
            address: Set("127.0.0.1".to_owned()),
            kind: Set(AuditKind::ALL[(n % AuditKind::ALL.len() as i64) as usize]
                .as_str()
                .to_owned()),
            session_id: Set(Some(n / 40 + 1)),
            host_id: Set(Some(n % 50 + 1)),
            object: Set(format!("session:{}", n / 40 + 1)),
            outcome: Set("success".to_owned()),
            detail: Set(String::new()),
            ..Default::default()
        });
        let transaction = db.begin().await.unwrap();
        audit_event::Entity::insert_many(rows)
            .exec(&transaction)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
    }
    // Statistics, as the database's own maintenance (autovacuum on
    // PostgreSQL) would have gathered for a log that grew over time.
    db.execute_unprepared("ANALYZE").await.unwrap();
    drop(db);
    println!("  filled in {:.1} s", filled.elapsed().as_secs_f64());

    let (services, _) = Services::start(config).await.unwrap();
    let middle = (start + chrono::Duration::seconds(ROWS / 2)).to_rfc3339();
    let end_of_middle_hour = (start + chrono::Duration::seconds(ROWS / 2 + 3600)).to_rfc3339();
    let cases = [
        ("newest page, no filter", AuditQuery::default()),
        (
            "middle of the log, no filter",
            AuditQuery {
                before: Some(ROWS / 2),
                ..AuditQuery::default()
            },
        ),
        (
            "by kind (1 row in 28)",
            AuditQuery {
                kind: Some(AuditKind::ControlAgreed),
                ..AuditQuery::default()
            },
        ),
        (
            "by kind, middle of the log",
            AuditQuery {
                kind: Some(AuditKind::ControlAgreed),
                before: Some(ROWS / 2),
                ..AuditQuery::default()
            },
        ),
        (
            "by user (1 row in 500)",
            AuditQuery {
                user: Some("user-77".to_owned()),
                ..AuditQuery::default()
            },
        ),
        (
            "by session",
            AuditQuery {
                session: Some(OmSessionId(ROWS / 80)),
                ..AuditQuery::default()
            },
        ),
        (
            "by host, middle of the log",
            AuditQuery {
                host: Some(HostId(7)),
                before: Some(ROWS / 2),
                ..AuditQuery::default()
            },
        ),
        (
            "one hour in the middle",
            AuditQuery {
                from: Some(middle),
                to: Some(end_of_middle_hour),
                ..AuditQuery::default()
            },
        ),
    ];
    println!(
        "  {:<32} {:>10} {:>10} {:>6}",
        "page of 50", "median", "worst", "rows"
    );
    for (name, query) in cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..RUNS {
            let began = Instant::now();
            let page = services
                .audit_page(Admin::command_line(), &query)
                .await
                .unwrap();
            times.push(began.elapsed());
            rows = page.rows.len();
        }
        times.sort();
        println!(
            "  {name:<32} {:>10} {:>10} {rows:>6}",
            millis(times[RUNS / 2]),
            millis(times[RUNS - 1])
        );
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
