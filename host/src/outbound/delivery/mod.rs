//! The delivery engine: [`Deliverer`] renders, signs and sends one message
//! (test sends and previews use it too); [`DeliveryWorker`] claims due
//! deliveries with a short lease it renews while they run, runs them
//! concurrently, and records every attempt in batches.
//!
//! The decisions are pure functions with table-driven tests beside them;
//! the rest is the loop that applies them:
//!
//! - `outcome.rs`: what an answer or an error means (delivered, retry at,
//!   give up, deactivate on `410 Gone`, the receiver's `Retry-After`). To
//!   change retry behaviour, edit this (and `outbound::retry::retry_delay`
//!   for the schedule's jitter and the `Retry-After` bounds).
//! - `request.rs`: the signed headers of a request and what the delivery log
//!   keeps of it (credentials redacted, lightweight logs trimmed). To change
//!   signing or the headers sent, edit this (and `outbound::signing`).
//! - `batches.rs`: how claimed deliveries group into batches, and what a
//!   batch sends (a member whose payload fails fails alone). To change
//!   batching, edit this; `batch_send.rs` forms, renders and sends them.
//! - `deliverer.rs`: [`Deliverer`], rendering with the payload plugin and
//!   sending.
//! - `attempt.rs`: one attempt at one claimed delivery: render (or reuse the
//!   stored payload), send, decide.
//! - `fairness.rs`: how free slots are shared among webhooks and accounts
//!   (each webhook's cap on deliveries in flight), and what each webhook
//!   has in flight here.
//! - `leases.rs`: the worker's claims: their holder id, renewing them on
//!   a schedule, and shutting down.
//! - `recorder.rs`: writes attempt results in batches.
//! - `maintenance.rs`: deactivates webhooks failing for too long, purges old
//!   logs.
//! - `test_send.rs`: test sends, logged as deliveries marked `test`, and
//!   their resends.
//!
//! This file holds the claim loop: claim, wait, group, spawn under a
//! semaphore, shut down.

mod attempt;
mod batch_send;
mod batches;
mod deliverer;
mod fairness;
mod leases;
mod maintenance;
mod outcome;
mod recorder;
mod request;
mod test_send;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};

pub(crate) use deliverer::Deliverer;
pub(crate) use leases::WorkerHandle;

use self::batches::{Grouped, group_for_batching};
use self::deliverer::previous_stages;
use self::fairness::{InFlight, fair_shares};
use self::leases::{Held, HeldClaims, holder_id, lease_until, renew_loop};
use self::recorder::record_loop;
use crate::domain::time::{micros, now_micros};
use crate::domain::webhook::BatchMode;
use crate::storage::deliveries::{self, ClaimRequest, ClaimedDelivery, DueWebhook};
use crate::storage::lead_events::{self, StoredEvent};
use crate::storage::leads::LeadStageView;
use crate::storage::webhooks::{self, Webhook};

/// Settings of the delivery worker.
#[derive(Debug, Clone)]
pub(crate) struct WorkerConfig {
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a claim holds a delivery unless renewed; the worker renews
    /// its claims three times a lease while it runs, so a process that dies
    /// holding one has it sent by another (or by itself after a restart)
    /// within this.
    pub lease: Duration,
    /// How often to look for due deliveries when nothing wakes the worker:
    /// retries falling due, and on SQLite deliveries enqueued by other
    /// processes (on PostgreSQL their commits wake it, see
    /// `storage::delivery_signal`).
    pub poll_interval: Duration,
    /// A webhook whose attempts have all failed for this long is
    /// deactivated.
    pub disable_failing_after: Duration,
    /// Delivery logs older than this are deleted.
    pub log_retention: Duration,
    /// How often failing webhooks are checked and old logs purged.
    pub maintenance_interval: Duration,
}

/// Claims and sends due deliveries until shut down.
pub(crate) struct DeliveryWorker {
    deliverer: Deliverer,
    config: WorkerConfig,
    /// The id this worker's claims are held under.
    holder: String,
    /// The claims it is working on, renewed until their results are
    /// written.
    held: HeldClaims,
    /// Each webhook's deliveries being sent, against its cap.
    in_flight: InFlight,
}

