//! A webhook whose deliveries fail for the whole configured period is
//! deactivated, with its reason, and finished logs past their retention
//! are purged.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, TestApp, eventually};
use crate::receiver::{Receiver, Reply};

use super::{create_webhook, deliveries, wait_until_deactivated};

crate::on_both_backends!(backend: webhooks_failing_for_the_whole_period_are_deactivated_and_old_logs_purged);

async fn webhooks_failing_for_the_whole_period_are_deactivated_and_old_logs_purged(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, |config| {
        config.outbound.webhook_disable_after_hours = 0;
        config.outbound.delivery_log_retention_days = 0;
        config.outbound.delivery_maintenance_interval_ms = 100;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script((0..5).map(|_| Reply::status(500)));
    let webhook = create_webhook(
        &app,
        json!({"name": "failing", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": []}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    receiver.wait_for(1).await;
    wait_until_deactivated(&app, id, "every delivery attempt failed").await;
    // With no retention, the finished delivery and its log go too.
    eventually(Duration::from_secs(10), || async {
        let left = deliveries(&app, id, "").await;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{backend:?}: logs not purged: {left:?}"))
        }
    })
    .await;
}
