//! The result recorder: attempt results arrive on a channel from the tasks
//! sending them, and are written in batches (whatever arrived while the
//! last batch was being written goes into the next transaction), each only
//! under the claim that made it. Webhooks a result deactivates (`410 Gone`)
//! are deactivated after their batch is written.

use std::time::Duration;

use tokio::sync::mpsc;

use super::leases::Held;
use crate::metrics;
use crate::storage::Database;
use crate::storage::deliveries::AttemptResult;
use crate::storage::{delivery_results, webhook_health};

/// Results written in one transaction at most.
const MAX_BATCH: usize = 500;

/// An attempt to record, and a webhook to deactivate because of it.
#[derive(Debug)]
pub(super) struct Recorded {
    pub(super) result: AttemptResult,
    /// Why to deactivate the attempt's webhook, if it must be.
    pub(super) disable: Option<String>,
}

/// A result to write, with the guards that keep its claims renewed until
/// it is written.
pub(super) type ToRecord = (Recorded, Vec<Held>);

/// Writes attempt results in batches until every sender is gone; the
/// claims are let go once written (or once writing them was given up: they
/// lapse, and the deliveries are sent again).
pub(super) async fn record_loop(db: Database, mut results: mpsc::UnboundedReceiver<ToRecord>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while results.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let attempts: Vec<AttemptResult> = batch
            .iter()
            .map(|(recorded, _)| recorded.result.clone())
            .collect();
        write_with_retries(&db, &attempts).await;
        for (recorded, held) in batch.drain(..) {
            drop(held);
            metrics::record::delivery_attempt_result(&recorded.result);
            if let Some(reason) = &recorded.disable {
                let webhook = &recorded.result.webhook_id;
                if let Err(error) = webhook_health::disable(&db, webhook, reason).await {
                    tracing::error!(%error, %webhook, "cannot deactivate webhook");
                } else {
                    tracing::warn!(%webhook, %reason, "webhook deactivated");
                }
            }
        }
    }
}

/// Writes the results, trying again a few times on a database error.
async fn write_with_retries(db: &Database, attempts: &[AttemptResult]) {
    let mut tries = 0;
    loop {
        match delivery_results::record_results(db, attempts).await {
            Ok(()) => break,
            Err(error) if tries < 5 => {
                tries += 1;
                tracing::warn!(%error, tries, "cannot record delivery attempts; retrying");
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
            Err(error) => {
                // The leases expire and the deliveries are sent again:
                // at least once, never lost.
                tracing::error!(%error, count = attempts.len(), "giving up recording delivery attempts");
                break;
            }
        }
    }
}
