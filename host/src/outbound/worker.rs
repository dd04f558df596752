//! The delivery engine. [`Deliverer`] renders a payload with the webhook's
//! payload builder, signs it and sends it (also used by test sends and
//! previews); [`DeliveryWorker`] claims due deliveries with a lease, runs
//! them concurrently, and records every attempt in batches: success,
//! a retry on the webhook's schedule (or the receiver's `Retry-After`), or
//! giving up. `410 Gone` deactivates the webhook; so does a run of
//! failures longer than the configured period.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use super::client::{OutboundRequest, OutboundResponse, SendError, WebhookClient};
use super::payload::{BuiltPayload, Envelope, EventData, event_document, payload_from_output};
use super::settings::{BatchMode, REDACTED, WebhookMethod, retry_delay};
use super::signing;
use crate::domain::time::{now_micros, to_rfc3339};
use crate::plugins::registry::{PluginRegistry, RegistryError};
use crate::plugins::{PluginKind, abi};
use crate::storage::deliveries::{
    self, AttemptLog, AttemptOutcome, AttemptResult, ClaimedDelivery, RenderedPayload, StoredEvent,
};
use crate::storage::leads::{FunnelEventView, LeadStageView};
use crate::storage::webhooks::{self, Webhook};
use crate::storage::{Database, StoreError, funnel_history, funnel_stages};

/// Settings of the delivery worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a claim holds a delivery; a process that dies holding one
    /// has it sent by another (or by itself after a restart) once this has
    /// passed. Longer than the longest timeout (60 s).
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

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            lease: Duration::from_secs(120),
            // What a worker-only process on SQLite waits at most to see
            // deliveries enqueued by other processes (its own commits, and on
            // PostgreSQL everyone's, wake it at once).
            poll_interval: Duration::from_millis(200),
            disable_failing_after: Duration::from_secs(5 * 24 * 3_600),
            log_retention: Duration::from_secs(30 * 24 * 3_600),
            maintenance_interval: Duration::from_secs(60),
        }
    }
}

/// Renders, signs and sends one message. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub db: Database,
    pub plugins: PluginRegistry,
    pub client: WebhookClient,
}

/// Why a payload could not be built.
#[derive(Debug, thiserror::Error)]
#[error("payload builder {plugin_id} failed: {message}")]
pub struct RenderError {
    pub plugin_id: String,
    pub message: String,
    /// The plugin could not be loaded (a database error): worth retrying,
    /// unlike a plugin that ran and failed, which fails the same way again.
    pub transient: bool,
}

/// One attempt's request, response and log.
#[derive(Debug)]
pub struct Sent {
    pub log: AttemptLog,
    pub response: Result<OutboundResponse, SendError>,
}

impl Deliverer {
    /// Runs the webhook's payload builder on an event document.
    pub async fn render(
        &self,
        webhook: &Webhook,
        event: &Value,
    ) -> Result<BuiltPayload, RenderError> {
        let format = &webhook.settings.payload_format;
        let plugin_id = format.plugin_id();
        let failed = |message: String, transient: bool| RenderError {
            plugin_id: plugin_id.clone(),
            message,
            transient,
        };
        let plugin = self
            .plugins
            .resolve(&webhook.account_id, &plugin_id, PluginKind::PayloadBuilder)
            .await
            .map_err(|error| match error {
                RegistryError::Store(StoreError::Database(database)) => {
                    failed(database.to_string(), true)
                }
                other => failed(other.to_string(), false),
            })?;
        let document = abi::payload_call(&webhook.settings.payload_config, event);
        let call = self.plugins.call(&plugin, document).await;
        let output = call
            .outcome
            .map_err(|error| failed(error.to_string(), false))?;
        payload_from_output(output).map_err(|error| failed(error.to_string(), false))
    }

