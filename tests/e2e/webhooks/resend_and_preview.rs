//! Preview, test sends and resend: what an admin does to a webhook by hand.

use serde_json::{Value, json};

use super::{create_webhook, deliveries, delivery_detail, verify_signature, wait_for_status};
use crate::helpers::TestApp;
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    preview_and_test_send,
    resend_uses_the_same_id_and_is_refused_for_lightweight_logs,
);

async fn preview_and_test_send(app: TestApp) {
    app.create_stages(&["Inquiry", "Won"]).await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({"name": "preview", "url": receiver.url("/t"), "events": ["lead.created"]}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let preview = app
        .post(&format!("/api/v1/webhooks/{id}/preview"), json!({}))
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.body["content_type"], "application/json");
    let body: Value = serde_json::from_str(preview.body["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["event"], "lead.stage_changed");
    assert_eq!(body["data"]["email"], "ada.lovelace@example.com");
    assert_eq!(body["data"]["funnel_stage"], "Inquiry");
    assert!(receiver.received().is_empty(), "a preview sends nothing");

    // A given event is rendered as it is.
    let mut event = preview.body["event"].clone();
    event["lead"]["email"] = json!("given@example.com");
    let given = app
        .post(
            &format!("/api/v1/webhooks/{id}/preview"),
            json!({"event": event}),
        )
        .await;
    assert_eq!(given.status, 200, "{}", given.text);
    assert!(
        given.body["body"]
            .as_str()
            .unwrap()
            .contains("given@example.com")
    );
    let broken = app
        .post(
            &format!("/api/v1/webhooks/{id}/preview"),
            json!({"event": {"event": 1}}),
        )
        .await;
    assert_eq!(broken.status, 422, "{}", broken.text);
    assert!(
        broken
            .error()
            .contains("payload builder builtin:small failed"),
        "{}",
        broken.text
    );

    receiver.script([Reply::status(418)]);
    let test = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(test.status, 200, "{}", test.text);
    assert_eq!(test.body["success"], false);
    assert_eq!(test.body["status"], 418);
    assert_eq!(test.body["body_excerpt"], "status 418");
    let test = app
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(test.body["success"], true, "{}", test.text);
    let received = receiver.wait_for(2).await;
    verify_signature(webhook["signing_secret"].as_str().unwrap(), &received[1]);
    assert_eq!(
        received[1].header("webhook-id"),
        test.body["message_id"].as_str().unwrap()
    );
    let logged = deliveries(&app, id, "").await;
    assert_eq!(logged.len(), 2, "each test is logged: {logged:?}");
    assert!(logged.iter().all(|delivery| delivery["event"] == "test"));
}

async fn resend_uses_the_same_id_and_is_refused_for_lightweight_logs(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let webhook = create_webhook(
        &app,
        json!({"name": "resend", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": []}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, webhook_id, "failed", 1)
        .await
        .remove(0);
    let resent = app
        .post(
            &format!("/api/v1/webhooks/{webhook_id}/deliveries/{delivery}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(received[0].body, received[1].body);
    wait_for_status(&app, webhook_id, "succeeded", 1).await;
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    let triggers: Vec<Value> = detail["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["triggered_by"].clone())
        .collect();
    assert_eq!(triggers, vec![json!("scheduled"), json!("resend")]);
    assert_eq!(
        deliveries(&app, webhook_id, "?status=failed").await.len(),
        0,
        "filtered by status"
    );
    let unknown = app
        .post(
            &format!("/api/v1/webhooks/{webhook_id}/deliveries/msg_nope/resend"),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404);

    let light_receiver = Receiver::start().await;
    let light = create_webhook(
        &app,
        json!({"name": "light", "url": light_receiver.url("/"), "events": ["lead.created"],
               "lightweight_logs": true}),
    )
    .await;
    let light_id = light["id"].as_str().unwrap();
    app.create_lead(json!({"email": "b@example.com"})).await;
    let delivery = wait_for_status(&app, light_id, "succeeded", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, light_id, &delivery).await;
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["response_status"], 200);
    assert_eq!(attempt["request_body"], Value::Null, "{detail}");
    assert_eq!(attempt["request_headers"], Value::Null, "{detail}");
    assert_eq!(attempt["response_body"], Value::Null, "{detail}");
    assert_eq!(detail["payload_body"], Value::Null, "{detail}");
    let refused = app
        .post(
            &format!("/api/v1/webhooks/{light_id}/deliveries/{delivery}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused.error().contains("lightweight logs"),
        "{}",
        refused.text
    );
}
