//! Leases, their renewal, and shutting down.
//!
//! A worker claims deliveries under its own id ([`holder_id`]) with a short
//! lease, and renews the claims it is working on ([`HeldClaims`]) while it
//! runs ([`renew_loop`], on the schedule of [`renewal_delay`]). A process
//! that dies stops renewing, so its deliveries are free again within one
//! lease (10 s by default) and another process, or this one restarted,
//! sends them. A live worker's claims never lapse in normal operation,
//! however long the receiver takes, so nothing is sent twice.
//!
//! Only claims something works on are renewed: each is held by a [`Held`]
//! guard that goes with the work (the task sending the delivery, then its
//! result on the way to the database) and lets go when dropped. A claim
//! whose work ended without a recorded result (a panic, a result that
//! could not be written) lapses, and its delivery is sent again.
//!
//! A shutdown that cannot wait for every delivery in flight
//! ([`WorkerHandle::shutdown`]) gives them back instead of leaving them
//! claimed until the lease runs out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::micros;
use crate::domain::time::now_micros;
use crate::storage::Database;
use crate::storage::deliveries;

/// Renewals never come closer together than this, whatever the lease.
const MIN_RENEWAL_DELAY: Duration = Duration::from_millis(50);

/// When a lease taken at `now` (µs) for `lease` ends; saturating, so that
/// an absurd `--delivery-lease-seconds` cannot overflow.
pub(super) fn lease_until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(micros(lease))
}

/// A new worker's id, the holder of its claims: the process id (to find it
/// in `ps`) and 64 random bits (process ids are reused, also across
/// machines sharing one PostgreSQL).
pub(super) fn holder_id() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

/// How long to wait before renewing the claims again. A third of the
/// lease: two renewals in a row can fail or be slow before a claim lapses.
/// After a failure, a quarter of that, to try again well before then.
pub(super) fn renewal_delay(lease: Duration, last_failed: bool) -> Duration {
    let every = lease / 3;
    let delay = if last_failed { every / 4 } else { every };
    delay.max(MIN_RENEWAL_DELAY)
}

/// Whether claims last renewed at `renewed_at` (µs) may have lapsed by
/// `now`: another worker may then be sending what this one still is.
pub(super) fn may_have_lapsed(renewed_at: i64, now: i64, lease: Duration) -> bool {
    now.saturating_sub(renewed_at) >= micros(lease)
}

/// The deliveries this worker is working on, by id, with how many guards
/// hold each.
#[derive(Debug, Clone, Default)]
pub(super) struct HeldClaims(Arc<Mutex<HashMap<String, usize>>>);

/// Keeps a claim renewed until dropped.
#[derive(Debug)]
pub(super) struct Held {
    id: String,
    claims: HeldClaims,
}

impl HeldClaims {
    /// Renews the claim on delivery `id` until the guard is dropped.
    pub(super) fn hold(&self, id: &str) -> Held {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *held.entry(id.to_owned()).or_default() += 1;
        Held {
            id: id.to_owned(),
            claims: self.clone(),
        }
    }

    /// The deliveries whose claims to renew.
    pub(super) fn ids(&self) -> Vec<String> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.keys().cloned().collect()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.claims.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.id) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.id);
            }
        }
    }
}

/// Renews `holder`'s claims on what `held` holds until aborted (after the
/// worker's last result is recorded). An idle worker writes nothing.
pub(super) async fn renew_loop(db: Database, holder: String, lease: Duration, held: HeldClaims) {
    let mut renewed_at = now_micros();
    let mut last_failed = false;
    loop {
        tokio::time::sleep(renewal_delay(lease, last_failed)).await;
        let now = now_micros();
        let ids = held.ids();
        if ids.is_empty() {
            renewed_at = now;
            last_failed = false;
            continue;
        }
        match deliveries::renew(&db, &holder, &ids, lease_until(now, lease)).await {
            Ok(_) => {
                renewed_at = now;
                last_failed = false;
            }
            Err(error) => {
                last_failed = true;
                if may_have_lapsed(renewed_at, now_micros(), lease) {
                    tracing::error!(%error, %holder, ?lease, "cannot renew delivery claims for a whole lease: deliveries in flight here may be sent again by another worker");
                } else {
                    tracing::warn!(%error, %holder, "cannot renew delivery claims; trying again");
                }
            }
        }
    }
}

/// A running worker: stop it with [`WorkerHandle::shutdown`].
pub(crate) struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    db: Database,
    holder: String,
    held: HeldClaims,
}

