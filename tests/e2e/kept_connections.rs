//! Connections kept out of the pool (`storage::kept_connections`): they are
//! lent without sqlx's ping on release, so what the ping protected against
//! is checked here: a read abandoned halfway, concurrent borrowers, and a
//! connection the server dropped.

use std::time::Duration;

use sqlx::AnyConnection;
use switchyard::config::ServeConfig;
use switchyard::storage::Database;
use switchyard::storage::kept_connections::{KeptConnections, ReadFuture};

use crate::helpers::{Backend, TestDatabase};

async fn database(backend: Backend) -> (TestDatabase, Database) {
    let database = TestDatabase::create(backend).await;
    let config = ServeConfig::for_database(database.url.clone()).database;
    let db = Database::connect(&config).await.expect("connect");
    (database, db)
}

fn number(sql: &'static str) -> impl for<'c> Fn(&'c mut AnyConnection) -> ReadFuture<'c, i64> {
    move |connection| {
        Box::pin(async move {
            let (value,): (i64,) = sqlx::query_as(sql).fetch_one(connection).await?;
            Ok(value)
        })
    }
}

/// A count that takes a good fraction of a second on either engine.
const SLOW_COUNT: &str = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) \
                          SELECT CAST(COUNT(*) AS BIGINT) FROM n";

async fn a_read_abandoned_halfway_leaves_the_connection_usable(backend: Backend) {
    let (_database, db) = database(backend).await;
    // One connection, so the next read has to use the abandoned one.
    let kept = KeptConnections::new(db.reader().clone(), 1);
    assert_eq!(
        kept.read(number("SELECT CAST(1 AS BIGINT)")).await.unwrap(),
        1
    );
    let abandoned =
        tokio::time::timeout(Duration::from_millis(20), kept.read(number(SLOW_COUNT))).await;
    assert!(
        abandoned.is_err(),
        "{backend:?}: the slow read finished in 20 ms"
    );
    let next = kept.read(number("SELECT CAST(42 AS BIGINT)")).await;
    assert_eq!(
        next.unwrap(),
        42,
        "{backend:?}: the next read got its own answer"
    );
    assert_eq!(
        kept.opened(),
        1,
        "{backend:?}: the same connection answered, without reconnecting"
    );
}

async fn a_read_finding_every_kept_connection_busy_uses_the_pool(backend: Backend) {
    let (_database, db) = database(backend).await;
    let kept = std::sync::Arc::new(KeptConnections::new(db.reader().clone(), 1));
    let slow = tokio::spawn({
        let kept = std::sync::Arc::clone(&kept);
        async move { kept.read(number(SLOW_COUNT)).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fast = kept.read(number("SELECT CAST(7 AS BIGINT)")).await;
    assert_eq!(fast.unwrap(), 7);
    assert!(
        !slow.is_finished(),
        "{backend:?}: the slow read ended first; the test proves nothing"
    );
    assert_eq!(slow.await.unwrap().unwrap(), 3_000_000);
}

async fn closing_the_database_closes_the_kept_connections(backend: Backend) {
    let (database, db) = database(backend).await;
    assert_eq!(
        db.kept()
            .read(number("SELECT CAST(1 AS BIGINT)"))
            .await
            .unwrap(),
        1
    );
    db.close().await;
    let after = db.kept().read(number("SELECT CAST(1 AS BIGINT)")).await;
    assert!(
        matches!(after, Err(sqlx::Error::PoolClosed)),
        "{backend:?}: {after:?}"
    );
    if backend == Backend::Postgres {
        // A backend leaves pg_stat_activity a moment after its client said
        // goodbye: wait for that, not for ever.
        let config = ServeConfig::for_database(database.url.clone()).database;
        let observer = Database::connect(&config).await.expect("connect");
        let mut others = i64::MAX;
        for _ in 0..50 {
            (others,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_one(observer.reader())
            .await
            .unwrap();
            if others == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(others, 0, "connections left open 5 s after close");
    }
}

async fn concurrent_reads_each_get_their_own_answer(backend: Backend) {
    let (_database, db) = database(backend).await;
    let kept = std::sync::Arc::new(KeptConnections::new(db.reader().clone(), 3));
    let reads = (0..60_i64).map(|n| {
        let kept = std::sync::Arc::clone(&kept);
        tokio::spawn(async move {
            let answer = kept
                .read(move |connection| {
                    Box::pin(async move {
                        let (value,): (i64,) = sqlx::query_as("SELECT CAST($1 AS BIGINT)")
                            .bind(n)
                            .fetch_one(connection)
                            .await?;
                        Ok(value)
                    })
                })
                .await;
            (n, answer)
        })
    });
    for read in futures::future::join_all(reads).await {
        let (n, answer) = read.expect("read task");
        assert_eq!(answer.unwrap(), n, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_dropped_is_replaced() {
    let (_database, db) = database(Backend::Postgres).await;
    let kept = KeptConnections::new(db.reader().clone(), 1);
    let pid = kept
        .read(number("SELECT CAST(pg_backend_pid() AS BIGINT)"))
        .await
        .unwrap();
    let (terminated,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend(CAST($1 AS INTEGER))")
        .bind(pid)
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert!(terminated);
    let new_pid = kept
        .read(number("SELECT CAST(pg_backend_pid() AS BIGINT)"))
        .await
        .expect("the read is retried on a new connection");
    assert_ne!(new_pid, pid);
}

crate::on_both_backends!(
    backend:
    a_read_finding_every_kept_connection_busy_uses_the_pool,
    closing_the_database_closes_the_kept_connections,
    a_read_abandoned_halfway_leaves_the_connection_usable,
    concurrent_reads_each_get_their_own_answer,
);
