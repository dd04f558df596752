//! A failing message fails alone: in a batch, a message whose payload the
//! payload plugin cannot build is failed on its own, with the plugin's
//! error and an attempt that says so, and the rest of the batch is sent.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::plugins::upload;
use crate::receiver::Receiver;

on_both_backends!(a_message_whose_payload_fails_fails_alone_and_the_batch_goes_out);

/// The webhook's deliveries (optionally of one status), newest first.
async fn deliveries(app: &TestApp, webhook: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries{query}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["data"].as_array().expect("data").clone()
}

/// Waits (at most 20 s) until `count` of the webhook's deliveries have
/// this status.
async fn wait_for(app: &TestApp, webhook: &str, status: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = deliveries(app, webhook, &format!("?status={status}")).await;
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} {status} deliveries: {:?}",
            deliveries(app, webhook, "").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_message_whose_payload_fails_fails_alone_and_the_batch_goes_out(app: TestApp) {
    // The built-in `full` builder with little fuel: enough for a small
    // lead, not for one with long notes.
    let full = switchyard::plugins::builtin::builtin("full").expect("the full builtin");
    let uploaded = upload(
        &app,
        "name=tight&kind=payload-builder&fuel=200000",
        full.module.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let plugin = uploaded.body["id"].as_str().expect("plugin id").to_owned();
    let receiver = Receiver::start().await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "batched", "url": receiver.url("/batch"), "events": ["lead.created"],
                   "payload_format": plugin, "retry_schedule_seconds": [],
                   "batch_mode": "any_event", "batch_wait_seconds": 1,
                   "max_items_per_batch": 3}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let webhook = created.body["id"].as_str().expect("webhook id").to_owned();

    let first = app.create_lead(json!({"email": "first@example.com"})).await;
    let starving = app
        .create_lead(json!({"email": "long@example.com", "notes": "x".repeat(9_000)}))
        .await;
    let last = app.create_lead(json!({"email": "last@example.com"})).await;

    let received = receiver.wait_for(1).await;
    let batch = received[0].json();
    let mut emails: Vec<&str> = batch
        .as_array()
        .expect("a batch is a JSON array")
        .iter()
        .map(|payload| payload["data"]["email"].as_str().expect("email"))
        .collect();
    // A batch starts with the message that fell due first: with equal due
    // times, either.
    emails.sort_unstable();
    assert_eq!(
        emails,
        vec!["first@example.com", "last@example.com"],
        "the rest of the batch is sent"
    );
    receiver
        .assert_no_more_than(1, Duration::from_millis(1_500))
        .await;

    // The batch and the two messages it carried succeeded.
    let succeeded = wait_for(&app, &webhook, "succeeded", 3).await;
    let mut leads: Vec<&str> = succeeded
        .iter()
        .filter_map(|delivery| delivery["lead_profile_uid"].as_str())
        .collect();
    leads.sort_unstable();
    let mut expected = vec![first.as_str(), last.as_str()];
    expected.sort_unstable();
    assert_eq!(leads, expected, "{succeeded:?}");

    // The one that could not be built failed on its own, with its error.
    let failed = wait_for(&app, &webhook, "failed", 1).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        failed[0]["lead_profile_uid"],
        starving.as_str(),
        "{failed:?}"
    );
    assert_eq!(failed[0]["batch_id"], Value::Null, "it left the batch");
    let error = failed[0]["last_error"].as_str().expect("an error");
    assert!(error.contains("out of fuel"), "{error}");
    let id = failed[0]["id"].as_str().expect("id");
    let detail = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries/{id}"))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    let attempts = detail.body["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{}", detail.text);
    assert!(
        attempts[0]["error"]
            .as_str()
            .is_some_and(|error| error.contains("out of fuel")),
        "{}",
        detail.text
    );
    assert_eq!(attempts[0]["response_status"], Value::Null, "nothing sent");
}
