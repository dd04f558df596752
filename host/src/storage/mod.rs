//! The database: SQLite (the embedded default) or PostgreSQL, chosen by the
//! URL. One set of SQL and one set of migrations serve both.
//!
//! Reads go through sqlx's `Any` pool. Writes go through
//! [`Database::write`] (`write_tx`): on SQLite they run on one writer
//! thread of their own (`sqlite_writer`), which owns the file's only
//! write connection and commits the writes that arrive together in one
//! transaction, while another copies its log back into the file
//! (`sqlite_checkpoints`); on PostgreSQL on a pooled connection. Connection set-up
//! (SQLite's write-ahead logging and pragmas) lives in this file, row
//! locking in `write_tx::WriteTx::for_update`, the SQL for each resource
//! beside it in the submodules.

pub(crate) mod account_funnel;
pub mod accounts;
pub(crate) mod api_keys;
pub(crate) mod deliveries;
pub(crate) mod delivery_results;
pub(crate) mod delivery_search;
pub(crate) mod delivery_signal;
pub(crate) mod funnel_history;
pub(crate) mod funnel_stages;
pub(crate) mod funnel_updates;
pub(crate) mod hot_reads;
pub mod kept_connections;
pub(crate) mod lead_changes;
pub(crate) mod lead_events;
pub(crate) mod lead_search;
pub(crate) mod lead_sync;
pub(crate) mod leads;
pub(crate) mod pending_deliveries;
pub(crate) mod plugin_sources;
pub(crate) mod plugins;
pub mod sql;
mod sqlite_checkpoints;
pub(crate) mod sqlite_writer;
mod statement;
pub(crate) mod ui_sessions;
mod versioned_cache;
pub(crate) mod webhook_health;
pub(crate) mod webhook_imports;
pub(crate) mod webhooks;
pub(crate) mod write_tx;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};

use crate::config::{DatabaseConfig, SqliteSynchronous};
use crate::domain::InvalidInput;
use delivery_signal::DeliverySignal;
use kept_connections::KeptConnections;
use sqlite_writer::{SqliteOptions, SqliteWriter};

/// Most connections kept out of the pool for hot reads: enough for the two
/// tokio worker threads of a small machine and a few more (a read finding
/// them all busy uses the pool).
const KEPT_CONNECTIONS: usize = 4;

/// Every migration, embedded in the binary. Written in the SQL both engines
/// share: `TEXT` ids, `BIGINT` numbers, times and flags.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the storage layer. `NotFound`, `Conflict` and `Invalid` carry a
/// message meant for the user; `Database` is an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The transaction's `COMMIT` failed: nothing of it was written on
    /// SQLite; on PostgreSQL the outcome is unknown.
    #[error("database error: the transaction failed to commit: {0}")]
    CommitFailed(String),
}

impl StoreError {
    /// True when a unique constraint refused the write, on either engine.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(error) => is_unique_violation(error),
            StoreError::Sqlite(error) => sql::sqlite_unique_violation(error),
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value that does not parse. Rows are only written from parsed
/// values, so this means the row was edited by hand: it is reported, not
/// guessed at. `row` names it, e.g. `webhook wh_...`.
pub(crate) fn corrupt_column(
    row: &str,
    column: &str,
    detail: impl std::fmt::Display,
) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("{row}: column {column} is not valid: {detail}").into(),
    ))
}

/// True when PostgreSQL refused text because it contains a NUL character
/// (SQLite stores it): a problem with the input, not the server.
pub fn is_nul_in_text(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021") | Some("22P05")))
}

/// A new value for a version column that caches filled inside write
/// transactions check (`accounts.funnel_version`, `webhooks_version`).
/// Random rather than incremented: a transaction that bumps a version and
/// then rolls back may already have cached what it saw under the new
/// number, and an increment would hand that number out again to the next
/// change, which the stale entry would then match.
pub(crate) fn fresh_version() -> i64 {
    rand::random()
}

/// `$first, $first+1, ...`: `count` numbered parameters, for IN lists and
/// the rows of multi-row statements.
pub fn params(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when `error` is a unique-constraint violation, on either engine.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A handle to the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    /// sqlx's pool: every read, PostgreSQL's writes, migrations.
    pool: AnyPool,
    backend: Backend,
    /// Raised after a commit that enqueued deliveries, so that delivery
    /// workers send them at once instead of at their next poll.
    delivery_signal: Arc<DeliverySignal>,
    /// Each account's active webhooks, checked against their version.
    subscriptions: Arc<webhooks::SubscriptionCache>,
    /// Each account's live stages, checked against their version.
    funnels: Arc<account_funnel::FunnelCache>,
    /// Reader connections lent out without sqlx's ping on release, for the
    /// read every inbound request makes.
    kept: Arc<kept_connections::KeptConnections>,
    /// SQLite's one writer (see [`sqlite_writer`]); `None` on PostgreSQL.
    sqlite_writer: Option<Arc<SqliteWriter>>,
    /// SQLite's connections for [`Database::hot_read`]; `None` on
    /// PostgreSQL.
    sqlite_readers: Option<Arc<hot_reads::SqliteReaders>>,
}

/// How long a pooled PostgreSQL connection may sit idle before it is
/// pinged again when lent out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

