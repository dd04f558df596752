//! Inbound flood control (issue 15): what refuses a request with `429 Too
//! Many Requests` and `Retry-After` before anything is written.
//!
//! - **An import's rate limit** (its `rate_limit` setting, off by
//!   default): a token bucket per import, checked when an inbound request
//!   has been authenticated, before its body is read. The buckets live in
//!   this process's memory: each server process limits on its own, so N
//!   processes behind a load balancer accept up to N times the rate
//!   between them (and a restart refills every bucket).
//! - **The cap on undelivered deliveries per account**
//!   (`--max-pending-deliveries-per-account`, off by default): while an
//!   account has as many deliveries waiting to be sent as the cap, the
//!   writes that could add to its queue are refused, so that a receiver
//!   that is down cannot make the queue fill the disk: every inbound
//!   request of its imports (checked before the body is read, like the
//!   rate limit), and lead create, update and delete through the API and
//!   the admin UI. Resends, recovery and test sends are not refused: they
//!   are an admin's deliberate actions on deliveries that already exist.
//!   The count is not read per request: a task of this process counts
//!   every account's scheduled deliveries every
//!   `--pending-deliveries-refresh-ms` (one query over the
//!   `deliveries_webhook_due` index), and requests compare with the last
//!   count. An account can therefore go past its cap by what it writes in
//!   one refresh interval; every process reads the same database, so the
//!   cap holds across processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::domain::rate_limit::{RateLimit, TokenBucket, retry_after_seconds};
use crate::metrics::record::Refusal;
use crate::storage::{Database, pending_deliveries};

/// Most imports whose buckets are kept; past it every bucket starts over
/// full (a bound on memory, far above any real number of limited imports).
const MAX_BUCKETS: usize = 100_000;

/// What a client over the cap is told to wait: deliveries drain at the
/// pace of their receivers, so retrying sooner would mostly be refused
/// again.
const PENDING_CAP_RETRY_AFTER_SECONDS: u64 = 30;

/// The flood control of one server process.
#[derive(Debug, Default)]
pub(crate) struct FloodControl {
    buckets: Mutex<HashMap<String, TokenBucket>>,
    /// The cap, when `--max-pending-deliveries-per-account` is set.
    pending: Option<Arc<PendingCap>>,
}

impl FloodControl {
    /// Flood control with the cap on undelivered deliveries (`None`: no
    /// cap); its counts stay empty until [`PendingCap::refresh`] runs.
    pub(crate) fn new(max_pending_per_account: Option<u64>) -> Self {
        Self {
            buckets: Mutex::default(),
            pending: max_pending_per_account.map(|max| Arc::new(PendingCap::new(max))),
        }
    }

    /// The cap, for the task that refreshes its counts.
    pub(crate) fn pending_cap(&self) -> Option<Arc<PendingCap>> {
        self.pending.clone()
    }

    /// Takes a request from the import's bucket, or refuses it.
    pub(crate) fn admit_import(
        &self,
        import_id: &str,
        limit: Option<RateLimit>,
    ) -> Result<(), (Refusal, ApiError)> {
        let Some(limit) = limit else {
            return Ok(());
        };
        let now = Instant::now();
        let taken = {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(import_id) {
                buckets.clear();
            }
            let bucket = buckets
                .entry(import_id.to_owned())
                .or_insert_with(|| TokenBucket::new(limit, now));
            // A changed limit applies at once, starting from a full bucket.
            if bucket.limit() != limit {
                *bucket = TokenBucket::new(limit, now);
            }
            bucket.take(now)
        };
        taken.map_err(|wait| {
            let seconds = retry_after_seconds(wait);
            let error = ApiError::TooManyRequests {
                message: format!(
                    "Too many requests: this webhook import accepts {} per second \
                     (bursts of up to {}). Nothing was written; retry after {seconds} s \
                     (Retry-After).",
                    limit.per_second, limit.burst
                ),
                retry_after_seconds: seconds,
            };
            (Refusal::RateLimited, error)
        })
    }

    /// Refuses a write that would change the account's leads while the
    /// account is over the cap on undelivered deliveries.
    pub(crate) fn admit_lead_write(&self, account_id: &str) -> Result<(), (Refusal, ApiError)> {
        match &self.pending {
            None => Ok(()),
            Some(cap) => cap
                .admit(account_id)
                .map_err(|error| (Refusal::PendingDeliveriesCap, error)),
        }
    }

