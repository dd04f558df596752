//! Telling delivery workers that deliveries were committed.
//!
//! In one process a [`Notify`] is enough. On PostgreSQL the news also goes
//! to the other processes sharing the database: after a commit that
//! enqueued deliveries, one `NOTIFY` on [`CHANNEL`]; every delivery worker
//! `LISTEN`s there, so a worker-only process sends a delivery an API
//! process committed at once instead of at its next poll. Each process
//! signs its announcements and ignores its own (it has woken its worker
//! already: hearing itself again would cost its worker a claim that finds
//! nothing). SQLite has no such channel between processes; there the poll
//! interval is the bound.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// The PostgreSQL channel commits are announced on.
pub(crate) const CHANNEL: &str = "switchyard_deliveries";

/// The signal of one [`Database`](super::Database).
#[derive(Debug, Default)]
pub(crate) struct DeliverySignal {
    local: Notify,
    postgres: Option<PostgresSignal>,
}

#[derive(Debug)]
struct PostgresSignal {
    url: String,
    pool: AnyPool,
    /// This process's signature on its announcements (random).
    origin: String,
    /// Wakes the task that sends `NOTIFY`, started on first use.
    announce: OnceLock<Arc<Notify>>,
}

impl DeliverySignal {
    /// A signal that also reaches other processes on this PostgreSQL
    /// database.
    pub(crate) fn postgres(url: &str, pool: AnyPool) -> Self {
        Self {
            local: Notify::new(),
            postgres: Some(PostgresSignal {
                url: url.to_owned(),
                pool,
                origin: format!("{:016x}", rand::random::<u64>()),
                announce: OnceLock::new(),
            }),
        }
    }

    /// Deliveries were committed: wake this process's worker, and on
    /// PostgreSQL everyone's. Does not wait for the `NOTIFY` to be sent.
    pub(crate) fn committed(&self) {
        self.local.notify_one();
        if let Some(postgres) = &self.postgres {
            postgres.announcer().notify_one();
        }
    }

    /// Waits until deliveries were committed (in this process, or on
    /// PostgreSQL in any once [`DeliverySignal::listen`] runs).
    pub(crate) async fn wait(&self) {
        self.local.notified().await;
    }

    /// Relays other processes' announcements to [`DeliverySignal::wait`]
    /// for as long as the future runs. Returns at once on SQLite.
    pub(crate) async fn listen(&self) {
        if let Some(postgres) = &self.postgres {
            postgres.relay(&self.local).await;
        }
    }
}

impl PostgresSignal {
    /// The task that sends one `NOTIFY` per wake-up. A `Notify` keeps one
    /// pending wake-up, so commits during a `NOTIFY` cause exactly one more:
    /// none goes unannounced, and a burst costs two statements, not one per
    /// commit.
    fn announcer(&self) -> &Arc<Notify> {
        self.announce.get_or_init(|| {
            let wanted = Arc::new(Notify::new());
            let pool = self.pool.clone();
            let wake = Arc::clone(&wanted);
            // The signature is hex: safe to write into the statement.
            let statement = format!("SELECT pg_notify('{CHANNEL}', '{}')", self.origin);
            tokio::spawn(async move {
                loop {
                    wake.notified().await;
                    if pool.is_closed() {
                        return;
                    }
                    if let Err(error) = sqlx::query(&statement).execute(&pool).await {
                        tracing::warn!(%error, "cannot announce committed deliveries; other processes find them at their next poll");
                    }
                }
            });
            wanted
        })
    }

    /// Listens on [`CHANNEL`] and wakes `local` at every announcement,
    /// connecting again after a failure.
    async fn relay(&self, local: &Notify) {
        loop {
            if let Err(error) = relay_once(&self.url, &self.origin, local).await {
                tracing::warn!(%error, "lost the delivery announcements; listening again in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One listening connection, until it fails. Announcements signed
/// `origin` are this process's own and already woke `local`.
async fn relay_once(url: &str, origin: &str, local: &Notify) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Anything committed while nobody listened: look once.
    local.notify_one();
    loop {
        let announcement = listener.recv().await?;
        if announcement.payload() != origin {
            local.notify_one();
        }
    }
}
