//! Recovering a webhook's failed deliveries in bulk
//! (`POST /api/v1/webhooks/{id}/recover`) against a real receiver: the
//! count before (dry run) and after, the bound per call, oldest first, the
//! same message ids, a failed batch's messages sent one by one (never the
//! batch again), and the refusals a single resend has.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};

on_both_backends!(
    failed_deliveries_since_a_time_are_counted_then_sent_again_in_bounded_steps,
    a_failed_batch_is_recovered_message_by_message,
    recovery_is_refused_where_a_resend_is,
);

async fn create_webhook(app: &TestApp, body: Value) -> String {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body["id"].as_str().expect("webhook id").to_owned()
}

/// The webhook's deliveries with this status, newest first.
async fn with_status(app: &TestApp, webhook: &str, status: &str) -> Vec<Value> {
    let page = app
        .get(&format!(
            "/api/v1/webhooks/{webhook}/deliveries?status={status}"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["data"].as_array().expect("data").clone()
}

/// Waits (at most 20 s) until `count` of the webhook's deliveries have
/// this status.
async fn wait_for(app: &TestApp, webhook: &str, status: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = with_status(app, webhook, status).await;
        if found.len() == count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} {status} deliveries, found {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn an_hour_ago() -> String {
    (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339()
}

async fn recover(app: &TestApp, webhook: &str, body: Value) -> crate::helpers::TestResponse {
    app.post(&format!("/api/v1/webhooks/{webhook}/recover"), body)
        .await
}

async fn failed_deliveries_since_a_time_are_counted_then_sent_again_in_bounded_steps(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script((0..3).map(|_| Reply::status(500)));
    let webhook = create_webhook(
        &app,
        json!({"name": "flaky", "url": receiver.url("/hook"), "events": ["lead.created"],
               "retry_schedule_seconds": []}),
    )
    .await;
    for n in 0..3 {
        app.create_lead(json!({"email": format!("lead{n}@example.com")}))
            .await;
    }
    let failed = wait_for(&app, &webhook, "failed", 3).await;
    let oldest_first: Vec<String> = failed
        .iter()
        .rev()
        .map(|delivery| delivery["id"].as_str().expect("id").to_owned())
        .collect();

    let counted = recover(
        &app,
        &webhook,
        json!({"since": an_hour_ago(), "dry_run": true}),
    )
    .await;
    assert_eq!(counted.status, 200, "{}", counted.text);
    assert_eq!(
        (
            &counted.body["failed"],
            &counted.body["requeued"],
            &counted.body["remaining"]
        ),
        (&json!(3), &json!(0), &json!(3))
    );
    receiver
        .assert_no_more_than(3, Duration::from_millis(300))
        .await;
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let none = recover(&app, &webhook, json!({"since": later, "dry_run": true})).await;
    assert_eq!(none.body["failed"], 0, "{}", none.text);

    let first = recover(&app, &webhook, json!({"since": an_hour_ago(), "limit": 2})).await;
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(
        (
            &first.body["failed"],
            &first.body["requeued"],
            &first.body["remaining"]
        ),
        (&json!(3), &json!(2), &json!(1))
    );
    let received = receiver.wait_for(5).await;
    // Deliveries go out concurrently: compare without order.
    let mut resent: Vec<&str> = received[3..]
        .iter()
        .map(|request| request.header("webhook-id"))
        .collect();
    resent.sort_unstable();
    assert_eq!(
        resent,
        vec![oldest_first[0].as_str(), oldest_first[1].as_str()],
        "the oldest go first, under their own message ids"
    );
    wait_for(&app, &webhook, "succeeded", 2).await;

    let second = recover(&app, &webhook, json!({"since": an_hour_ago()})).await;
    assert_eq!(
        (&second.body["requeued"], &second.body["remaining"]),
        (&json!(1), &json!(0)),
        "{}",
        second.text
    );
    let received = receiver.wait_for(6).await;
    assert_eq!(received[5].header("webhook-id"), oldest_first[2]);
    wait_for(&app, &webhook, "succeeded", 3).await;
    let detail = app
        .get(&format!(
            "/api/v1/webhooks/{webhook}/deliveries/{}",
            oldest_first[2]
        ))
        .await;
    let triggers: Vec<&Value> = detail.body["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|attempt| &attempt["triggered_by"])
        .collect();
    assert_eq!(triggers, vec![&json!("scheduled"), &json!("resend")]);

    let bad_time = recover(&app, &webhook, json!({"since": "yesterday"})).await;
    assert_eq!(bad_time.status, 400);
    assert!(bad_time.error().contains("RFC 3339"), "{}", bad_time.text);
    let bad_limit = recover(&app, &webhook, json!({"since": an_hour_ago(), "limit": 0})).await;
    assert_eq!(bad_limit.status, 400);
    assert!(
        bad_limit.error().contains("between 1 and 1000"),
        "{}",
        bad_limit.text
    );
}

async fn a_failed_batch_is_recovered_message_by_message(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "batched", "url": receiver.url("/batch"), "events": ["lead.created"],
               "retry_schedule_seconds": [], "batch_mode": "any_event",
               "batch_wait_seconds": 1, "max_items_per_batch": 2}),
    )
    .await;
    app.create_lead(json!({"email": "a@example.com"})).await;
    app.create_lead(json!({"email": "b@example.com"})).await;
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].json().as_array().map(Vec::len), Some(2));
    // The batch and the two messages it carried.
    wait_for(&app, &webhook, "failed", 3).await;

    let done = recover(&app, &webhook, json!({"since": an_hour_ago()})).await;
    assert_eq!(
        (&done.body["failed"], &done.body["requeued"]),
        (&json!(2), &json!(2)),
        "the messages, not the batch: {}",
        done.text
    );
    let received = receiver.wait_for(3).await;
    receiver
        .assert_no_more_than(3, Duration::from_millis(500))
        .await;
    for request in &received[1..] {
        assert!(
            request.json().is_object(),
            "each message goes alone: {}",
            request.text()
        );
    }
}

async fn recovery_is_refused_where_a_resend_is(app: TestApp) {
    let receiver = Receiver::start().await;
    let light = create_webhook(
        &app,
        json!({"name": "light", "url": receiver.url("/"), "events": ["lead.created"],
               "lightweight_logs": true}),
    )
    .await;
    let refused = recover(&app, &light, json!({"since": an_hour_ago()})).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.error().contains("lightweight logs"),
        "{}",
        refused.text
    );

    let inactive = create_webhook(
        &app,
        json!({"name": "off", "url": receiver.url("/"), "events": ["lead.created"],
               "active": false}),
    )
    .await;
    let refused = recover(&app, &inactive, json!({"since": an_hour_ago()})).await;
    assert_eq!(refused.status, 409);
    assert!(refused.error().contains("inactive"), "{}", refused.text);

    let other_key = app.new_account_key("other").await;
    let foreign = app
        .send_as(
            Some(&other_key),
            reqwest::Method::POST,
            &format!("/api/v1/webhooks/{inactive}/recover"),
            Some(json!({"since": an_hour_ago()})),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.text);
}