impl WorkerHandle {
    pub(super) fn new(
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
        db: Database,
        holder: String,
        held: HeldClaims,
    ) -> Self {
        Self {
            stop,
            task,
            db,
            holder,
            held,
        }
    }

    /// Stops claiming, lets deliveries in flight finish (at most `grace`),
    /// and records their attempts. Deliveries still unfinished then are
    /// given back (their claims released) to be sent again, by this
    /// process after a restart or by another one at once.
    pub(crate) async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.task).await.is_ok() {
            return;
        }
        tracing::warn!(
            ?grace,
            holder = %self.holder,
            "delivery worker did not finish within the grace period; releasing its claims"
        );
        let held = self.held.ids();
        if let Err(error) = deliveries::release(&self.db, &self.holder, &held).await {
            tracing::error!(%error, "cannot release claims; they expire with their lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_ends_after_its_duration_and_saturates() {
        let cases = [
            (0, Duration::from_secs(10), 10_000_000),
            (1_000, Duration::from_micros(5), 1_005),
            (1_000, Duration::MAX, i64::MAX),
            (i64::MAX - 1, Duration::from_secs(1), i64::MAX),
        ];
        for (now, lease, expected) in cases {
            assert_eq!(lease_until(now, lease), expected, "{now} + {lease:?}");
        }
    }

    #[test]
    fn claims_are_renewed_three_times_a_lease_and_sooner_after_a_failure() {
        let ms = Duration::from_millis;
        let cases = [
            (Duration::from_secs(10), false, ms(3_333)),
            (Duration::from_secs(10), true, ms(833)),
            (Duration::from_secs(2), false, ms(666)),
            (Duration::from_secs(2), true, ms(166)),
            // Never a busy loop, however short the lease.
            (ms(90), false, MIN_RENEWAL_DELAY),
            (Duration::ZERO, true, MIN_RENEWAL_DELAY),
        ];
        for (lease, last_failed, expected) in cases {
            let delay = renewal_delay(lease, last_failed);
            // Within a millisecond: a third of a lease is not whole.
            assert!(
                delay >= expected && delay < expected + ms(1),
                "{lease:?}, failed: {last_failed}: {delay:?}"
            );
        }
        // Two renewals fit in a lease, failed or not: a claim survives one
        // slow or failed renewal.
        for lease in [
            Duration::from_secs(2),
            Duration::from_secs(10),
            Duration::from_secs(60),
        ] {
            assert!(renewal_delay(lease, false) * 2 < lease, "{lease:?}");
            assert!(renewal_delay(lease, true) * 4 < lease, "{lease:?}");
        }
    }

    #[test]
    fn claims_may_have_lapsed_once_a_lease_passed_without_renewal() {
        let lease = Duration::from_secs(10);
        let cases = [
            (0, 0, false),
            (0, 9_999_999, false),
            (0, 10_000_000, true),
            (5_000_000, 14_000_000, false),
            (5_000_000, 16_000_000, true),
            // A clock that went back is no lapse.
            (5_000_000, 0, false),
        ];
        for (renewed_at, now, lapsed) in cases {
            assert_eq!(
                may_have_lapsed(renewed_at, now, lease),
                lapsed,
                "renewed at {renewed_at}, now {now}"
            );
        }
    }

    #[test]
    fn a_claim_is_renewed_while_any_guard_holds_it() {
        let claims = HeldClaims::default();
        let sorted = |claims: &HeldClaims| {
            let mut ids = claims.ids();
            ids.sort();
            ids
        };
        let a = claims.hold("a");
        let b = claims.hold("b");
        let a_again = claims.hold("a");
        assert_eq!(sorted(&claims), vec!["a", "b"]);
        drop(a);
        assert_eq!(sorted(&claims), vec!["a", "b"]);
        drop(a_again);
        assert_eq!(sorted(&claims), vec!["b"]);
        // A task that panics drops its guard: the claim lapses.
        let panicked = std::panic::catch_unwind(move || {
            let _b = b;
            panic!("a bug while sending");
        });
        assert!(panicked.is_err());
        assert!(claims.ids().is_empty());
    }

    #[test]
    fn every_worker_holds_its_claims_under_an_id_of_its_own() {
        let ids: std::collections::HashSet<String> = (0..100).map(|_| holder_id()).collect();
        assert_eq!(ids.len(), 100);
        let pid = std::process::id().to_string();
        assert!(ids.iter().all(|id| id.starts_with(&format!("{pid}-"))));
    }
}
