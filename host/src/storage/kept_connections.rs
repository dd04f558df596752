//! A few connections kept out of sqlx's pool for the one read every inbound
//! request makes (its token lookup).
//!
//! sqlx pings a pooled connection every time it goes back to the pool: a
//! round trip to the connection's thread (SQLite) or to the server
//! (PostgreSQL) that costs about as much as a one-statement read itself.
//! These connections are taken from the pool once (so they get its set-up,
//! e.g. SQLite's pragmas) and then lent out without that ping; when all are
//! busy a read goes through the pool as before. BENCHMARKS.md has the
//! measurement.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{Mutex, MutexGuard};

/// What a read on a kept connection returns.
pub type ReadFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// Connections lent out one caller at a time.
#[derive(Debug)]
pub struct KeptConnections {
    pool: AnyPool,
    slots: Vec<Mutex<Option<AnyConnection>>>,
    next: AtomicUsize,
    closed: AtomicBool,
    opened: AtomicU64,
}

impl KeptConnections {
    /// `count` connections, opened from `pool` when first needed. With
    /// none, every read goes through the pool.
    pub fn new(pool: AnyPool, count: usize) -> Self {
        Self {
            pool,
            slots: (0..count).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            opened: AtomicU64::new(0),
        }
    }

    /// Runs `read` on a kept connection, or on one from the pool when all
    /// kept ones are busy: a caller never queues behind another's read, and
    /// while the database is unreachable each waits only for its own
    /// attempt. A kept connection that fails with a connection-level error
    /// (dropped by the server, its SQLite thread gone) is thrown away and
    /// the read tried once more on a new one: only pass reads, which are
    /// safe to repeat.
    pub async fn read<T>(
        &self,
        read: impl for<'c> Fn(&'c mut AnyConnection) -> ReadFuture<'c, T>,
    ) -> Result<T, sqlx::Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let Some(mut slot) = self.free_slot() else {
            let mut pooled = self.pool.acquire().await?;
            return read(&mut pooled).await;
        };
        let first = match self.connection(&mut slot).await {
            Ok(connection) => read(connection).await,
            Err(error) => Err(error),
        };
        match first {
            Err(error) if connection_lost(&error) => {
                tracing::warn!(%error, "a kept database connection failed; reconnecting");
                *slot = None;
                let connection = self.connection(&mut slot).await?;
                let retried = read(connection).await;
                if retried.as_ref().is_err_and(connection_lost) {
                    *slot = None;
                }
                retried
            }
            other => other,
        }
    }

    /// Closes the kept connections; later reads fail with `PoolClosed`.
    /// Waits for reads in progress on them.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in &self.slots {
            if let Some(connection) = slot.lock().await.take()
                && let Err(error) = connection.close().await
            {
                tracing::debug!(%error, "closing a kept database connection");
            }
        }
    }

    /// Connections opened so far (a reconnect counts again).
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// A kept slot no one is using, starting from the next in turn.
    fn free_slot(&self) -> Option<MutexGuard<'_, Option<AnyConnection>>> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.slots.len();
        (0..count).find_map(|offset| self.slots[(start + offset) % count].try_lock().ok())
    }

    /// The slot's connection, opened from the pool if it has none.
    async fn connection<'s>(
        &self,
        slot: &'s mut MutexGuard<'_, Option<AnyConnection>>,
    ) -> Result<&'s mut AnyConnection, sqlx::Error> {
        if slot.is_none() {
            if self.closed.load(Ordering::Acquire) {
                return Err(sqlx::Error::PoolClosed);
            }
            **slot = Some(self.pool.acquire().await?.detach());
            self.opened.fetch_add(1, Ordering::Relaxed);
        }
        slot.as_mut()
            .ok_or_else(|| sqlx::Error::Protocol("no kept connection".into()))
    }
}

/// Whether an error means the connection itself is unusable (as opposed to
/// an error of the statement): I/O, a protocol or worker failure, or
/// PostgreSQL's connection-exception (`08`) and shutdown (`57P`) codes, as
/// when an administrator terminates the backend.
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