    /// [`FloodControl::admit_lead_write`], as the error a handler returns.
    pub(crate) fn check_lead_write(&self, account_id: &str) -> Result<(), ApiError> {
        self.admit_lead_write(account_id)
            .map_err(|(_, error)| error)
    }
}

/// The cap on undelivered deliveries per account, with the last counts.
#[derive(Debug)]
pub(crate) struct PendingCap {
    max: u64,
    /// Scheduled deliveries by account, as last counted.
    counts: RwLock<HashMap<String, u64>>,
}

impl PendingCap {
    fn new(max: u64) -> Self {
        Self {
            max,
            counts: RwLock::default(),
        }
    }

    fn admit(&self, account_id: &str) -> Result<(), ApiError> {
        let waiting = self
            .counts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(account_id)
            .copied()
            .unwrap_or(0);
        if waiting < self.max {
            return Ok(());
        }
        Err(ApiError::TooManyRequests {
            message: format!(
                "Too many undelivered webhook deliveries: this account has {waiting} waiting \
                 to be sent, and this server stores at most {} per account \
                 (--max-pending-deliveries-per-account). Changes to leads are refused until \
                 its webhooks catch up (or are deactivated). Nothing was written; retry after \
                 {PENDING_CAP_RETRY_AFTER_SECONDS} s (Retry-After).",
                self.max
            ),
            retry_after_seconds: PENDING_CAP_RETRY_AFTER_SECONDS,
        })
    }

    /// Replaces the counts with what the database holds now.
    pub(crate) async fn refresh(&self, db: &Database) -> crate::storage::StoreResult<()> {
        let counts = pending_deliveries::by_account(db).await?;
        *self.counts.write().unwrap_or_else(PoisonError::into_inner) = counts;
        Ok(())
    }

    /// Refreshes the counts every `interval` until the returned handle is
    /// dropped. After a failed count the last one stays in force.
    pub(crate) fn keep_counting(self: Arc<Self>, db: Database, interval: Duration) -> Counting {
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = self.refresh(&db).await {
                    tracing::warn!(%error, "cannot count undelivered deliveries; the last count stays in force");
                }
            }
        });
        Counting(task)
    }
}

/// The task of [`PendingCap::keep_counting`]; stops when dropped.
#[derive(Debug)]
pub(crate) struct Counting(tokio::task::JoinHandle<()>);

impl Drop for Counting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlimited_import_is_always_admitted() {
        let flood = FloodControl::new(None);
        for _ in 0..1_000 {
            assert!(flood.admit_import("wi_1", None).is_ok());
        }
        assert!(flood.admit_lead_write("acc_1").is_ok());
    }

    #[test]
    fn a_limited_import_is_refused_past_its_burst_with_a_retry_after() {
        let flood = FloodControl::new(None);
        let limit = RateLimit::new(1, Some(2)).ok();
        assert!(flood.admit_import("wi_1", limit).is_ok());
        assert!(flood.admit_import("wi_1", limit).is_ok());
        let (reason, error) = flood
            .admit_import("wi_1", limit)
            .expect_err("the burst is spent");
        assert_eq!(reason, Refusal::RateLimited);
        assert_eq!(error.retry_after_seconds(), Some(1));
        assert!(
            error.to_string().contains("accepts 1 per second"),
            "{error}"
        );
        // Another import has a bucket of its own.
        assert!(flood.admit_import("wi_2", limit).is_ok());
        // A new limit starts from a full bucket.
        assert!(
            flood
                .admit_import("wi_1", RateLimit::new(5, None).ok())
                .is_ok()
        );
    }

    #[test]
    fn the_cap_refuses_an_account_at_or_over_it_and_names_it() {
        let flood = FloodControl::new(Some(3));
        let cap = flood.pending_cap().expect("a cap");
        *cap.counts.write().unwrap() =
            HashMap::from([("acc_full".to_owned(), 3), ("acc_ok".to_owned(), 2)]);
        assert!(flood.admit_lead_write("acc_ok").is_ok());
        assert!(flood.admit_lead_write("acc_none").is_ok());
        let (reason, error) = flood
            .admit_lead_write("acc_full")
            .expect_err("over the cap");
        assert_eq!(reason, Refusal::PendingDeliveriesCap);
        assert_eq!(error.retry_after_seconds(), Some(30));
        let message = error.to_string();
        assert!(message.contains("has 3 waiting"), "{message}");
        assert!(
            message.contains("--max-pending-deliveries-per-account"),
            "{message}"
        );
    }
}
