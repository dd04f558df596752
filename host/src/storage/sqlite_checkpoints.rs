//! Copying SQLite's write-ahead log back into the database file
//! (checkpoints) on a thread of its own, so that the writer thread, which
//! every write waits for, spends its time on writes.
//!
//! Left to itself SQLite checkpoints inside the commit that grows the log
//! past `wal_autocheckpoint` pages, on the writer thread: the copy, and an
//! fsync of the database file, stall that commit's whole group. Here a
//! thread with its own connection runs a `PASSIVE` checkpoint (which never
//! waits for, nor blocks, the writer or any reader) a few times a second
//! while writes are committed. The writer keeps a `wal_autocheckpoint` of
//! its own, set far higher, as the bound on the log: a log can only start
//! again from its beginning once everything in it has been copied when a
//! write transaction starts, which under a steady load is what the
//! writer's own checkpoint (of the little this thread has not yet copied)
//! brings about. Checkpoints are SQLite's own mechanism and as safe
//! against a crash as a commit is; nothing here changes what is durable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::StoreResult;
use super::sqlite_writer::{SqliteOptions, open_rusqlite};

/// How often the thread looks for newly committed pages to copy. Shorter
/// copies hot pages more often (each copy serves fewer commits); longer
/// leaves more for the writer's own checkpoint at the log's bound.
const INTERVAL: Duration = Duration::from_millis(100);

/// The thread and what tells it that there is something to copy.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    committed: Arc<AtomicBool>,
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection of its own to the database (already in WAL mode)
    /// and starts the thread.
    pub(crate) fn start(options: &SqliteOptions) -> StoreResult<Self> {
        let conn = open_connection(options)?;
        let committed = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel();
        let thread = {
            let committed = Arc::clone(&committed);
            std::thread::Builder::new()
                .name("sqlite-checkpoint".into())
                .spawn(move || run(&conn, &committed, &stopped))
                .map_err(|error| {
                    super::StoreError::CommitFailed(format!(
                        "cannot start the checkpoint thread: {error}"
                    ))
                })?
        };
        Ok(Self {
            committed,
            stop,
            thread: Some(thread),
        })
    }

    /// Called by the writer after each commit: there are pages to copy.
    pub(crate) fn committed(&self) {
        self.committed.store(true, Ordering::Relaxed);
    }

    /// Stops the thread (after the checkpoint it may be running).
    pub(crate) fn stop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open_connection(options: &SqliteOptions) -> StoreResult<rusqlite::Connection> {
    let conn = open_rusqlite(&options.path)?;
    // A checkpoint reads frames from the log and writes pages to the file
    // without the page cache, so this connection needs little of one; the
    // synchronous setting decides whether it fsyncs what it copies.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA cache_size = -64; PRAGMA wal_autocheckpoint = 0;",
        options.synchronous
    ))?;
    Ok(conn)
}

fn run(conn: &rusqlite::Connection, committed: &AtomicBool, stopped: &mpsc::Receiver<()>) {
    loop {
        match stopped.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if !committed.swap(false, Ordering::Relaxed) {
            continue;
        }
        // (busy, pages in the log, pages copied). Busy means another
        // checkpoint was running (another process's): the next one copies.
        let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        });
        match outcome {
            Ok((busy, log, copied)) => tracing::trace!(busy, log, copied, "checkpoint"),
            Err(error) => {
                tracing::warn!(%error, "SQLite checkpoint failed; the writer's own checkpoints bound the log")
            }
        }
    }
}
