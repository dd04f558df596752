//! Migrations are idempotent and the first-start account is created once,
//! even when several processes start on one empty database.

use switchyard::config::ServeConfig;
use switchyard::storage::{Database, accounts};

use crate::helpers::{Backend, TestDatabase};

async fn migrating_twice_is_a_no_op(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let config = ServeConfig::for_database(database.url.clone()).database;
    let db = Database::connect(&config).await.expect("connect");

    db.migrate().await.expect("first migration");
    db.migrate().await.expect("second migration");
    let again = Database::connect(&config).await.expect("reconnect");
    again
        .migrate()
        .await
        .expect("migration from a new connection");

    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(db.reader())
        .await
        .expect("count migrations");
    let (files,) = (
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .expect("migrations folder")
            .count() as i64,
    );
    assert_eq!(applied, files);
}

async fn first_start_account_is_created_once_under_concurrency(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let config = ServeConfig::for_database(database.url.clone()).database;
    let db = Database::connect(&config).await.expect("connect");
    db.migrate().await.expect("migrate");

    let attempts = (0..4).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { accounts::create_default_account_on_first_start(&db).await })
    });
    let mut created = 0;
    for attempt in attempts {
        if attempt.await.expect("join").expect("bootstrap").is_some() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert!(
        accounts::create_default_account_on_first_start(&db)
            .await
            .expect("again")
            .is_none()
    );
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts")
        .fetch_one(db.reader())
        .await
        .expect("count");
    assert_eq!(count, 1);
}

crate::on_both_backends!(
    backend:
    migrating_twice_is_a_no_op,
    first_start_account_is_created_once_under_concurrency,
);
