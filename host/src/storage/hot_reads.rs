//! The read every inbound and admin API request makes (its token or key
//! lookup), done where it costs least: [`Database::hot_read`].
//!
//! - On SQLite it runs on the calling thread, on a rusqlite connection from
//!   a small pool of its own. A point read on an index takes a few
//!   microseconds and, in WAL mode, never waits for the writer; sending it
//!   to an sqlx connection's thread and back (two thread wake-ups) cost
//!   more than the read itself.
//! - On PostgreSQL it goes to a server anyway, so it runs on a kept
//!   connection ([`super::kept_connections`]), lent without sqlx's ping.
//!
//! Only for short indexed reads on hot paths: on SQLite the caller's thread
//! (a tokio worker) runs the query.

use std::sync::{Mutex, PoisonError};

use super::sql::{Arg, DbRow, FromDbRow, bind_all};
use super::sqlite_writer::open_rusqlite;
use super::write_tx::sqlite_fetch;
use super::{Database, StoreResult};

/// Connections kept idle between reads; more are opened under load and
/// closed when the pool is full again.
const IDLE_READERS: usize = 4;

/// SQLite connections for hot reads.
#[derive(Debug)]
pub(crate) struct SqliteReaders {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl SqliteReaders {
    pub(crate) fn new(path: String) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn fetch_optional<R: FromDbRow>(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<R>> {
        let conn = match self.take() {
            Some(conn) => conn,
            None => self.open()?,
        };
        let row = sqlite_fetch(&conn, sql, args, 1).map(|mut rows| rows.pop());
        // A connection whose read failed is dropped, not reused: it may be
        // the connection, not the query, that is broken.
        if row.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        row
    }

    fn take(&self) -> Option<rusqlite::Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn open(&self) -> StoreResult<rusqlite::Connection> {
        let conn = open_rusqlite(&self.path)?;
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 1000;")?;
        Ok(conn)
    }
}

impl Database {
    /// The first row of a short read that every request of a hot path
    /// makes (see the module documentation). Safe to repeat: on
    /// PostgreSQL a read on a dropped connection is tried again.
    pub async fn hot_read<R: FromDbRow>(
        &self,
        sql: &'static str,
        args: Vec<Arg<'static>>,
    ) -> StoreResult<Option<R>> {
        if let Some(readers) = &self.sqlite_readers {
            return readers.fetch_optional(sql, &args);
        }
        let row = self
            .kept()
            .read(|connection| {
                let args = args.clone();
                Box::pin(async move {
                    bind_all(sqlx::query(sql), &args)
                        .fetch_optional(connection)
                        .await
                })
            })
            .await?;
        row.map(|row| R::from_db_row(&DbRow::Any(&row))).transpose()
    }
}
