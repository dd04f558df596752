//! SQLite's writer: one thread that owns the one write connection (rusqlite,
//! with its prepared statements cached) and commits the writes that arrive
//! together in one transaction (group commit).
//!
//! Why a thread of its own: with sqlx every statement is a message to the
//! connection's thread and back, two thread wake-ups per statement, which
//! cost more than SQLite's own work on the hot paths. Here a job travels to
//! the thread once, all its statements are function calls, and one
//! `COMMIT` (one fsync with `synchronous=FULL`) serves its whole group.
//!
//! A group: `BEGIN IMMEDIATE`, then each job under a savepoint (a job that
//! fails is rolled back to it alone and answered with its own error; a
//! group of one job needs none), then `COMMIT`. Every job is answered
//! only after the commit; if the commit fails, the transaction is rolled
//! back and every job of the group that had succeeded is answered
//! [`StoreError::CommitFailed`]: none of them was written. The log is
//! copied back into the database on another thread
//! ([`sqlite_checkpoints`](super::sqlite_checkpoints)).

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use futures::future::BoxFuture;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use super::delivery_signal::DeliverySignal;
use super::sqlite_checkpoints::Checkpointer;
use super::write_tx::{WriteTx, WriteWork};
use super::{StoreError, StoreResult};

/// Most jobs one transaction takes; a longer queue is split.
const MAX_GROUP_JOBS: usize = 512;

/// Jobs waiting for the thread; senders wait when it is full.
const QUEUE: usize = 4_096;

/// Prepared statements kept per connection: the hot paths' statements,
/// with a few variants each for multi-row statements of different sizes.
const STATEMENT_CACHE: usize = 512;

/// The writer's page cache. SQLite's default (2 MiB) made the writer read
/// the pages of the hot indexes back from the file again and again, a
/// system call each; this keeps them, within the memory target (the
/// end-to-end bench peaked at 96-99 MiB of RSS with 16 MiB here).
const WRITER_CACHE_KIB: u32 = 8 * 1024;

/// Log pages after which a commit copies the log back into the database
/// itself: the bound on the log (64 MiB), since the checkpoint thread
/// ([`sqlite_checkpoints`](super::sqlite_checkpoints)) copies it all along.
/// With SQLite's default (1,000 pages) on this thread and no other, each
/// checkpoint stalled its commit's group; a longer log saved about 10% of
/// the thread's CPU per change (hot pages copied once for more commits)
/// but took the inbound bench's p99 from 10.5 to 34.9 ms. Copied on
/// another thread, what is left here at the bound is what that thread has
/// not yet copied.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How SQLite's connection is set up.
#[derive(Debug, Clone)]
pub(crate) struct SqliteOptions {
    pub path: String,
    /// `FULL` or `NORMAL`.
    pub synchronous: &'static str,
}

/// The handle to the writer thread; cheap to share behind an `Arc`.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

enum Message {
    Job(Box<dyn Job>),
    Close,
}