    /// Signs and sends a payload to the webhook under `message_id`,
    /// returning what to log. A `GET` carries `query` (the envelope) instead
    /// of a body.
    pub async fn send(
        &self,
        webhook: &Webhook,
        message_id: &str,
        query: &[(&'static str, String)],
        payload: &BuiltPayload,
    ) -> Sent {
        let settings = &webhook.settings;
        let (url, body) = match settings.method {
            WebhookMethod::Get => (with_query(&settings.url, query), None),
            _ => (settings.url.clone(), Some(payload.body.as_bytes().to_vec())),
        };
        let signed_body: &[u8] = body.as_deref().unwrap_or_default();
        let timestamp = now_micros() / 1_000_000;
        let mut headers: Vec<(String, String)> = Vec::new();
        if body.is_some() {
            headers.push(("content-type".into(), payload.content_type.clone()));
        }
        headers.extend(payload.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        headers.extend(settings.auth.headers());
        headers.push(("webhook-id".into(), message_id.to_owned()));
        headers.push(("webhook-timestamp".into(), timestamp.to_string()));
        headers.push((
            "webhook-signature".into(),
            signing::standard_signature(
                &webhook.signing_secret,
                message_id,
                timestamp,
                signed_body,
            ),
        ));
        if settings.send_secret_header {
            headers.push(("x-webhook-secret".into(), webhook.signing_secret.clone()));
        }
        if settings.send_hmac_header {
            headers.push((
                "x-hmac-signature".into(),
                signing::body_hmac_hex(&webhook.signing_secret, signed_body),
            ));
        }

        let mut secret_headers = settings.auth.secret_header_names();
        secret_headers.push("x-webhook-secret".into());
        let logged_headers: BTreeMap<&str, &str> = headers
            .iter()
            .map(|(name, value)| {
                let shown = if secret_headers.contains(name) {
                    REDACTED
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        let mut log = AttemptLog {
            url: Some(url.clone()),
            method: Some(settings.method.as_str().to_owned()),
            request_headers: Some(json!(logged_headers).to_string()),
            request_body: body
                .as_ref()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
            ..AttemptLog::default()
        };
        let started = Instant::now();
        let response = self
            .client
            .send(OutboundRequest {
                method: reqwest::Method::from_bytes(settings.method.as_str().as_bytes())
                    .unwrap_or(reqwest::Method::POST),
                url,
                headers,
                body,
                timeout: settings.timeout,
            })
            .await;
        log.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        match &response {
            Ok(answer) => {
                let headers: BTreeMap<&str, &str> = answer
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                log.response_status = Some(i64::from(answer.status));
                log.response_headers = Some(storable(&json!(headers).to_string()));
                log.response_body = Some(storable(&String::from_utf8_lossy(&answer.body)));
                if !(200..300).contains(&answer.status) {
                    log.error = Some(format!("the receiver answered {}", answer.status));
                }
            }
            Err(error) => log.error = Some(storable(&error.to_string())),
        }
        Sent { log, response }
    }

    /// The event document for a stored event: the envelope, the lead as the
    /// change left it, the stage it left, and (for formats that show it) the
    /// funnel history as of the event.
    async fn event_document(
        &self,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
        event: &StoredEvent,
        stages: &HashMap<String, LeadStageView>,
    ) -> Result<(Envelope, Value), StoreError> {
        let envelope = Envelope::for_stored(&delivery.id, &webhook.id, event);
        let data = EventData::parse(&event.data);
        let previous = data
            .previous_funnel_stage_id
            .and_then(|id| stages.get(&id).cloned());
        let history = if webhook.settings.payload_format.needs_history() {
            let events = funnel_history::list_as_of(
                &self.db,
                &delivery.account_id,
                &event.lead_id,
                event.occurred_at,
            )
            .await?;
            Some(events.into_iter().map(FunnelEventView::from).collect())
        } else {
            None
        };
        let document = event_document(&envelope, data.lead, previous, history);
        Ok((envelope, document))
    }
}

/// Text the database can store: PostgreSQL refuses NUL characters, and a
/// receiver may answer with anything.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// `url` with `pairs` appended to its query string.
fn with_query(url: &str, pairs: &[(&str, String)]) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            parsed
                .query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            parsed.into()
        }
        // The client refuses it with a clear error.
        Err(_) => url.to_owned(),
    }
}

/// Claims and sends due deliveries until shut down.
pub struct DeliveryWorker {
    deliverer: Deliverer,
    config: WorkerConfig,
    leases: Leases,
}

/// The leases this worker holds, so that a shutdown that cannot wait for
/// every delivery in flight gives them back instead of leaving them
/// claimed until they expire.
#[derive(Debug, Clone, Default)]
struct Leases(Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>);

impl Leases {
    fn hold(&self, lease_until: i64) {
        let mut leases = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = now_micros();
        leases.retain(|lease| *lease > now);
        leases.insert(lease_until);
    }

    fn live(&self) -> Vec<i64> {
        let now = now_micros();
        let leases = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        leases
            .iter()
            .copied()
            .filter(|lease| *lease > now)
            .collect()
    }
}

/// A running worker: stop it with [`WorkerHandle::shutdown`].
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    db: Database,
    leases: Leases,
}

impl WorkerHandle {
    /// Stops claiming, lets deliveries in flight finish (at most `grace`),
    /// and records their attempts. Deliveries still unfinished then are
    /// given back (their claims released) to be sent again, by this
    /// process after a restart or by another one at once.
    pub async fn shutdown(self, grace: Duration) {
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

impl DeliveryWorker {
    pub fn new(deliverer: Deliverer, config: WorkerConfig) -> Self {
        Self {
            deliverer,
            config,
            leases: Leases::default(),
        }
    }

    pub fn start(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let db = self.deliverer.db.clone();
        let leases = self.leases.clone();
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle {
            stop,
            task,
            db,
            leases,
        }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let (results_tx, results_rx) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record_loop(worker.deliverer.db.clone(), results_rx));
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
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match worker.claim(free).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::error!(%error, "cannot claim deliveries");
                        Vec::new()
                    }
                }
            };
            if claimed.is_empty() {
                let db = worker.deliverer.db.clone();
                tokio::select! {
                    () = db.deliveries_enqueued() => {}
                    () = tokio::time::sleep(worker.config.poll_interval) => {}
                    _ = stopped.changed() => {}
                    // A slot frees up: claim again if we were full.
                    permit = slots.clone().acquire_owned(), if free == 0 => drop(permit),
                }
                continue;
            }
            // Deliveries of batching webhooks go out in batches: one task
            // per webhook and key.
            let mut groups: Vec<(Vec<ClaimedDelivery>, Arc<Context>)> = Vec::new();
            let mut singles = Vec::new();
            for (delivery, context) in claimed {
                let batching = context
                    .webhook
                    .as_ref()
                    .is_some_and(|webhook| webhook.settings.batching.mode != BatchMode::None);
                match &delivery.batch_key {
                    Some(key) if batching && !delivery.is_batch() => {
                        let existing = groups.iter_mut().find(|(group, _)| {
                            group[0].webhook_id == delivery.webhook_id
                                && group[0].batch_key.as_deref() == Some(key)
                        });
                        match existing {
                            Some((group, _)) => group.push(delivery),
                            None => groups.push((vec![delivery], context)),
                        }
                    }
                    _ => singles.push((delivery, context)),
                }
            }
            for (group, context) in groups {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let worker = Arc::clone(&worker);
                let results = results_tx.clone();
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    worker
                        .process_group(group, context, &results, &stopped)
                        .await;
                    drop(permit);
                });
            }
            for (delivery, context) in singles {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let worker = Arc::clone(&worker);
                let results = results_tx.clone();
                tokio::spawn(async move {
                    let result = worker.process(delivery, context).await;
                    let _ = results.send(result);
                    drop(permit);
                });
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
        tracing::info!("delivery worker stopped");
    }

    /// Claims up to `limit` due deliveries with what sending them needs.
    /// If that cannot be read, the claims are given back at once.
    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<(ClaimedDelivery, Arc<Context>)>> {
        let db = &self.deliverer.db;
        let now = now_micros();
        let lease_until = now + i64::try_from(self.config.lease.as_micros()).unwrap_or(i64::MAX);
        self.leases.hold(lease_until);
        let limit = i64::try_from(limit.min(500)).unwrap_or(500);
        let claimed = deliveries::claim_due(db, now, lease_until, limit).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        match self.contexts(&claimed).await {
            Ok(contexts) => Ok(claimed.into_iter().zip(contexts).collect()),
            Err(error) => {
                if let Err(release) = deliveries::release(db, &claimed).await {
                    tracing::error!(%release, "cannot release claimed deliveries; their leases will expire");
                }
                Err(error)
            }
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
        let events = deliveries::events_by_id(db, &event_ids).await?;
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

    /// A fresh result for an attempt at `delivery`.
    fn new_result(&self, delivery: &ClaimedDelivery, webhook: Option<&Webhook>) -> AttemptResult {
        AttemptResult {
            delivery_id: delivery.id.clone(),
            account_id: delivery.account_id.clone(),
            webhook_id: delivery.webhook_id.clone(),
            attempted_at: now_micros(),
            triggered_by: delivery.next_trigger.clone(),
            log: AttemptLog::default(),
            outcome: AttemptOutcome::Failed,
            rendered: None,
            claim: delivery.claimed_until,
            forget_payload: webhook.is_some_and(|webhook| webhook.settings.lightweight_logs),
            is_batch: delivery.is_batch(),
        }
    }

    /// One attempt at one delivery (a single message or a batch).
    async fn process(&self, delivery: ClaimedDelivery, context: Arc<Context>) -> Recorded {
        let result = self.new_result(&delivery, context.webhook.as_deref());
        let Some(webhook) = &context.webhook else {
            return give_up(result, "the webhook no longer exists".into());
        };
        if !webhook.settings.active {
            return parked(result, webhook);
        }
        if delivery.is_batch() {
            return self.process_batch(result, &delivery, webhook, None).await;
        }
        let Some(event) = &context.event else {
            return give_up(result, "the event no longer exists".into());
        };
        self.process_single(result, &delivery, webhook, event, &context.stages)
            .await
    }

    async fn process_single(
        &self,
        mut result: AttemptResult,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
        event: &StoredEvent,
        stages: &HashMap<String, LeadStageView>,
    ) -> Recorded {
        let (envelope, document) = match self
            .deliverer
            .event_document(delivery, webhook, event, stages)
            .await
        {
            Ok(document) => document,
            Err(error) => {
                return self.retry_later(
                    result,
                    delivery,
                    webhook,
                    format!("cannot read the event's funnel history: {error}"),
                );
            }
        };
        let payload = match stored_payload(delivery) {
            // A GET carries no body: nothing to render.
            _ if webhook.settings.method == WebhookMethod::Get => BuiltPayload {
                body: String::new(),
                content_type: String::new(),
                headers: BTreeMap::new(),
            },
            Some(payload) => payload,
            None => match self.deliverer.render(webhook, &document).await {
                Ok(payload) => {
                    result.rendered = Some(rendered(&payload));
                    payload
                }
                Err(error) if error.transient => {
                    return self.retry_later(result, delivery, webhook, error.to_string());
                }
                // A plugin that fails fails the same way next time: not
                // retried like a network error.
                Err(error) => return give_up(result, error.to_string()),
            },
        };
        let query = envelope.query_pairs();
        self.send_and_decide(result, delivery, webhook, &envelope.id, &query, &payload)
            .await
    }

    /// Claimed deliveries of one batching webhook and key: made into
    /// batches of at most `max_items` (with other deliveries waiting under
    /// the key) and sent one after the other, each batch under a lease of
    /// its own and recorded as soon as it is done. Stops forming batches
    /// once the worker is stopping; what is left keeps its claim's lease.
    async fn process_group(
        &self,
        group: Vec<ClaimedDelivery>,
        context: Arc<Context>,
        results: &mpsc::UnboundedSender<Recorded>,
        stopped: &watch::Receiver<bool>,
    ) {
        let Some(webhook) = &context.webhook else {
            for delivery in &group {
                let result = self.new_result(delivery, None);
                let _ = results.send(give_up(result, "the webhook no longer exists".into()));
            }
            return;
        };
        if !webhook.settings.active {
            for delivery in &group {
                let result = self.new_result(delivery, Some(webhook));
                let _ = results.send(parked(result, webhook));
            }
            return;
        }
        let db = &self.deliverer.db;
        let mut remaining: Vec<&ClaimedDelivery> = group.iter().collect();
        while let Some(first) = remaining.first().copied() {
            if *stopped.borrow() {
                break;
            }
            let now = now_micros();
            let lease_until =
                now + i64::try_from(self.config.lease.as_micros()).unwrap_or(i64::MAX / 2);
            self.leases.hold(lease_until);
            let formed = deliveries::form_batch(
                db,
                first,
                webhook.settings.batching.max_items,
                lease_until,
                now,
            )
            .await;
            let (batch, members) = match formed {
                Ok(Some(formed)) => formed,
                // `first` went into another batch meanwhile.
                Ok(None) => {
                    remaining.remove(0);
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, webhook = %webhook.id, "cannot form a batch; its deliveries wait for their leases");
                    break;
                }
            };
            remaining.retain(|delivery| {
                delivery.id != first.id && !members.iter().any(|member| member.id == delivery.id)
            });
            let result = self.new_result(&batch, Some(webhook));
            let recorded = self
                .process_batch(result, &batch, webhook, Some(members))
                .await;
            let _ = results.send(recorded);
        }
    }

    /// Sends a batch: its stored body, or the members' payloads (rendered
    /// now unless stored) as one JSON array, signed once under the batch's
    /// own message id.
    async fn process_batch(
        &self,
        mut result: AttemptResult,
        batch: &ClaimedDelivery,
        webhook: &Webhook,
        members: Option<Vec<ClaimedDelivery>>,
    ) -> Recorded {
        let payload = match stored_payload(batch) {
            Some(payload) => payload,
            None => {
                let members = match members {
                    Some(members) => members,
                    None => match deliveries::batch_members(&self.deliverer.db, &batch.id).await {
                        Ok(members) => members,
                        Err(error) => {
                            return self.retry_later(
                                result,
                                batch,
                                webhook,
                                format!("cannot read the batch's messages: {error}"),
                            );
                        }
                    },
                };
                match self.render_batch(webhook, &members).await {
                    Ok(payload) => {
                        result.rendered = Some(rendered(&payload));
                        payload
                    }
                    Err(BatchFailure::Transient(error)) => {
                        return self.retry_later(result, batch, webhook, error);
                    }
                    Err(BatchFailure::Permanent(error)) => return give_up(result, error),
                }
            }
        };
        self.send_and_decide(result, batch, webhook, &batch.id, &[], &payload)
            .await
    }

    /// The members' payloads as one JSON array; each member keeps its own
    /// rendered payload, so that it can be resent alone.
    async fn render_batch(
        &self,
        webhook: &Webhook,
        members: &[ClaimedDelivery],
    ) -> Result<BuiltPayload, BatchFailure> {
        let db = &self.deliverer.db;
        let transient = |error: StoreError| BatchFailure::Transient(error.to_string());
        let event_ids: Vec<&str> = members
            .iter()
            .filter(|member| member.payload_body.is_none())
            .filter_map(|member| member.event_id.as_deref())
            .collect();
        let events = deliveries::events_by_id(db, &event_ids)
            .await
            .map_err(transient)?;
        let stages = previous_stages(db, events.values())
            .await
            .map_err(transient)?;
        let mut bodies = Vec::with_capacity(members.len());
        let mut newly_rendered = Vec::new();
        for member in members {
            let payload = match stored_payload(member) {
                Some(payload) => payload,
                None => {
                    let event = member
                        .event_id
                        .as_ref()
                        .and_then(|id| events.get(id))
                        .ok_or_else(|| {
                            BatchFailure::Permanent(format!(
                                "the event of message {} no longer exists",
                                member.id
                            ))
                        })?;
                    let (_, document) = self
                        .deliverer
                        .event_document(member, webhook, event, &stages)
                        .await
                        .map_err(transient)?;
                    let payload =
                        self.deliverer
                            .render(webhook, &document)
                            .await
                            .map_err(|error| {
                                let message = format!("message {}: {error}", member.id);
                                if error.transient {
                                    BatchFailure::Transient(message)
                                } else {
                                    BatchFailure::Permanent(message)
                                }
                            })?;
                    newly_rendered.push((member.id.clone(), rendered(&payload)));
                    payload
                }
            };
            if !abi::is_json(&payload.content_type) {
                return Err(BatchFailure::Permanent(format!(
                    "a batch is a JSON array, but the payload of message {} is {}",
                    member.id, payload.content_type
                )));
            }
            bodies.push(payload.body);
        }
        deliveries::save_payloads(db, &newly_rendered)
            .await
            .map_err(transient)?;
        Ok(BuiltPayload {
            body: format!("[{}]", bodies.join(",")),
            content_type: "application/json".into(),
            headers: BTreeMap::new(),
        })
    }

    /// Sends, then decides: done, retry (on the schedule or the receiver's
    /// `Retry-After`), or give up; `410 Gone` also deactivates the webhook.
    async fn send_and_decide(
        &self,
        mut result: AttemptResult,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
        message_id: &str,
        query: &[(&'static str, String)],
        payload: &BuiltPayload,
    ) -> Recorded {
        let sent = self
            .deliverer
            .send(webhook, message_id, query, payload)
            .await;
        result.log = sent.log;
        let mut disable = None;
        let retry_after = match &sent.response {
            Ok(response) if (200..300).contains(&response.status) => {
                result.outcome = AttemptOutcome::Succeeded;
                None
            }
            Ok(response) if response.status == 410 => {
                disable = Some(format!(
                    "the receiver answered 410 Gone at {}",
                    to_rfc3339(result.attempted_at)
                ));
                None
            }
            Ok(response) => Some(response.retry_after),
            // The URL itself is refused: retrying cannot help until the
            // admin changes it.
            Err(
                SendError::InvalidUrl(_)
                | SendError::DestinationRefused { .. }
                | SendError::RedirectRefused(_),
            ) => None,
            Err(_) => Some(None),
        };
        if let Some(retry_after) = retry_after {
            result.outcome = next_attempt(delivery, webhook, retry_after);
        }
        if webhook.settings.lightweight_logs {
            result.log = AttemptLog {
                response_status: result.log.response_status,
                duration_us: result.log.duration_us,
                error: result.log.error.take(),
                ..AttemptLog::default()
            };
        }
        Recorded { result, disable }
    }

    /// Records an attempt that could not be made for a passing reason
    /// (the database), to be retried on the schedule.
    fn retry_later(
        &self,
        mut result: AttemptResult,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
        error: String,
    ) -> Recorded {
        tracing::warn!(delivery = %delivery.id, %error, "delivery attempt not made");
        result.log.error = Some(error);
        result.outcome = next_attempt(delivery, webhook, None);
        Recorded {
            result,
            disable: None,
        }
    }

    /// Deactivates webhooks failing for too long and purges old logs.
    async fn maintenance(&self) {
        let db = &self.deliverer.db;
        let now = now_micros();
        let period = self.config.disable_failing_after;
        let cutoff = now - i64::try_from(period.as_micros()).unwrap_or(i64::MAX / 2);
        let reason = format!(
            "every delivery attempt failed for {} hours; deactivated at {}",
            period.as_secs() / 3_600,
            to_rfc3339(now)
        );
        match deliveries::disable_long_failing(db, cutoff, &reason).await {
            Ok(disabled) if !disabled.is_empty() => {
                tracing::warn!(?disabled, "deactivated webhooks that kept failing");
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "cannot check for failing webhooks"),
        }
        let retention =
            i64::try_from(self.config.log_retention.as_micros()).unwrap_or(i64::MAX / 2);
        match deliveries::purge_before(db, now - retention).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "purged old delivery logs"),
            Err(error) => tracing::error!(%error, "cannot purge old delivery logs"),
        }
    }
}

