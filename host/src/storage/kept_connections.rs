//! A few connections kept out of sqlx's pool for the one read every inbound
//! request makes (its token lookup).
//!
//! sqlx pings a pooled connection every time it goes back to the pool: a
//! round trip to the connection's thread (SQLite) or to the server
//! (PostgreSQL) that costs about as much as a one-statement read itself.
//! These connections are taken from the pool once (so they get its set-up,
//! e.g. SQLite's pragmas) and then lent out without that ping. BENCHMARKS.md
//! has the measurement.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Mutex, MutexGuard};

/// What a read on a kept connection returns.
pub type ReadFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// Connections lent out one caller at a time.
#[derive(Debug)]
pub struct KeptConnections {
    pool: AnyPool,
    slots: Vec<Mutex<Option<AnyConnection>>>,
    next: AtomicUsize,
}

impl KeptConnections {
    /// `count` connections (at least one), opened from `pool` when first
    /// needed.
    pub fn new(pool: AnyPool, count: usize) -> Self {
        Self {
            pool,
            slots: (0..count.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `read` on a kept connection. A connection that fails with a
    /// connection-level error (dropped by the server, its SQLite thread
    /// gone) is thrown away and the read tried once more on a new one: only
    /// pass reads, which are safe to repeat.
    pub async fn read<T>(
        &self,
        read: impl for<'c> Fn(&'c mut AnyConnection) -> ReadFuture<'c, T>,
    ) -> Result<T, sqlx::Error> {
        let mut slot = self.lend().await;
        let first = match slot.connection(&self.pool).await {
            Ok(connection) => read(connection).await,
            Err(error) => Err(error),
        };
        match first {
            Err(error) if connection_lost(&error) => {
                tracing::warn!(%error, "a kept database connection failed; reconnecting");
                slot.discard();
                let connection = slot.connection(&self.pool).await?;
                let retried = read(connection).await;
                if retried.as_ref().is_err_and(connection_lost) {
                    slot.discard();
                }
                retried
            }
            other => other,
        }
    }

    /// A free slot if there is one, else the next in turn once it is free.
    async fn lend(&self) -> Slot<'_> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.slots.len();
        for offset in 0..count {
            if let Ok(guard) = self.slots[(start + offset) % count].try_lock() {
                return Slot(guard);
            }
        }
        Slot(self.slots[start % count].lock().await)
    }
}

/// A lent slot, holding a connection or about to open one.
struct Slot<'a>(MutexGuard<'a, Option<AnyConnection>>);

impl Slot<'_> {
    async fn connection(&mut self, pool: &AnyPool) -> Result<&mut AnyConnection, sqlx::Error> {
        if self.0.is_none() {
            *self.0 = Some(pool.acquire().await?.detach());
        }
        self.0
            .as_mut()
            .ok_or_else(|| sqlx::Error::Protocol("no kept connection".into()))
    }

    fn discard(&mut self) {
        *self.0 = None;
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