impl Database {
    /// Opens the database named by `config.database_url`, creating an SQLite
    /// file if it does not exist yet. Does not run migrations.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let url = config.database_url.as_str();
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // The kept connections count against --db-max-connections.
            let kept = (config.db_max_connections as usize / 4).min(KEPT_CONNECTIONS);
            let pool = AnyPoolOptions::new()
                .max_connections(config.db_max_connections.saturating_sub(kept as u32).max(1))
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection before lending it out, a round
                // trip to the server on every acquire (and another on every
                // return, which it always makes). A connection used within
                // the last second is lent without it: it was sound then,
                // and one that has broken since fails its statement, which
                // fails that request and drops the connection, as a failure
                // after the ping would. An idle one is still pinged (and
                // replaced if dead), as after a server restart.
                .test_before_acquire(false)
                .before_acquire(|connection, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_WHEN_IDLE_FOR {
                            connection.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await?;
            return Ok(Self {
                kept: Arc::new(KeptConnections::new(pool.clone(), kept)),
                delivery_signal: Arc::new(DeliverySignal::postgres(url, pool.clone())),
                pool,
                backend: Backend::Postgres,
                subscriptions: Arc::default(),
                funnels: Arc::default(),
                sqlite_writer: None,
                sqlite_readers: None,
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(sqlx::Error::Configuration(
                format!(
                    "unsupported database URL `{url}`: use sqlite://PATH or postgres://USER@HOST/DB"
                )
                .into(),
            ));
        }
        let url = sqlite_url_creating_file(url);
        let synchronous = match config.sqlite_synchronous {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        };
        let pragmas = format!(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = {synchronous};"
        );
        // One writer thread: SQLite allows a single writer at a time, and a
        // queue in this process is fairer and cheaper than retrying on
        // SQLITE_BUSY. Opening it switches the file to WAL mode before
        // readers open it.
        let delivery_signal: Arc<DeliverySignal> = Arc::default();
        let path = sqlite_path(&url);
        let sqlite_writer = SqliteWriter::open(
            &SqliteOptions {
                path: path.clone(),
                synchronous,
            },
            Arc::clone(&delivery_signal),
        )
        .map_err(|error| sqlx::Error::Configuration(error.to_string().into()))?;
        let pool = sqlite_pool(&url, config.db_max_connections.max(1), pragmas).await?;
        Ok(Self {
            kept: Arc::new(KeptConnections::new(pool.clone(), KEPT_CONNECTIONS)),
            pool,
            backend: Backend::Sqlite,
            delivery_signal,
            subscriptions: Arc::default(),
            funnels: Arc::default(),
            sqlite_writer: Some(Arc::new(sqlite_writer)),
            sqlite_readers: Some(Arc::new(hot_reads::SqliteReaders::new(path))),
        })
    }

    /// Brings the schema up to date; running it again is a no-op. On
    /// PostgreSQL concurrent callers wait for each other (advisory lock).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// Connections for a read that every request of a hot path makes (see
    /// [`kept_connections`]).
    pub fn kept(&self) -> &KeptConnections {
        &self.kept
    }

    /// The cache of active webhooks per account.
    pub(crate) fn subscriptions(&self) -> &webhooks::SubscriptionCache {
        &self.subscriptions
    }

    /// The cache of live stages per account.
    pub(crate) fn funnels(&self) -> &account_funnel::FunnelCache {
        &self.funnels
    }

    /// Tells delivery workers that committed deliveries are waiting: this
    /// process's, and on PostgreSQL every process's (see
    /// `delivery_signal`).
    pub fn wake_delivery_worker(&self) {
        self.delivery_signal.committed();
    }

    /// Waits for [`Database::wake_delivery_worker`] (in this process, or in
    /// any while [`Database::listen_for_deliveries`] runs).
    pub async fn deliveries_enqueued(&self) {
        self.delivery_signal.wait().await;
    }

    /// Relays other processes' commits to [`Database::deliveries_enqueued`]
    /// for as long as the future runs (PostgreSQL; returns at once on
    /// SQLite).
    pub async fn listen_for_deliveries(&self) {
        self.delivery_signal.listen().await;
    }

    /// The pool of PostgreSQL's write transactions
    /// ([`Database::write`]).
    pub(crate) fn postgres_pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("SELECT 1").await.map(|_| ())
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
        self.kept.close().await;
        self.pool.close().await;
    }
}

async fn sqlite_pool(
    url: &str,
    max_connections: u32,
    pragmas: String,
) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // An SQLite connection lives in this process and cannot be dropped
        // by a server, so the ping sqlx sends before handing one out would
        // only cost a round trip to the connection's thread per acquire.
        .test_before_acquire(false)
        .after_connect(move |connection, _| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                connection.execute(pragmas.as_str()).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// The `file:` URI that SQLite opens for an sqlx URL (`sqlite://PATH?...`
/// or `sqlite:PATH?...`), keeping its query parameters (`mode=rwc`).
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    format!("file:{rest}")
}

/// Adds `mode=rwc` (read, write, create) unless the URL picks a mode itself,
/// so the first start creates the database file.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_become_file_uris_for_the_writer() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/a.db?mode=rwc"),
            "file:/tmp/a.db?mode=rwc"
        );
        assert_eq!(sqlite_path("sqlite://a.db?mode=rwc"), "file:a.db?mode=rwc");
        assert_eq!(sqlite_path("sqlite:a.db"), "file:a.db");
    }

    #[test]
    fn sqlite_urls_get_create_mode_unless_they_choose_one() {
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }
}