/// Claimed deliveries with their context, and the guards holding their
/// claims by delivery id.
type ClaimedWork = (Vec<(ClaimedDelivery, Arc<Context>)>, HashMap<String, Held>);

/// What the deliveries of one claim share.
struct Context {
    webhook: Option<Arc<Webhook>>,
    event: Option<StoredEvent>,
    stages: Arc<HashMap<String, LeadStageView>>,
}

/// Most deliveries one claim asks for, given `free` slots.
fn requested(free: usize) -> usize {
    free.min(500)
}

impl DeliveryWorker {
    pub(crate) fn new(deliverer: Deliverer, config: WorkerConfig) -> Self {
        Self {
            deliverer,
            config,
            holder: holder_id(),
            held: HeldClaims::default(),
            in_flight: InFlight::default(),
        }
    }

    pub(crate) fn start(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let db = self.deliverer.db.clone();
        let holder = self.holder.clone();
        let held = self.held.clone();
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle::new(stop, task, db, holder, held)
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record_loop(worker.deliverer.db.clone(), results_rx));
        // Until the last result is recorded: a claim lapsing meanwhile could
        // have its delivery sent again by another worker.
        let renewal = tokio::spawn(renew_loop(
            worker.deliverer.db.clone(),
            worker.holder.clone(),
            worker.config.lease,
            worker.held.clone(),
        ));
        let slots = Arc::new(Semaphore::new(worker.config.concurrency.max(1)));
        // Off the claim loop, so that purging never delays deliveries.
        let maintenance = tokio::spawn({
            let worker = Arc::clone(&worker);
            async move {
                let mut every = tokio::time::interval(worker.config.maintenance_interval);
                loop {
                    every.tick().await;
                    worker.maintenance().await;
                }
            }
        });
        // Other processes' commits wake this worker at once (PostgreSQL).
        let listener = tokio::spawn({
            let db = worker.deliverer.db.clone();
            async move { db.listen_for_deliveries().await }
        });
        while !*stopped.borrow() {
            let free = slots.available_permits();
            let (claimed, mut held) = if free == 0 {
                (Vec::new(), HashMap::new())
            } else {
                match worker.claim(free).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::error!(%error, "cannot claim deliveries");
                        (Vec::new(), HashMap::new())
                    }
                }
            };
            if claimed.is_empty() {
                worker.wait_for_work(&slots, free, &mut stopped).await;
                continue;
            }
            // A claim that came back short took everything due: claiming
            // again at once would find nothing (on PostgreSQL, a transaction
            // and the due-webhooks query for nothing, after every claim
            // while changes trickle in). Wait for news first; a commit
            // meanwhile has left its wake-up.
            let drained = claimed.len() < requested(free);
            // Deliveries of batching webhooks go out in batches: one task
            // per webhook and key.
            let Grouped { groups, singles } = group_for_batching(claimed, |context| {
                context
                    .webhook
                    .as_ref()
                    .is_some_and(|webhook| webhook.settings.batching.mode != BatchMode::None)
            });
            for (group, context) in groups {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let worker = Arc::clone(&worker);
                let results = results_tx.clone();
                let stopped = stopped.clone();
                let guards: HashMap<String, Held> = group
                    .iter()
                    .filter_map(|delivery| held.remove_entry(&delivery.id))
                    .collect();
                let slot = group
                    .first()
                    .map(|first| worker.in_flight.take(&first.webhook_id));
                tokio::spawn(async move {
                    worker
                        .process_group(group, guards, context, &results, &stopped)
                        .await;
                    drop((permit, slot));
                });
            }
            for (delivery, context) in singles {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let worker = Arc::clone(&worker);
                let results = results_tx.clone();
                let guard: Vec<Held> = held.remove(&delivery.id).into_iter().collect();
                let slot = worker.in_flight.take(&delivery.webhook_id);
                tokio::spawn(async move {
                    let result = worker.process(delivery, context).await;
                    drop(slot);
                    let _ = results.send((result, guard));
                    drop(permit);
                });
            }
            if drained {
                let free = slots.available_permits();
                worker.wait_for_work(&slots, free, &mut stopped).await;
            }
        }
        maintenance.abort();
        listener.abort();
        // Wait for the deliveries in flight, then for their results to be
        // written.
        let _ = slots
            .acquire_many(u32::try_from(worker.config.concurrency.max(1)).unwrap_or(u32::MAX))
            .await;
        drop(results_tx);
        let _ = recorder.await;
        renewal.abort();
        tracing::info!("delivery worker stopped");
    }

    /// Claims up to `limit` due deliveries with what sending them needs,
    /// and holds (renews) each claim until its guard is dropped. If what
    /// they need cannot be read, the claims are given back at once.
    async fn claim(&self, limit: usize) -> anyhow::Result<ClaimedWork> {
        let db = &self.deliverer.db;
        let now = now_micros();
        let lease_until = lease_until(now, self.config.lease);
        let in_flight = self.in_flight.counts();
        let free = requested(limit);
        let request = ClaimRequest {
            holder: self.holder.clone(),
            now,
            lease_until,
            in_flight: in_flight.clone(),
            free,
            share: move |due: &[DueWebhook]| fair_shares(due, &in_flight, free),
        };
        let claimed = deliveries::claim_due(db, request).await?;
        if claimed.is_empty() {
            return Ok((Vec::new(), HashMap::new()));
        }
        let held = claimed
            .iter()
            .map(|delivery| (delivery.id.clone(), self.held.hold(&delivery.id)))
            .collect();
        match self.contexts(&claimed).await {
            Ok(contexts) => Ok((claimed.into_iter().zip(contexts).collect(), held)),
            Err(error) => {
                let ids: Vec<String> = claimed.iter().map(|delivery| delivery.id.clone()).collect();
                if let Err(release) = deliveries::release(db, &self.holder, &ids).await {
                    tracing::error!(%release, "cannot release claimed deliveries; their leases will expire");
                }
                Err(error)
            }
        }
    }

    /// Waits until there may be deliveries to claim: a commit announced
    /// them, the poll interval passed (retries falling due), a slot freed
    /// up while all were taken (`free == 0`), a webhook at its cap has
    /// room again, or the worker is stopping.
    async fn wait_for_work(
        &self,
        slots: &Arc<Semaphore>,
        free: usize,
        stopped: &mut watch::Receiver<bool>,
    ) {
        let db = &self.deliverer.db;
        tokio::select! {
            () = db.deliveries_enqueued() => {}
            () = tokio::time::sleep(self.config.poll_interval) => {}
            _ = stopped.changed() => {}
            permit = slots.clone().acquire_owned(), if free == 0 => drop(permit),
            () = self.in_flight.released() => {}
        }
    }

    /// What each claimed delivery needs: its webhook, event and stages.
    async fn contexts(&self, claimed: &[ClaimedDelivery]) -> anyhow::Result<Vec<Arc<Context>>> {
        let db = &self.deliverer.db;
        let mut webhook_ids: Vec<&str> = claimed.iter().map(|d| d.webhook_id.as_str()).collect();
        webhook_ids.sort_unstable();
        webhook_ids.dedup();
        let webhooks: HashMap<String, Webhook> = webhooks::get_many(db, &webhook_ids)
            .await?
            .into_iter()
            .map(|webhook| (webhook.id.clone(), webhook))
            .collect();
        let event_ids: Vec<&str> = claimed
            .iter()
            .filter_map(|d| d.event_id.as_deref())
            .collect();
        let events = lead_events::events_by_id(db, &event_ids).await?;
        let stages = Arc::new(previous_stages(db, events.values()).await?);
        let webhooks: HashMap<String, Arc<Webhook>> = webhooks
            .into_iter()
            .map(|(id, webhook)| (id, Arc::new(webhook)))
            .collect();
        Ok(claimed
            .iter()
            .map(|delivery| {
                Arc::new(Context {
                    webhook: webhooks.get(&delivery.webhook_id).cloned(),
                    event: delivery
                        .event_id
                        .as_ref()
                        .and_then(|id| events.get(id))
                        .cloned(),
                    stages: Arc::clone(&stages),
                })
            })
            .collect())
    }
}
