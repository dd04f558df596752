//! Test sends: a sample event sent to a webhook now, on an admin's request
//! (the API's `POST /webhooks/{id}/test` and the admin UI's "Send test"),
//! signed like any delivery and logged as a delivery of its own, marked
//! `test`, with its one attempt. A test is never retried; resending it
//! sends its stored payload again ([`DeliveryWorker::process_test`]).

use serde_json::Value;

use super::DeliveryWorker;
use super::deliverer::{Deliverer, RenderError, Sent, empty_payload, rendered, stored_payload};
use super::outcome::give_up;
use super::recorder::Recorded;
use super::request::lightweight;
use crate::domain::time::now_micros;
use crate::domain::webhook::WebhookMethod;
use crate::outbound::payload::{Envelope, SAMPLE_EVENT};
use crate::storage::deliveries::{self, AttemptOutcome, AttemptResult, ClaimedDelivery};
use crate::storage::webhooks::Webhook;

/// Who made a test attempt, in the delivery log's `triggered_by`.
const TRIGGERED_BY_TEST: &str = "test";

impl Deliverer {
    /// Renders `event` (a sample under `envelope`'s message id), sends it,
    /// and logs it; returns what was sent and got back.
    pub(crate) async fn send_test(
        &self,
        webhook: &Webhook,
        envelope: &Envelope,
        event: &Value,
    ) -> Result<Sent, RenderError> {
        let payload = self.render(webhook, event).await?;
        let attempted_at = now_micros();
        let sent = self
            .send(webhook, &envelope.id, &envelope.query_pairs(), &payload)
            .await;
        let succeeded =
            matches!(&sent.response, Ok(response) if (200..300).contains(&response.status));
        let keeps_little = webhook.settings.lightweight_logs;
        let attempt = AttemptResult {
            delivery_id: envelope.id.clone(),
            account_id: webhook.account_id.clone(),
            webhook_id: webhook.id.clone(),
            attempted_at,
            triggered_by: TRIGGERED_BY_TEST.into(),
            log: if keeps_little {
                lightweight(sent.log.clone())
            } else {
                sent.log.clone()
            },
            outcome: if succeeded {
                AttemptOutcome::Succeeded
            } else {
                AttemptOutcome::Failed
            },
            rendered: Some(rendered(&payload)),
            // Held by no worker: the log is written at once.
            claim: format!("test-{}", envelope.id),
            forget_payload: keeps_little,
            is_batch: false,
        };
        // The test was sent: failing to log it must not hide the answer.
        if let Err(error) = deliveries::record_test_send(&self.db, attempt).await {
            tracing::warn!(%error, webhook = %webhook.id, message = %envelope.id,
                "a test send could not be logged");
        }
        Ok(sent)
    }
}

impl DeliveryWorker {
    /// A test send being resent: its stored payload again, under its
    /// message id. It has no stored event, so a `GET` carries only the
    /// message id, webhook and event name in its query.
    pub(super) async fn process_test(
        &self,
        result: AttemptResult,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
    ) -> Recorded {
        let payload = match stored_payload(delivery) {
            _ if webhook.settings.method == WebhookMethod::Get => empty_payload(),
            Some(payload) => payload,
            None => {
                return give_up(
                    result,
                    "this test's payload was not kept; send a new test instead".into(),
                );
            }
        };
        let query = [
            ("id", delivery.id.clone()),
            ("event", SAMPLE_EVENT.to_owned()),
            ("webhook_id", webhook.id.clone()),
        ];
        self.send_and_decide(result, delivery, webhook, &delivery.id, &query, &payload)
            .await
    }
}
