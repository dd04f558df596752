//! What a receiver's answer does: retries with the same id, `Retry-After`,
//! `410 Gone`, timeouts, inactive webhooks waiting, and deactivation after
//! failing for the whole period.

use std::time::Duration;

use serde_json::{Value, json};

use super::{create_webhook, deliveries, delivery_detail, wait_for_status, wait_until_deactivated};
use crate::helpers::TestApp;
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    failed_attempts_are_retried_then_succeed_with_the_same_id,
    retry_after_is_honoured,
    gone_deactivates_the_webhook,
    a_slow_receiver_times_out_and_the_delivery_fails,
    deliveries_wait_while_the_webhook_is_inactive,
);

async fn failed_attempts_are_retried_then_succeed_with_the_same_id(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500), Reply::status(502)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "flaky", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [0, 0, 0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let received = receiver.wait_for(3).await;
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "same message id: {ids:?}"
    );
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "same body"
    );
    let delivery = wait_for_status(&app, webhook_id, "succeeded", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    let statuses: Vec<Value> = detail["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["response_status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!(500), json!(502), json!(200)]);
    assert_eq!(detail["attempts"][0]["error"], "the receiver answered 500");
    assert_eq!(detail["attempt_count"], 3);

    // A receiver that never recovers: the schedule runs out, then failed.
    let down = Receiver::start().await;
    down.script((0..10).map(|_| Reply::status(503)));
    let webhook = create_webhook(
        &app,
        json!({"name": "down", "url": down.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [0, 0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "b@example.com"})).await;
    wait_for_status(&app, webhook_id, "failed", 1).await;
    down.assert_no_more_than(3, Duration::from_millis(500))
        .await;
    assert_eq!(
        down.received().len(),
        3,
        "the first attempt and two retries"
    );
    let view = app.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
    assert!(view.body["failing_since"].is_string(), "{}", view.text);
}

async fn retry_after_is_honoured(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(503).header("retry-after", "1")]);
    create_webhook(
        &app,
        json!({"name": "busy", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [3600]}),
    )
    .await;
    app.create_lead(json!({"email": "a@example.com"})).await;
    let received = receiver.wait_for(2).await;
    let gap = received[1].at - received[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "Retry-After: 1 waited only {gap:?}"
    );
    assert!(
        gap < Duration::from_secs(10),
        "not the 1 h schedule: {gap:?}"
    );
}

async fn gone_deactivates_the_webhook(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(410)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "gone", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [0, 0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    wait_for_status(&app, webhook_id, "failed", 1).await;
    wait_until_deactivated(&app, webhook_id, "410 Gone").await;
    receiver
        .assert_no_more_than(1, Duration::from_millis(300))
        .await;
    // New events are not delivered to a deactivated webhook.
    app.create_lead(json!({"email": "b@example.com"})).await;
    receiver
        .assert_no_more_than(1, Duration::from_millis(600))
        .await;
}

async fn a_slow_receiver_times_out_and_the_delivery_fails(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(200).after(Duration::from_secs(3))]);
    let webhook = create_webhook(
        &app,
        json!({"name": "slow", "url": receiver.url("/"), "events": ["lead.created"],
               "timeout_seconds": 1, "retry_schedule_seconds": []}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, webhook_id, "failed", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    let attempt = &detail["attempts"][0];
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("no complete response within"),
        "{detail}"
    );
    assert!(
        attempt["duration_ms"].as_f64().unwrap() < 2_500.0,
        "{detail}"
    );
    assert_eq!(attempt["response_status"], Value::Null);
}

async fn deliveries_wait_while_the_webhook_is_inactive(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "paused", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [2]}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    receiver.wait_for(1).await;
    let deactivated = app
        .post(&format!("/api/v1/webhooks/{id}/deactivate"), json!({}))
        .await;
    assert_eq!(deactivated.status, 200);
    // The retry falls due while the webhook is inactive: it waits.
    receiver
        .assert_no_more_than(1, Duration::from_secs(3))
        .await;
    let waiting = deliveries(&app, id, "").await;
    assert_eq!(waiting[0]["status"], "pending", "{waiting:?}");
    assert_eq!(waiting[0]["next_attempt_at"], Value::Null, "{waiting:?}");
    assert!(
        waiting[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("inactive"),
        "{waiting:?}"
    );
    let activated = app
        .post(&format!("/api/v1/webhooks/{id}/activate"), json!({}))
        .await;
    assert_eq!(activated.status, 200);
    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    wait_for_status(&app, id, "succeeded", 1).await;
}
