//! [`WriteTx`]: the transaction every write runs in, on either engine, and
//! [`Database::write`], the one way to start one.
//!
//! On SQLite a write is a job for the writer thread
//! ([`super::sqlite_writer`]), which runs the jobs that arrive together in
//! one transaction on its own rusqlite connection: a statement is a
//! function call there, not a hand-off to another thread, and one fsync
//! commits the whole group. On PostgreSQL a write runs on a pooled sqlx
//! connection in a transaction of its own.
//!
//! Either way the answer comes after the commit, and a job that fails
//! leaves nothing behind: on SQLite each job runs under a savepoint that
//! its failure rolls back, so the other jobs of its group still commit.

use futures::future::BoxFuture;
use sqlx::Any;

use super::sql::{Arg, DbRow, FromDbRow, bind_all, prepare_sqlite};
use super::{Backend, Database, StoreError, StoreResult};

/// The work of one write: given the transaction, a future that makes the
/// change and returns its result. Written as
/// `|tx| Box::pin(async move { ... })`. Its error type is the caller's
/// (a [`StoreError`] or a richer one): any `Err` rolls the work back.
pub trait WriteWork<T, E>:
    for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static
{
}

impl<T, E, F> WriteWork<T, E> for F where
    F: for<'t, 'c> FnOnce(&'t mut WriteTx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static
{
}

/// An open write transaction.
pub struct WriteTx<'c> {
    conn: Conn<'c>,
    /// Deliveries this job enqueued: the delivery worker is woken once they
    /// are committed.
    pub(super) enqueued: usize,
}

enum Conn<'c> {
    Sqlite(&'c mut rusqlite::Connection),
    Postgres(&'c mut sqlx::Transaction<'static, Any>),
}

impl<'c> WriteTx<'c> {
    pub(super) fn sqlite(conn: &'c mut rusqlite::Connection) -> Self {
        Self {
            conn: Conn::Sqlite(conn),
            enqueued: 0,
        }
    }

    fn postgres(tx: &'c mut sqlx::Transaction<'static, Any>) -> Self {
        Self {
            conn: Conn::Postgres(tx),
            enqueued: 0,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// The clause that locks the rows a `SELECT` reads until the
    /// transaction ends (PostgreSQL). SQLite needs none: its one writer
    /// already runs one transaction at a time.
    pub fn for_update(&self) -> &'static str {
        match self.conn {
            Conn::Postgres(_) => " FOR UPDATE",
            Conn::Sqlite(_) => "",
        }
    }

    /// The clause that share-locks the rows a `SELECT` reads (PostgreSQL):
    /// many transactions may hold it, none while another updates the row.
    pub fn for_share(&self) -> &'static str {
        match self.conn {
            Conn::Postgres(_) => " FOR SHARE",
            Conn::Sqlite(_) => "",
        }
    }

    /// Records that this write enqueued deliveries, so that the delivery
    /// worker is woken once it is committed.
    pub fn deliveries_enqueued(&mut self, count: usize) {
        self.enqueued += count;
    }

    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        match &mut self.conn {
            Conn::Sqlite(conn) => Ok(sqlite_execute(conn, sql, args)?),
            Conn::Postgres(tx) => Ok(bind_all(sqlx::query(sql), args)
                .execute(&mut ***tx)
                .await?
                .rows_affected()),
        }
    }

    /// Every row a query returns.
    pub async fn fetch_all<R: FromDbRow>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Vec<R>> {
        match &mut self.conn {
            Conn::Sqlite(conn) => sqlite_fetch(conn, sql, args, usize::MAX),
            Conn::Postgres(tx) => {
                let rows = bind_all(sqlx::query(sql), args)
                    .fetch_all(&mut ***tx)
                    .await?;
                rows.iter()
                    .map(|row| R::from_db_row(&DbRow::Any(row)))
                    .collect()
            }
        }
    }

    /// The first row a query returns, if any.
    pub async fn fetch_optional<R: FromDbRow>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> StoreResult<Option<R>> {
        match &mut self.conn {
            Conn::Sqlite(conn) => Ok(sqlite_fetch(conn, sql, args, 1)?.pop()),
            Conn::Postgres(tx) => {
                let row = bind_all(sqlx::query(sql), args)
                    .fetch_optional(&mut ***tx)
                    .await?;
                row.map(|row| R::from_db_row(&DbRow::Any(&row))).transpose()
            }
        }
    }

    /// The one row a query must return.
    pub async fn fetch_one<R: FromDbRow>(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<R> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }
}

fn sqlite_execute(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<u64> {
    let mut statement = prepare_sqlite(conn, sql, args)?;
    // `raw_execute` refuses statements that return rows; an `UPDATE ...
    // RETURNING` run for its effect is stepped to the end instead.
    if statement.column_count() > 0 {
        let mut rows = statement.raw_query();
        while rows.next()?.is_some() {}
        return Ok(conn.changes());
    }
    Ok(statement.raw_execute()? as u64)
}

/// Up to `limit` rows of a query on an SQLite connection (also used by
/// [`super::hot_reads`]).
pub(super) fn sqlite_fetch<R: FromDbRow>(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
    limit: usize,
) -> StoreResult<Vec<R>> {
    let mut statement = prepare_sqlite(conn, sql, args)?;
    let mut rows = statement.raw_query();
    let mut decoded = Vec::new();
    while decoded.len() < limit {
        let Some(row) = rows.next()? else {
            break;
        };
        decoded.push(R::from_db_row(&DbRow::Sqlite(row))?);
    }
    Ok(decoded)
}

impl Database {
    /// Runs `work` in a write transaction and returns its result once it is
    /// committed. An `Err` from `work` rolls back everything it wrote; an
    /// `Err(StoreError::CommitFailed)` means the commit itself failed, and
    /// on PostgreSQL that the outcome is unknown.
    ///
    /// `work` must not call `write` itself: on SQLite it runs on the one
    /// writer thread, which would wait for itself.
    pub async fn write<T, E>(&self, work: impl WriteWork<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(writer) = &self.sqlite_writer {
            return writer.run(work).await;
        }
        let mut tx = self
            .postgres_pool()
            .begin()
            .await
            .map_err(StoreError::from)?;
        let mut write = WriteTx::postgres(&mut tx);
        let value = work(&mut write).await?;
        let enqueued = write.enqueued;
        tx.commit()
            .await
            .map_err(|error| StoreError::CommitFailed(error.to_string()))?;
        if enqueued > 0 {
            self.wake_delivery_worker();
        }
        Ok(value)
    }
}