/// The stages the events' leads left, by id (for `previous_funnel_stage`).
async fn previous_stages(
    db: &Database,
    events: impl Iterator<Item = &StoredEvent>,
) -> Result<HashMap<String, LeadStageView>, StoreError> {
    let stage_ids: Vec<String> = events
        .filter_map(|event| EventData::previous_stage_id(&event.data))
        .collect();
    if stage_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let stage_refs: Vec<&str> = stage_ids.iter().map(String::as_str).collect();
    funnel_stages::read_views_by_id(db, &stage_refs).await
}

/// Why a batch could not be built.
enum BatchFailure {
    /// The database: retried on the schedule.
    Transient(String),
    /// A payload plugin failed, or a payload is not JSON: fails the batch.
    Permanent(String),
}

/// Records a delivery as failed with `error`, without sending.
fn give_up(mut result: AttemptResult, error: String) -> Recorded {
    result.outcome = AttemptOutcome::Failed;
    result.log.error = Some(error);
    Recorded {
        result,
        disable: None,
    }
}

/// Keeps a delivery of an inactive webhook until it is activated again.
fn parked(mut result: AttemptResult, webhook: &Webhook) -> Recorded {
    result.outcome = AttemptOutcome::Parked;
    let reason = webhook
        .disabled_reason
        .as_deref()
        .map_or_else(String::new, |reason| format!(": {reason}"));
    result.log.error = Some(format!(
        "waiting: the webhook is inactive{reason}; activating it sends this delivery"
    ));
    Recorded {
        result,
        disable: None,
    }
}

