//! The write path (`storage::write_tx`, `storage::sqlite_writer`): writes
//! that arrive together commit together on SQLite, each under a savepoint
//! (a write alone in its group needs none), and every answer comes after
//! the commit. These tests drive
//! `Database::write` directly, on scratch tables, to reach the failures
//! that HTTP requests cannot provoke: a `COMMIT` that fails, a write that
//! fails inside a group, a write that panics.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use switchyard::config::ServeConfig;
use switchyard::storage::sql::Arg;
use switchyard::storage::{Database, StoreError, StoreResult};
use tokio::sync::Notify;

use crate::helpers::{Backend, TestDatabase};

async fn database(backend: Backend) -> (TestDatabase, Database) {
    let database = TestDatabase::create(backend).await;
    let config = ServeConfig::for_database(database.url.clone()).database;
    let db = Database::connect(&config).await.expect("connect");
    // `children.parent` is checked at COMMIT, not at the INSERT: a child
    // without its parent makes the commit itself fail.
    db.write(|tx| {
        Box::pin(async move {
            tx.execute("CREATE TABLE parents (id BIGINT PRIMARY KEY)", &[])
                .await?;
            tx.execute(
                "CREATE TABLE children (id BIGINT PRIMARY KEY, \
                     parent BIGINT REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)",
                &[],
            )
            .await?;
            tx.execute("CREATE TABLE notes (text TEXT PRIMARY KEY)", &[])
                .await?;
            StoreResult::Ok(())
        })
    })
    .await
    .expect("scratch tables");
    (database, db)
}

type Write = BoxFuture<'static, StoreResult<()>>;

async fn add_note(db: Database, text: &'static str) -> StoreResult<()> {
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute("INSERT INTO notes (text) VALUES ($1)", &[Arg::from(text)])
                .await?;
            Ok(())
        })
    })
    .await
}

/// A note and an orphan child: the insert succeeds, the commit cannot.
async fn add_note_and_orphan(db: Database, text: &'static str) -> StoreResult<()> {
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute("INSERT INTO notes (text) VALUES ($1)", &[Arg::from(text)])
                .await?;
            tx.execute("INSERT INTO children (id, parent) VALUES (1, 404)", &[])
                .await?;
            Ok(())
        })
    })
    .await
}

async fn notes(db: &Database) -> Vec<String> {
    let rows: Vec<(String,)> = switchyard::storage::sql::fetch_all(
        db.reader(),
        "SELECT text FROM notes ORDER BY text",
        &[],
    )
    .await
    .expect("read notes");
    rows.into_iter().map(|(text,)| text).collect()
}

/// Holds the writer busy until `release` is notified, so that the writes
/// sent meanwhile queue up and form one group (SQLite); on PostgreSQL it
/// only holds one connection.
async fn hold_the_writer(db: &Database) -> (Arc<Notify>, tokio::task::JoinHandle<()>) {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let holder = {
        let (db, started, release) = (db.clone(), Arc::clone(&started), Arc::clone(&release));
        tokio::spawn(async move {
            db.write(move |_tx| {
                Box::pin(async move {
                    started.notify_one();
                    release.notified().await;
                    StoreResult::Ok(())
                })
            })
            .await
            .expect("the holding write commits");
        })
    };
    started.notified().await;
    (release, holder)
}

/// Sends the writes at once, while the writer is held, then lets it go.
async fn send_together(db: &Database, writes: Vec<Write>) -> Vec<StoreResult<()>> {
    let (release, holder) = hold_the_writer(db).await;
    let tasks: Vec<_> = writes.into_iter().map(tokio::spawn).collect();
    // Long enough for every task to have queued its job.
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.notify_one();
    holder.await.expect("holder");
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("write task"));
    }
    results
}

async fn a_group_whose_commit_fails_answers_every_write_with_an_error_and_writes_none(
    backend: Backend,
) {
    let (_database, db) = database(backend).await;
    let results = send_together(
        &db,
        vec![
            Box::pin(add_note(db.clone(), "a")),
            Box::pin(add_note_and_orphan(db.clone(), "b")),
            Box::pin(add_note(db.clone(), "c")),
        ],
    )
    .await;
    let failed_commit =
        |result: &StoreResult<()>| matches!(result, Err(StoreError::CommitFailed(_)));
    match backend {
        // One group, one COMMIT: it fails for all three, and none of the
        // three notes is written, not even those of the sound writes.
        Backend::Sqlite => {
            assert!(results.iter().all(failed_commit), "{results:?}");
            assert_eq!(notes(&db).await, Vec::<String>::new());
        }
        // Each write is a transaction of its own: only the orphan's fails.
        Backend::Postgres => {
            assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
            assert!(failed_commit(&results[1]), "{results:?}");
            assert_eq!(notes(&db).await, vec!["a", "c"]);
        }
    }
    // The writer goes on after a failed commit.
    add_note(db.clone(), "after")
        .await
        .expect("a later write commits");
    assert!(notes(&db).await.contains(&"after".to_owned()));
}

