//! Leases and shutting down. A claim holds its deliveries until its lease
//! ends; [`Leases`] remembers the leases this process holds, so that a
//! shutdown that cannot wait for every delivery in flight
//! ([`WorkerHandle::shutdown`]) gives them back instead of leaving them
//! claimed until they expire.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::micros;
use crate::domain::time::now_micros;
use crate::storage::Database;
use crate::storage::deliveries;

/// When a lease taken at `now` (µs) for `lease` ends; saturating, so that
/// an absurd `--delivery-lease-seconds` cannot overflow.
pub(super) fn lease_until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(micros(lease))
}

/// The leases this worker holds, by end time (µs).
#[derive(Debug, Clone, Default)]
pub(super) struct Leases(Arc<Mutex<BTreeSet<i64>>>);

impl Leases {
    pub(super) fn hold(&self, lease_until: i64) {
        self.hold_at(lease_until, now_micros());
    }

    /// The leases still live.
    pub(super) fn live(&self) -> Vec<i64> {
        self.live_at(now_micros())
    }

    fn hold_at(&self, lease_until: i64, now: i64) {
        let mut leases = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        leases.retain(|lease| *lease > now);
        leases.insert(lease_until);
    }

    fn live_at(&self, now: i64) -> Vec<i64> {
        let leases = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        leases
            .iter()
            .copied()
            .filter(|lease| *lease > now)
            .collect()
    }
}

/// A running worker: stop it with [`WorkerHandle::shutdown`].
pub(crate) struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    db: Database,
    leases: Leases,
}

impl WorkerHandle {
    pub(super) fn new(
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
        db: Database,
        leases: Leases,
    ) -> Self {
        Self {
            stop,
            task,
            db,
            leases,
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
        let leases = self.leases.live();
        tracing::warn!(
            ?grace,
            held = leases.len(),
            "delivery worker did not finish within the grace period; releasing its claims"
        );
        if let Err(error) = deliveries::release_leases(&self.db, &leases).await {
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
            (0, Duration::from_secs(120), 120_000_000),
            (1_000, Duration::from_micros(5), 1_005),
            (1_000, Duration::MAX, i64::MAX),
            (i64::MAX - 1, Duration::from_secs(1), i64::MAX),
        ];
        for (now, lease, expected) in cases {
            assert_eq!(lease_until(now, lease), expected, "{now} + {lease:?}");
        }
    }

    #[test]
    fn only_live_leases_are_given_back() {
        let leases = Leases::default();
        leases.hold_at(100, 0);
        leases.hold_at(200, 0);
        leases.hold_at(200, 0);
        assert_eq!(leases.live_at(0), vec![100, 200]);
        assert_eq!(leases.live_at(100), vec![200]);
        assert_eq!(leases.live_at(200), Vec::<i64>::new());
        // Holding a new lease forgets the ones that have ended.
        leases.hold_at(300, 150);
        assert_eq!(leases.live_at(0), vec![200, 300]);
    }
}