/// The payload rendered at an earlier attempt, if any.
fn stored_payload(delivery: &ClaimedDelivery) -> Option<BuiltPayload> {
    let body = delivery.payload_body.clone()?;
    Some(BuiltPayload {
        body,
        content_type: delivery
            .payload_content_type
            .clone()
            .unwrap_or_else(|| "application/json".into()),
        headers: delivery
            .payload_headers
            .as_deref()
            .and_then(|headers| serde_json::from_str(headers).ok())
            .unwrap_or_default(),
    })
}

fn rendered(payload: &BuiltPayload) -> RenderedPayload {
    RenderedPayload {
        body: payload.body.clone(),
        content_type: payload.content_type.clone(),
        headers: json!(payload.headers).to_string(),
    }
}

/// The retry after a failed attempt, or failed when the schedule is used up.
fn next_attempt(
    delivery: &ClaimedDelivery,
    webhook: &Webhook,
    retry_after: Option<Duration>,
) -> AttemptOutcome {
    let retry = usize::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    match retry_delay(&webhook.settings.retry_schedule, retry, retry_after) {
        Some(delay) => AttemptOutcome::RetryAt(
            now_micros() + i64::try_from(delay.as_micros()).unwrap_or(i64::MAX / 2),
        ),
        None => AttemptOutcome::Failed,
    }
}

