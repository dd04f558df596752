//! Batch delivery, applied: a group of claimed deliveries of one batching
//! webhook and key is formed into batches in the database, each batch's
//! members are rendered, [`super::batches::assemble_batch`] decides what
//! goes out and which members fail alone, and the batch is sent and
//! decided like any delivery.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::batches::{AssembledBatch, assemble_batch};
use super::deliverer::{previous_stages, rendered, stored_payload};
use super::leases::{Held, lease_until};
use super::outcome::{give_up, parked, retry_later};
use super::recorder::{Recorded, ToRecord};
use super::{Context, DeliveryWorker};
use crate::domain::time::now_micros;
use crate::outbound::payload::BuiltPayload;
use crate::storage::deliveries::{self, AttemptResult, ClaimedDelivery};
use crate::storage::lead_events;
use crate::storage::webhooks::Webhook;

impl DeliveryWorker {
    /// Claimed deliveries of one batching webhook and key: made into
    /// batches of at most `max_items` (with other deliveries waiting under
    /// the key) and sent one after the other, each batch claimed by this
    /// worker and recorded as soon as it is done. Stops forming batches
    /// once the worker is stopping (or the database fails); what is left is
    /// given back.
    pub(super) async fn process_group(
        &self,
        group: Vec<ClaimedDelivery>,
        mut held: HashMap<String, Held>,
        context: Arc<Context>,
        results: &mpsc::UnboundedSender<ToRecord>,
        stopped: &watch::Receiver<bool>,
    ) {
        let mut held_by = |id: &str| held.remove(id).into_iter().collect::<Vec<Held>>();
        let Some(webhook) = &context.webhook else {
            for delivery in &group {
                let result = self.new_result(delivery, None);
                let recorded = give_up(result, "the webhook no longer exists".into());
                let _ = results.send((recorded, held_by(&delivery.id)));
            }
            return;
        };
        if !webhook.settings.active {
            for delivery in &group {
                let result = self.new_result(delivery, Some(webhook));
                let recorded = parked(result, webhook.disabled_reason.as_deref());
                let _ = results.send((recorded, held_by(&delivery.id)));
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
            let lease_until = lease_until(now, self.config.lease);
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
                    held_by(&first.id);
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, webhook = %webhook.id, "cannot form a batch; its deliveries are given back");
                    break;
                }
            };
            let batch_held = self.held.hold(&batch.id);
            // The members are the batch's now: their own claims are gone.
            remaining.retain(|delivery| {
                delivery.id != first.id && !members.iter().any(|member| member.id == delivery.id)
            });
            held_by(&first.id);
            for member in &members {
                held_by(&member.id);
            }
            let result = self.new_result(&batch, Some(webhook));
            let recorded = self
                .process_batch(result, &batch, webhook, Some(members))
                .await;
            let _ = results.send((recorded, vec![batch_held]));
        }
        // Stopping, or the database failed: what was not batched is given
        // back rather than held until this worker stops renewing it.
        if !remaining.is_empty() {
            let left: Vec<String> = remaining
                .iter()
                .map(|delivery| delivery.id.clone())
                .collect();
            if let Err(error) = deliveries::release(db, &self.holder, &left).await {
                tracing::error!(%error, "cannot give claimed deliveries back; their leases lapse");
            }
        }
    }

    /// Sends a batch: its stored body, or the members' payloads (rendered
    /// now unless stored) as one JSON array, signed once under the batch's
    /// own message id. A member whose payload cannot be built is failed on
    /// its own, with its error, and the batch goes out without it.
    pub(super) async fn process_batch(
        &self,
        mut result: AttemptResult,
        batch: &ClaimedDelivery,
        webhook: &Webhook,
        members: Option<Vec<ClaimedDelivery>>,
    ) -> Recorded {
        if let Some(payload) = stored_payload(batch) {
            return self
                .send_and_decide(result, batch, webhook, &batch.id, &[], &payload)
                .await;
        }
        let db = &self.deliverer.db;
        let members = match members {
            Some(members) => members,
            None => match deliveries::batch_members(db, &batch.id).await {
                Ok(members) => members,
                Err(error) => {
                    return retry_later(
                        result,
                        batch,
                        webhook,
                        format!("cannot read the batch's messages: {error}"),
                    );
                }
            },
        };
        let payloads = match self.render_members(webhook, &members).await {
            Ok(payloads) => payloads,
            Err(error) => return retry_later(result, batch, webhook, error),
        };
        let AssembledBatch { payload, failed } = assemble_batch(payloads);
        if !failed.is_empty() {
            for (member, error) in &failed {
                tracing::warn!(batch = %batch.id, %member, %error, "a message of a batch failed on its own");
            }
            let failing = deliveries::fail_batch_members(
                db,
                &batch.account_id,
                &batch.id,
                &result.triggered_by,
                &failed,
                now_micros(),
            )
            .await;
            if let Err(error) = failing {
                return retry_later(
                    result,
                    batch,
                    webhook,
                    format!("cannot fail the batch's unbuildable messages: {error}"),
                );
            }
        }
        let Some(payload) = payload else {
            return give_up(
                result,
                format!(
                    "not sent: none of the batch's {} messages could be built; each has its error",
                    failed.len()
                ),
            );
        };
        result.rendered = Some(rendered(&payload));
        self.send_and_decide(result, batch, webhook, &batch.id, &[], &payload)
            .await
    }

    /// Each member's payload (stored, or rendered now and stored so that
    /// the member can be resent alone), or why it cannot be built. `Err`:
    /// the database failed, and the whole batch is tried again later.
    async fn render_members(
        &self,
        webhook: &Webhook,
        members: &[ClaimedDelivery],
    ) -> Result<Vec<(String, Result<BuiltPayload, String>)>, String> {
        let db = &self.deliverer.db;
        let event_ids: Vec<&str> = members
            .iter()
            .filter(|member| member.payload_body.is_none())
            .filter_map(|member| member.event_id.as_deref())
            .collect();
        let events = lead_events::events_by_id(db, &event_ids)
            .await
            .map_err(|error| error.to_string())?;
        let stages = previous_stages(db, events.values())
            .await
            .map_err(|error| error.to_string())?;
        let mut payloads = Vec::with_capacity(members.len());
        let mut newly_rendered = Vec::new();
        for member in members {
            if let Some(payload) = stored_payload(member) {
                payloads.push((member.id.clone(), Ok(payload)));
                continue;
            }
            let Some(event) = member.event_id.as_ref().and_then(|id| events.get(id)) else {
                payloads.push((member.id.clone(), Err("the event no longer exists".into())));
                continue;
            };
            let (_, document) = self
                .deliverer
                .event_document(member, webhook, event, &stages)
                .await
                .map_err(|error| format!("cannot read message {}'s event: {error}", member.id))?;
            match self.deliverer.render(webhook, &document).await {
                Ok(payload) => {
                    newly_rendered.push((member.id.clone(), rendered(&payload)));
                    payloads.push((member.id.clone(), Ok(payload)));
                }
                Err(error) if error.transient => {
                    return Err(format!("message {}: {error}", member.id));
                }
                // A plugin that fails fails the same way next time: this
                // member fails alone.
                Err(error) => payloads.push((member.id.clone(), Err(error.to_string()))),
            }
        }
        deliveries::save_payloads(db, &newly_rendered)
            .await
            .map_err(|error| error.to_string())?;
        Ok(payloads)
    }
}
