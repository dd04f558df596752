//! Test sends in the delivery log: `POST /api/v1/webhooks/{id}/test`
//! answers with a message id that the log knows, as a delivery marked
//! `test` with its one attempt (the request as sent, the answer as got); a
//! test is not retried, can be resent under its message id, keeps only a
//! lightweight log where the webhook says so, and is left out of recovery.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};

on_both_backends!(
    a_test_send_is_logged_with_its_attempt_and_can_be_resent,
    a_lightweight_webhook_logs_its_tests_lightly,
);

async fn create_webhook(app: &TestApp, body: Value) -> String {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body["id"].as_str().expect("webhook id").to_owned()
}

async fn detail(app: &TestApp, webhook: &str, delivery: &str) -> Value {
    let found = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries/{delivery}"))
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    found.body
}

async fn a_test_send_is_logged_with_its_attempt_and_can_be_resent(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(503)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "tested", "url": receiver.url("/t"), "events": ["lead.created"],
               "auth": {"type": "bearer", "token": "t0ken"}}),
    )
    .await;
    let sent = app
        .post(&format!("/api/v1/webhooks/{webhook}/test"), json!({}))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.body["status"], 503);
    let message = sent.body["message_id"]
        .as_str()
        .expect("message id")
        .to_owned();

    let logged = detail(&app, &webhook, &message).await;
    assert_eq!(logged["event"], "test");
    assert_eq!(
        logged["status"], "failed",
        "a test is not retried: {logged}"
    );
    assert_eq!(logged["next_attempt_at"], Value::Null);
    let attempts = logged["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{logged}");
    let attempt = &attempts[0];
    assert_eq!(attempt["triggered_by"], "test");
    assert_eq!(attempt["response_status"], 503);
    assert_eq!(attempt["response_body"], "status 503");
    assert_eq!(attempt["request_headers"]["authorization"], "[redacted]");
    let received = receiver.wait_for(1).await;
    assert_eq!(
        attempt["request_body"].as_str().expect("request body"),
        received[0].text(),
        "the log holds the body as sent"
    );
    assert_eq!(received[0].header("webhook-id"), message);

    let resent = app
        .post(
            &format!("/api/v1/webhooks/{webhook}/deliveries/{message}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].header("webhook-id"), message);
    assert_eq!(received[1].body, received[0].body, "the same payload again");
    let logged = crate::helpers::eventually(std::time::Duration::from_secs(20), || async {
        let logged = detail(&app, &webhook, &message).await;
        if logged["status"] == "succeeded" {
            Ok(logged)
        } else {
            Err(logged.to_string())
        }
    })
    .await;
    assert_eq!(logged["attempts"][1]["triggered_by"], "resend");

    // Tests carry no real event: recovery leaves them alone.
    receiver.script([Reply::status(500)]);
    app.post(&format!("/api/v1/webhooks/{webhook}/test"), json!({}))
        .await;
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let counted = app
        .post(
            &format!("/api/v1/webhooks/{webhook}/recover"),
            json!({"since": since, "dry_run": true}),
        )
        .await;
    assert_eq!(counted.body["failed"], 0, "{}", counted.text);
    // A test does not change the webhook's health.
    let shown = app.get(&format!("/api/v1/webhooks/{webhook}")).await;
    assert_eq!(shown.body["failing_since"], Value::Null, "{}", shown.text);
}

async fn a_lightweight_webhook_logs_its_tests_lightly(app: TestApp) {
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({"name": "light", "url": receiver.url("/t"), "events": ["lead.created"],
               "lightweight_logs": true}),
    )
    .await;
    let sent = app
        .post(&format!("/api/v1/webhooks/{webhook}/test"), json!({}))
        .await;
    assert_eq!(sent.body["success"], true, "{}", sent.text);
    let message = sent.body["message_id"].as_str().expect("message id");
    let logged = detail(&app, &webhook, message).await;
    assert_eq!(logged["status"], "succeeded");
    assert_eq!(logged["payload_body"], Value::Null);
    let attempt = &logged["attempts"][0];
    assert_eq!(attempt["response_status"], 200);
    assert_eq!(attempt["request_body"], Value::Null, "{logged}");
    assert_eq!(attempt["request_headers"], Value::Null, "{logged}");
}