async fn a_failing_write_is_rolled_back_alone_and_the_rest_of_its_group_commits(backend: Backend) {
    let (_database, db) = database(backend).await;
    add_note(db.clone(), "taken").await.expect("first note");
    // The duplicate fails after its first insert has gone in: the savepoint
    // takes that insert back too.
    let duplicate = {
        let db = db.clone();
        async move {
            db.write(|tx| {
                Box::pin(async move {
                    tx.execute("INSERT INTO notes (text) VALUES ('half')", &[])
                        .await?;
                    tx.execute("INSERT INTO notes (text) VALUES ('taken')", &[])
                        .await?;
                    Ok(())
                })
            })
            .await
        }
    };
    let results = send_together(
        &db,
        vec![
            Box::pin(add_note(db.clone(), "a")),
            Box::pin(duplicate),
            Box::pin(add_note(db.clone(), "c")),
        ],
    )
    .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let error = results[1].as_ref().expect_err("the duplicate is refused");
    assert!(error.is_unique_violation(), "{error}");
    assert_eq!(notes(&db).await, vec!["a", "c", "taken"]);
}

/// A write alone in its group runs without a savepoint on SQLite: when it
/// fails, the rollback of the whole transaction must take back what it
/// had written, and the writer must go on.
async fn a_failing_write_alone_in_its_group_writes_nothing(backend: Backend) {
    let (_database, db) = database(backend).await;
    add_note(db.clone(), "taken").await.expect("first note");
    let error = db
        .write(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO notes (text) VALUES ('half')", &[])
                    .await?;
                tx.execute("INSERT INTO notes (text) VALUES ('taken')", &[])
                    .await?;
                StoreResult::Ok(())
            })
        })
        .await
        .expect_err("the duplicate is refused");
    assert!(error.is_unique_violation(), "{error}");
    assert_eq!(notes(&db).await, vec!["taken"]);
    add_note(db.clone(), "after")
        .await
        .expect("the writer still runs");
    assert_eq!(notes(&db).await, vec!["after", "taken"]);
}

/// SQLite only: on PostgreSQL a panicking write panics its own task.
async fn a_panicking_write_fails_alone_and_the_writer_survives(backend: Backend) {
    if backend != Backend::Sqlite {
        return;
    }
    let (_database, db) = database(backend).await;
    let panicking = {
        let db = db.clone();
        async move {
            db.write(|tx| {
                Box::pin(async move {
                    tx.execute("INSERT INTO notes (text) VALUES ('doomed')", &[])
                        .await?;
                    let bug = true;
                    if bug {
                        panic!("a bug in a write");
                    }
                    Ok(())
                })
            })
            .await
        }
    };
    let results = send_together(
        &db,
        vec![Box::pin(add_note(db.clone(), "a")), Box::pin(panicking)],
    )
    .await;
    assert!(results[0].is_ok(), "{results:?}");
    let error = results[1].as_ref().expect_err("the panicking write fails");
    assert!(error.to_string().contains("closed"), "{error}");
    add_note(db.clone(), "after")
        .await
        .expect("the writer still runs");
    assert_eq!(notes(&db).await, vec!["a", "after"]);
}

/// The same alone in its group (no savepoint): nothing of it stays.
async fn a_panicking_write_alone_in_its_group_writes_nothing(backend: Backend) {
    if backend != Backend::Sqlite {
        return;
    }
    let (_database, db) = database(backend).await;
    let error = db
        .write(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO notes (text) VALUES ('doomed')", &[])
                    .await?;
                let bug = true;
                if bug {
                    panic!("a bug in a write");
                }
                StoreResult::Ok(())
            })
        })
        .await
        .expect_err("the panicking write fails");
    assert!(error.to_string().contains("closed"), "{error}");
    add_note(db.clone(), "after")
        .await
        .expect("the writer still runs");
    assert_eq!(notes(&db).await, vec!["after"]);
}

/// SQLite only: committed pages reach the database file by the checkpoint
/// thread (`storage::sqlite_checkpoints`), long before the log reaches the
/// writer's own checkpoint bound (16,384 pages; these writes make a few
/// hundred).
async fn the_log_is_copied_into_the_database_file_on_its_own(backend: Backend) {
    if backend != Backend::Sqlite {
        return;
    }
    let (database, db) = database(backend).await;
    let file = database
        .url
        .strip_prefix("sqlite://")
        .expect("an SQLite URL")
        .to_owned();
    let size = || std::fs::metadata(&file).map(|meta| meta.len()).unwrap_or(0);
    let before = size();
    for batch in 0..20_i64 {
        db.write(move |tx| {
            Box::pin(async move {
                for n in 0..50_i64 {
                    let text = format!("{batch:04}-{n:04}-{}", "x".repeat(1_000));
                    tx.execute("INSERT INTO notes (text) VALUES ($1)", &[Arg::from(text)])
                        .await?;
                }
                StoreResult::Ok(())
            })
        })
        .await
        .expect("write a batch of notes");
    }
    // A megabyte of notes: in the log, then in the file.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while size() < before + 1_000_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (from {before}): nothing copied the log into it",
            size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(notes(&db).await.len(), 1_000);
}

crate::on_both_backends!(backend:
    a_group_whose_commit_fails_answers_every_write_with_an_error_and_writes_none,
    a_failing_write_is_rolled_back_alone_and_the_rest_of_its_group_commits,
    a_panicking_write_fails_alone_and_the_writer_survives,
    a_failing_write_alone_in_its_group_writes_nothing,
    a_panicking_write_alone_in_its_group_writes_nothing,
    the_log_is_copied_into_the_database_file_on_its_own,
);
