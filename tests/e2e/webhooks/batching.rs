//! Batched delivery: batches sent when full or when their wait is over,
//! retried whole, each sent once when slower than the lease, and messages
//! sent alone once batching is turned off.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{create_webhook, delivery_detail, verify_signature, wait_for_status};
use crate::helpers::TestApp;
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    batches_go_out_when_full_or_when_their_wait_is_over,
    a_failed_batch_is_retried_whole_and_batching_is_refused_where_it_cannot_work,
    messages_waiting_for_a_batch_go_alone_when_batching_is_turned_off,
);

async fn batches_go_out_when_full_or_when_their_wait_is_over(app: TestApp) {
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({"name": "batched", "url": receiver.url("/batch"), "events": ["lead.created"],
               "batch_mode": "any_event", "batch_wait_seconds": 1, "max_items_per_batch": 3}),
    )
    .await;
    assert_eq!(webhook["batch_mode"], "any_event");
    let id = webhook["id"].as_str().unwrap();
    let secret = webhook["signing_secret"].as_str().unwrap();
    let started = Instant::now();
    let mut leads = Vec::new();
    for n in 0..5 {
        leads.push(
            app.create_lead(json!({"email": format!("lead{n}@example.com")}))
                .await,
        );
    }
    let received = receiver.wait_for(2).await;
    let sizes: Vec<usize> = received
        .iter()
        .map(|r| r.json().as_array().unwrap().len())
        .collect();
    assert_eq!(
        sizes,
        vec![3, 2],
        "full batch first, the rest after the wait"
    );
    assert!(
        received[1].at.duration_since(started) >= Duration::from_millis(900),
        "the partial batch waited"
    );
    let mut items = Vec::new();
    for request in &received {
        verify_signature(secret, request);
        let batch_id = request.header("webhook-id");
        for item in request.json().as_array().unwrap() {
            assert_eq!(item["event"], "lead.created");
            assert_ne!(item["id"].as_str().unwrap(), batch_id);
            assert!(item["data"]["email"].is_string(), "small payloads: {item}");
            items.push(item["object_id"].as_str().unwrap().to_owned());
        }
    }
    items.sort();
    leads.sort();
    assert_eq!(items, leads, "every event exactly once");

    let batch_id = received[0].header("webhook-id").to_owned();
    wait_for_status(&app, id, "succeeded", 7).await;
    let detail = delivery_detail(&app, id, &batch_id).await;
    assert_eq!(detail["event"], "batch");
    assert_eq!(detail["messages"].as_array().unwrap().len(), 3, "{detail}");
    let member = detail["messages"][0].as_str().unwrap().to_owned();
    let member_detail = delivery_detail(&app, id, &member).await;
    assert_eq!(member_detail["batch_id"], json!(batch_id));
    assert_eq!(member_detail["status"], "succeeded");

    // One message of a batch, resent, goes alone under its own id.
    let resent = app
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{member}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    let received = receiver.wait_for(3).await;
    let alone = &received[2];
    assert_eq!(alone.header("webhook-id"), member);
    assert_eq!(
        alone.json()["id"],
        json!(member),
        "a single payload, not an array"
    );
    verify_signature(secret, alone);
}

async fn a_failed_batch_is_retried_whole_and_batching_is_refused_where_it_cannot_work(
    app: TestApp,
) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "batched", "url": receiver.url("/"), "events": ["lead.created"],
               "batch_mode": "same_event", "batch_wait_seconds": 1, "max_items_per_batch": 2,
               "retry_schedule_seconds": [0]}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    app.create_lead(json!({"email": "b@example.com"})).await;
    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(
        received[0].body, received[1].body,
        "the same batch, byte for byte"
    );
    assert_eq!(received[1].json().as_array().unwrap().len(), 2);
    let batch = received[0].header("webhook-id").to_owned();
    wait_for_status(&app, id, "succeeded", 3).await;
    let detail = delivery_detail(&app, id, &batch).await;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 2, "{detail}");

    for (body, message) in [
        (
            json!({"payload_format": "full", "batch_mode": "any_event"}),
            "full payload format",
        ),
        (
            json!({"method": "PUT", "batch_mode": "any_event"}),
            "method POST",
        ),
        (
            json!({"batch_mode": "any_event", "batch_wait_seconds": 0}),
            "batch_wait_seconds",
        ),
        (
            json!({"batch_mode": "any_event", "max_items_per_batch": 1001}),
            "max_items_per_batch",
        ),
        (
            json!({"batch_mode": "any_event", "payload_format": "template",
                   "payload_config": {"body": "e={{lead.email}}", "format": "form"}}),
            "form",
        ),
    ] {
        let refused = app
            .patch(&format!("/api/v1/webhooks/{id}"), body.clone())
            .await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert!(
            refused.error().contains(message),
            "{body}: {}",
            refused.text
        );
    }
}

async fn messages_waiting_for_a_batch_go_alone_when_batching_is_turned_off(app: TestApp) {
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({"name": "batched", "url": receiver.url("/"), "events": ["lead.created"],
               "batch_mode": "any_event", "batch_wait_seconds": 600, "max_items_per_batch": 100}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    app.create_lead(json!({"email": "b@example.com"})).await;
    receiver
        .assert_no_more_than(0, Duration::from_millis(500))
        .await;
    let changed = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"batch_mode": "none", "method": "PUT"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let received = receiver.wait_for(2).await;
    for request in &received {
        assert_eq!(request.method, "PUT");
        let body = request.json();
        assert!(body.is_object(), "sent alone, not in an array: {body}");
        assert_eq!(request.header("webhook-id"), body["id"].as_str().unwrap());
    }
    wait_for_status(&app, id, "succeeded", 2).await;
}
