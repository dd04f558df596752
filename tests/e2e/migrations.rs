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

/// An event recorded before `lead_events.delivery_count` existed still
/// leads to its deliveries: the migration counts them, so the partial index
/// that finds a lead's deliveries (`lead_events_delivered`) holds it, and
/// an event that made none stays out of it.
async fn events_recorded_before_delivery_count_keep_their_deliveries(backend: Backend) {
    const NEW: &str = "20261202000001_lead_events_delivered.sql";
    let database = TestDatabase::create(backend).await;
    let config = ServeConfig::for_database(database.url.clone()).database;
    let db = Database::connect(&config).await.expect("connect");

    // The schema as it stood before the migration.
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let earlier = tempfile::tempdir().expect("temporary folder");
    let mut copied = 0;
    for entry in std::fs::read_dir(folder).expect("migrations folder") {
        let path = entry.expect("migration").path();
        let name = path.file_name().expect("file name").to_owned();
        if name.to_str().expect("UTF-8 name") < NEW {
            std::fs::copy(&path, earlier.path().join(name)).expect("copy migration");
            copied += 1;
        }
    }
    assert!(copied > 0, "no migration precedes {NEW}");
    sqlx::migrate::Migrator::new(earlier.path())
        .await
        .expect("read the earlier migrations")
        .run(db.reader())
        .await
        .expect("migrate to the earlier schema");

    for statement in [
        "INSERT INTO accounts (id, name, created_at) VALUES ('acc_m', 'm', 0)",
        "INSERT INTO webhooks (id, account_id, name, url, method, events, conditions, auth, \
             signing_secret, timeout_ms, retry_schedule, payload_format, payload_config, \
             created_at, updated_at) \
         VALUES ('wh_m', 'acc_m', 'm', 'http://127.0.0.1:9/', 'POST', '[]', '[]', '{}', 's', \
             1000, '[]', 'small', '{}', 0, 0)",
        "INSERT INTO lead_events (id, account_id, lead_id, event_type, actor_type, actor_id, \
             actor_name, data, occurred_at) \
         VALUES ('evt_two', 'acc_m', 'lead_m', 'lead.created', 'system', 's', 's', '{}', 0), \
                ('evt_none', 'acc_m', 'lead_m', 'lead.updated', 'system', 's', 's', '{}', 0)",
        "INSERT INTO deliveries (id, account_id, webhook_id, event_id, event_type, lead_id, \
             status, created_at, updated_at) \
         VALUES ('dlv_1', 'acc_m', 'wh_m', 'evt_two', 'lead.created', 'lead_m', 'succeeded', 0, 0), \
                ('dlv_2', 'acc_m', 'wh_m', 'evt_two', 'lead.created', 'lead_m', 'failed', 0, 0)",
    ] {
        sqlx::query(statement)
            .execute(db.reader())
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }

    db.migrate().await.expect("migrate to the current schema");
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, delivery_count FROM lead_events ORDER BY id")
            .fetch_all(db.reader())
            .await
            .expect("read the events");
    assert_eq!(
        counts,
        vec![("evt_none".to_owned(), 0), ("evt_two".to_owned(), 2)]
    );
}

crate::on_both_backends!(
    backend:
    migrating_twice_is_a_no_op,
    first_start_account_is_created_once_under_concurrency,
    events_recorded_before_delivery_count_keep_their_deliveries,
);