impl SqliteWriter {
    /// Opens the connection (switching the file to write-ahead logging) and
    /// starts the thread.
    pub(crate) fn open(options: &SqliteOptions, signal: Arc<DeliverySignal>) -> StoreResult<Self> {
        let conn = open_connection(options)?;
        let checkpointer = Checkpointer::start(options)?;
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let runtime = Handle::current();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, receiver, &runtime, &signal, checkpointer))
            .map_err(|error| {
                StoreError::CommitFailed(format!("cannot start the writer thread: {error}"))
            })?;
        Ok(Self {
            jobs,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the next group; answers after its commit.
    pub(crate) async fn run<T, E>(&self, work: impl WriteWork<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(PendingJob { work, reply });
        self.jobs
            .send(Message::Job(job))
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Stops the thread once the jobs queued before this call are done, and
    /// closes the connection.
    pub(crate) async fn close(&self) {
        let _ = self.jobs.send(Message::Close).await;
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

/// Opens an rusqlite connection to the database's `file:` URI, as every
/// connection of this process outside sqlx's pool does (the writer, its
/// checkpoint thread, the hot-read connections). The URI says `mode=rwc`,
/// which SQLite refuses unless the flags allow as much; each connection is
/// used by one thread at a time, so SQLite's own mutex is left off.
pub(super) fn open_rusqlite(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

fn open_connection(options: &SqliteOptions) -> StoreResult<rusqlite::Connection> {
    let conn = open_rusqlite(&options.path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "SQLite did not switch to write-ahead logging");
    }
    // `temp_store = MEMORY` keeps the savepoints' sub-journal in memory:
    // SQLite's default spills it past 64 KiB to a temporary file, which
    // it creates, writes, and deletes within each group of several jobs.
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = {}; \
         PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};",
        options.synchronous
    ))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// The writer thread: takes what is queued as one group, commits it, and
/// goes on until closed. The checkpoint thread lives as long as it does.
fn run(
    mut conn: rusqlite::Connection,
    mut receiver: mpsc::Receiver<Message>,
    runtime: &Handle,
    signal: &DeliverySignal,
    checkpointer: Checkpointer,
) {
    while let Some(message) = receiver.blocking_recv() {
        let Message::Job(first) = message else {
            return;
        };
        let mut group = vec![first];
        let mut closing = false;
        while group.len() < MAX_GROUP_JOBS {
            match receiver.try_recv() {
                Ok(Message::Job(job)) => group.push(job),
                Ok(Message::Close) => {
                    closing = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if commit_group(&mut conn, group, runtime) > 0 {
            signal.committed();
        }
        checkpointer.committed();
        if closing {
            return;
        }
    }
}

/// Runs one group in one transaction and answers its jobs; returns how many
/// deliveries it committed.
fn commit_group(
    conn: &mut rusqlite::Connection,
    group: Vec<Box<dyn Job>>,
    runtime: &Handle,
) -> usize {
    if let Err(error) = statement(conn, "BEGIN IMMEDIATE") {
        tracing::error!(%error, jobs = group.len(), "cannot start a write transaction");
        let message = error.to_string();
        for job in group {
            job.fail(StoreError::CommitFailed(message.clone()));
        }
        return 0;
    }
    // A group of one job needs no savepoint: if the job fails, rolling the
    // whole transaction back is the same thing. A savepoint is not free:
    // SQLite first copies every page the job changes into a sub-journal,
    // and the inbound path's groups are one job each (`funnel_updates`
    // hands the thread one group of requests at a time). Measured on the
    // inbound bench: a quarter to a third of the thread's time per update
    // and of the bytes written.
    let savepoints = group.len() > 1;
    let mut finished = Vec::with_capacity(group.len());
    let mut enqueued = 0;
    for job in group {
        if savepoints && let Err(error) = statement(conn, "SAVEPOINT job") {
            job.fail(error.into());
            continue;
        }
        let mut tx = WriteTx::sqlite(conn);
        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(job.run(&mut tx))));
        let job_enqueued = tx.enqueued;
        match outcome {
            Ok(done) if done.succeeded => {
                enqueued += job_enqueued;
                finished.push(done);
            }
            // A failed job (or a panicking one, whose caller sees its
            // answer channel close) leaves nothing in the transaction.
            failed if !savepoints => {
                if let Err(error) = statement(conn, "ROLLBACK") {
                    tracing::error!(%error, "cannot roll back a failed write");
                }
                if let Ok(done) = failed {
                    (done.answer)(None);
                }
                return 0;
            }
            failed => {
                if let Err(error) = statement(conn, "ROLLBACK TO job") {
                    tracing::error!(%error, "cannot roll back a failed write");
                }
                if let Ok(done) = failed {
                    finished.push(done);
                }
            }
        }
        if savepoints && let Err(error) = statement(conn, "RELEASE job") {
            tracing::error!(%error, "cannot release a write's savepoint");
        }
    }
    match statement(conn, "COMMIT") {
        Ok(()) => {
            for done in finished {
                (done.answer)(None);
            }
            enqueued
        }
        Err(error) => {
            tracing::error!(%error, jobs = finished.len(), "write transaction failed to commit; rolled back");
            if let Err(error) = statement(conn, "ROLLBACK") {
                tracing::error!(%error, "cannot roll back after a failed commit");
            }
            let message = error.to_string();
            for done in finished {
                (done.answer)(Some(&message));
            }
            0
        }
    }
}

fn statement(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// A job with its result type erased, so that one queue takes them all.
trait Job: Send {
    fn run<'t, 'c>(self: Box<Self>, tx: &'t mut WriteTx<'c>) -> BoxFuture<'t, Done>;
    fn fail(self: Box<Self>, error: StoreError);
}

/// A job that has run, waiting for its group's commit.
struct Done {
    succeeded: bool,
    answer: Answer,
}

/// Sends a job's answer, given `Some(message)` if its group's commit failed.
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

struct PendingJob<T, E, F> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for PendingJob<T, E, F>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: WriteWork<T, E>,
{
    fn run<'t, 'c>(self: Box<Self>, tx: &'t mut WriteTx<'c>) -> BoxFuture<'t, Done> {
        let PendingJob { work, reply } = *self;
        Box::pin(async move {
            let result = work(tx).await;
            Done {
                succeeded: result.is_ok(),
                answer: Box::new(move |commit_failure: Option<&str>| {
                    let answer = match (commit_failure, result) {
                        (Some(message), Ok(_)) => {
                            Err(StoreError::CommitFailed(message.to_owned()).into())
                        }
                        (_, result) => result,
                    };
                    let _ = reply.send(answer);
                }),
            }
        })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error.into()));
    }
}
