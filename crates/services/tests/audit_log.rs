//! Paging the audit log on a real database, SQLite and PostgreSQL: pages
//! run newest first by time, with the id breaking ties, and together they
//! hold every matching row once, whatever order the rows were added in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod postgres;

use chrono::{DateTime, Duration, Utc};
use db::entities::audit_event;
use db::sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};
use domain::{AUDIT_PAGE_SIZE, AuditKind, AuditQuery};
use services::{Admin, Config, ServiceError, Services};

const ROWS: i64 = 130;

/// Adds `ROWS` events within one minute of `base`, out of time order and
/// two to each second, and returns their (time, id, kind), newest first.
async fn add_shuffled_events(
    url: &str,
    base: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, i64, AuditKind)> {
    let db = db::connect_and_migrate(url).await.unwrap();
    let transaction = db.begin().await.unwrap();
    let mut added = Vec::new();
    for n in 0..ROWS {
        let kind = if n % 3 == 0 {
            AuditKind::Logout
        } else {
            AuditKind::Login
        };
        let row = audit_event::ActiveModel {
            at: Set(base + Duration::seconds((n * 47) % (ROWS / 2))),
            actor: Set("paging".to_owned()),
            address: Set("127.0.0.1".to_owned()),
            kind: Set(kind.as_str().to_owned()),
            object: Set(String::new()),
            outcome: Set("success".to_owned()),
            detail: Set(String::new()),
            ..Default::default()
        }
        .insert(&transaction)
        .await
        .unwrap();
        added.push((row.at, row.id, kind));
    }
    transaction.commit().await.unwrap();
    added.sort_by_key(|&(at, id, _)| std::cmp::Reverse((at, id)));
    added
}

/// Every page of `query`, following each page's `older` link.
async fn all_pages(services: &Services, query: &AuditQuery) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut query = query.clone();
    loop {
        let page = services
            .audit_page(Admin::command_line(), &query)
            .await
            .unwrap();
        pages.push(page.rows.iter().map(|row| row.id).collect());
        match page.older {
            Some(last) => query = query.older_than(last),
            None => return pages,
        }
    }
}

async fn pages_follow_time_then_id(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url,
        admin_password: Some("first-admin-pw".to_owned()),
        ..Config::with_data_dir(dir.path())
    };
    let url = config.database_url();
    let (services, _) = Services::start(config).await.unwrap();
    // A day back, clear of what Tandem itself logs while starting.
    let base = Utc::now() - Duration::days(1);
    let added = add_shuffled_events(&url, base).await;
    let in_range = AuditQuery {
        from: Some(base.to_rfc3339()),
        to: Some((base + Duration::hours(1)).to_rfc3339()),
        ..AuditQuery::default()
    };

    let pages = all_pages(&services, &in_range).await;
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [AUDIT_PAGE_SIZE as usize, AUDIT_PAGE_SIZE as usize, 30]
    );
    let expected: Vec<_> = added.iter().map(|(_, id, _)| *id).collect();
    assert_eq!(pages.concat(), expected);

    let logins = AuditQuery {
        kind: Some(AuditKind::Login),
        ..in_range.clone()
    };
    let expected: Vec<_> = added
        .iter()
        .filter(|(_, _, kind)| *kind == AuditKind::Login)
        .map(|(_, id, _)| *id)
        .collect();
    assert_eq!(all_pages(&services, &logins).await.concat(), expected);

    let nowhere = in_range.older_than(ROWS * 1000);
    match services.audit_page(Admin::command_line(), &nowhere).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "before"),
        other => panic!("expected a before error, got {other:?}"),
    }
}

#[tokio::test]
async fn pages_run_by_time_then_id_on_sqlite() {
    pages_follow_time_then_id(None).await;
}

#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn pages_run_by_time_then_id_on_postgresql() {
    postgres::with_database("tandem_audit_paging", |url| {
        pages_follow_time_then_id(Some(url))
    })
    .await;
}

/// Append-only in the database itself: an UPDATE or DELETE sent by anyone
/// is refused by its triggers, and the rows stay.
async fn the_database_refuses_to_change_the_log(url: String) {
    use db::sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
    let added = add_shuffled_events(&url, Utc::now()).await;
    let db = db::connect_and_migrate(&url).await.unwrap();
    for statement in [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = 1",
    ] {
        let refused = db.execute_unprepared(statement).await.unwrap_err();
        assert!(
            refused.to_string().contains("the audit log is append-only"),
            "{statement}: {refused}"
        );
    }
    let kept = audit_event::Entity::find().count(&db).await.unwrap();
    assert_eq!(kept, added.len() as u64);
}

#[tokio::test]
async fn sqlite_refuses_to_change_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = Config::with_data_dir(dir.path()).database_url();
    the_database_refuses_to_change_the_log(url).await;
}

#[ignore = "needs PostgreSQL at TANDEM_TEST_POSTGRES_URL; scripts/test runs it"]
#[tokio::test]
async fn postgresql_refuses_to_change_the_log() {
    postgres::with_database("tandem_audit_append_only", |url| {
        the_database_refuses_to_change_the_log(url)
    })
    .await;
}