/// What the deliveries of one claim share.
struct Context {
    webhook: Option<Arc<Webhook>>,
    event: Option<StoredEvent>,
    stages: Arc<HashMap<String, LeadStageView>>,
}

/// An attempt to record, and a webhook to deactivate because of it.
struct Recorded {
    result: AttemptResult,
    disable: Option<String>,
}

/// Writes attempt results in batches: whatever has arrived while the last
/// batch was being written goes into the next transaction.
async fn record_loop(db: Database, mut results: mpsc::UnboundedReceiver<Recorded>) {
    const MAX_BATCH: usize = 500;
    while let Some(first) = results.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match results.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let attempts: Vec<AttemptResult> = batch
            .iter()
            .map(|recorded| recorded.result.clone())
            .collect();
        let mut tries = 0;
        loop {
            match deliveries::record_results(&db, &attempts).await {
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
        for recorded in &batch {
            if let Some(reason) = &recorded.disable {
                if let Err(error) =
                    webhooks::disable(&db, &recorded.result.webhook_id, reason).await
                {
                    tracing::error!(%error, webhook = %recorded.result.webhook_id, "cannot deactivate webhook");
                } else {
                    tracing::warn!(webhook = %recorded.result.webhook_id, %reason, "webhook deactivated");
                }
            }
        }
    }
}
