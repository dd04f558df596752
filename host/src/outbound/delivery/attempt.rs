//! One attempt at one claimed delivery: a single message is rendered (or
//! its stored payload reused), sent, and the answer judged by
//! [`super::outcome`]. A batch goes through [`super::batches`] and ends in
//! the same [`DeliveryWorker::send_and_decide`].

use std::collections::HashMap;
use std::sync::Arc;

use super::deliverer::{empty_payload, rendered, stored_payload};
use super::outcome::{Verdict, give_up, gone_reason, judge, outcome, parked, retry_later};
use super::recorder::Recorded;
use super::request::lightweight;
use super::{Context, DeliveryWorker};
use crate::domain::time::now_micros;
use crate::domain::webhook::WebhookMethod;
use crate::outbound::payload::BuiltPayload;
use crate::storage::deliveries::{AttemptLog, AttemptOutcome, AttemptResult, ClaimedDelivery};
use crate::storage::lead_events::StoredEvent;
use crate::storage::leads::LeadStageView;
use crate::storage::webhooks::Webhook;

impl DeliveryWorker {
    /// A fresh result for an attempt at `delivery`.
    pub(super) fn new_result(
        &self,
        delivery: &ClaimedDelivery,
        webhook: Option<&Webhook>,
    ) -> AttemptResult {
        AttemptResult {
            delivery_id: delivery.id.clone(),
            account_id: delivery.account_id.clone(),
            webhook_id: delivery.webhook_id.clone(),
            attempted_at: now_micros(),
            triggered_by: delivery.next_trigger.clone(),
            log: AttemptLog::default(),
            outcome: AttemptOutcome::Failed,
            rendered: None,
            claim: delivery.claimed_by.clone(),
            forget_payload: webhook.is_some_and(|webhook| webhook.settings.lightweight_logs),
            is_batch: delivery.is_batch(),
        }
    }

    /// One attempt at one delivery (a single message or a batch).
    pub(super) async fn process(
        &self,
        delivery: ClaimedDelivery,
        context: Arc<Context>,
    ) -> Recorded {
        let result = self.new_result(&delivery, context.webhook.as_deref());
        let Some(webhook) = &context.webhook else {
            return give_up(result, "the webhook no longer exists".into());
        };
        if !webhook.settings.active {
            return parked(result, webhook.disabled_reason.as_deref());
        }
        if delivery.is_batch() {
            return self.process_batch(result, &delivery, webhook, None).await;
        }
        if delivery.is_test() {
            return self.process_test(result, &delivery, webhook).await;
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
                return retry_later(
                    result,
                    delivery,
                    webhook,
                    format!("cannot read the event's funnel history: {error}"),
                );
            }
        };
        let payload = match stored_payload(delivery) {
            // A GET carries no body: nothing to render.
            _ if webhook.settings.method == WebhookMethod::Get => empty_payload(),
            Some(payload) => payload,
            None => match self.deliverer.render(webhook, &document).await {
                Ok(payload) => {
                    result.rendered = Some(rendered(&payload));
                    payload
                }
                Err(error) if error.transient => {
                    return retry_later(result, delivery, webhook, error.to_string());
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

    /// Sends, then decides: done, retry (on the schedule or the receiver's
    /// `Retry-After`), or give up; `410 Gone` also deactivates the webhook.
    pub(super) async fn send_and_decide(
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
        let verdict = judge(&sent.response);
        let disable = (verdict == Verdict::Gone).then(|| gone_reason(result.attempted_at));
        result.outcome = outcome(
            verdict,
            delivery.attempt_count,
            &webhook.settings.retry_schedule,
            now_micros(),
        );
        if webhook.settings.lightweight_logs {
            result.log = lightweight(result.log);
        }
        Recorded { result, disable }
    }
}
