//! Outbound webhooks end to end: the real server sends to a real local
//! receiver. Events and conditions, each payload format, signatures checked
//! with the independent `standardwebhooks` crate, auth modes, retries,
//! `Retry-After`, `410 Gone`, timeouts, SSRF refusals, logs, resend,
//! preview and test sends, and a payload plugin that runs out of fuel.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::plugins::upload;
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    webhooks_are_created_checked_updated_and_deleted,
    lead_changes_are_delivered_signed_in_the_small_format,
    lead_saved_and_stage_conditions_pick_the_events,
    inbound_funnel_updates_are_delivered_with_the_import_as_actor,
    a_rolled_back_change_sends_nothing,
    failed_attempts_are_retried_then_succeed_with_the_same_id,
    retry_after_is_honoured,
    gone_deactivates_the_webhook,
    a_slow_receiver_times_out_and_the_delivery_fails,
    redirects_to_private_addresses_are_refused,
    auth_modes_and_compatibility_headers_are_sent_and_redacted_in_logs,
    event_only_full_and_template_formats,
    get_webhooks_carry_the_envelope_in_the_query_string,
    preview_and_test_send,
    resend_uses_the_same_id_and_is_refused_for_lightweight_logs,
    a_payload_plugin_out_of_fuel_fails_the_delivery_without_retries,
    deliveries_wait_while_the_webhook_is_inactive,
    redirects_to_another_host_are_refused,
    batches_go_out_when_full_or_when_their_wait_is_over,
    a_failed_batch_is_retried_whole_and_batching_is_refused_where_it_cannot_work,
    messages_waiting_for_a_batch_go_alone_when_batching_is_turned_off,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_receivers_are_refused_without_the_allow_list() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.outbound.outbound_allow_cidr = String::new();
    })
    .await;
    let refused = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "local", "url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.error().contains("destination refused"),
        "{}",
        refused.text
    );
    let by_name = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "local", "url": "http://localhost:9/hook", "events": ["lead.created"]}),
        )
        .await;
    // A name is only resolved when sending: the attempt is refused then.
    assert_eq!(by_name.status, 201, "{}", by_name.text);
    let webhook = by_name.body["id"].as_str().unwrap().to_owned();
    app.create_lead(json!({"email": "ada@example.com"})).await;
    let delivery = wait_for_status(&app, &webhook, "failed", 1).await.remove(0);
    let detail = delivery_detail(&app, &webhook, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("destination refused"),
        "{detail}"
    );
    assert_eq!(detail["attempt_count"], 1, "not retried: {detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_failing_for_the_whole_period_are_deactivated_and_old_logs_purged() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while !deliveries(&app, id, "").await.is_empty() {
            assert!(Instant::now() < deadline, "{backend:?}: logs not purged");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits (at most 10 s) until Switchyard has deactivated the webhook, and
/// checks the reason it gives.
async fn wait_until_deactivated(app: &TestApp, webhook: &str, reason: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let view = app.get(&format!("/api/v1/webhooks/{webhook}")).await;
        if view.body["active"] == false {
            let given = view.body["disabled_reason"].as_str().unwrap_or_default();
            assert!(given.contains(reason), "{}", view.text);
            return;
        }
        assert!(Instant::now() < deadline, "still active: {}", view.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create_webhook(app: &TestApp, body: Value) -> Value {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body
}

async fn deliveries(app: &TestApp, webhook: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries{query}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["data"].as_array().unwrap().clone()
}

async fn delivery_detail(app: &TestApp, webhook: &str, delivery: &str) -> Value {
    let detail = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries/{delivery}"))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    detail.body
}

/// Waits (at most 20 s) until `count` deliveries of the webhook have this
/// status; returns their ids.
async fn wait_for_status(app: &TestApp, webhook: &str, status: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = deliveries(app, webhook, &format!("?status={status}")).await;
        if found.len() >= count {
            return found
                .iter()
                .map(|delivery| delivery["id"].as_str().unwrap().to_owned())
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} {status} deliveries: {:?}",
            deliveries(app, webhook, "").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Verifies the Standard Webhooks signature with the `standardwebhooks`
/// crate, not with Switchyard's code.
fn verify_signature(secret: &str, received: &crate::receiver::Received) {
    let mut headers = axum::http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(
            axum::http::HeaderName::from_static(name),
            received.header(name).parse().unwrap(),
        );
    }
    standardwebhooks::Webhook::new(secret)
        .expect("a valid whsec_ secret")
        .verify(&received.body, &headers)
        .unwrap_or_else(|error| panic!("signature does not verify: {error:?}"));
}

async fn webhooks_are_created_checked_updated_and_deleted(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Won"]).await;
    let receiver = Receiver::start().await;
    let created = create_webhook(
        &app,
        json!({
            "name": "CRM sync",
            "url": receiver.url("/hook"),
            "events": ["lead.saved"],
            "auth": {"type": "bearer", "token": "t0ken"},
            "conditions": {"funnel_stage_in": [stages[1]]},
        }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"));
    assert_eq!(created["method"], "POST");
    assert_eq!(created["payload_format"], "small");
    assert_eq!(created["timeout_seconds"], 30);
    assert_eq!(created["active"], true);
    assert_eq!(
        created["retry_schedule_seconds"],
        json!([5, 300, 1800, 7200, 18000, 36000, 36000])
    );
    assert_eq!(
        created["auth"],
        json!({"type": "bearer", "token": "[redacted]"})
    );
    let secret = created["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");

    let refusals = [
        (
            json!({"url": receiver.url("/"), "events": ["lead.created"]}),
            422,
            "name is required",
        ),
        (
            json!({"name": "x", "url": "ftp://example.com", "events": ["lead.created"]}),
            422,
            "url",
        ),
        (
            json!({"name": "x", "url": receiver.base.replace("http://", "http://user:pw@"), "events": ["lead.created"]}),
            422,
            "credentials in the URL",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": []}),
            422,
            "at least one",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.exploded"]}),
            422,
            "unknown event `lead.exploded`",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "timeout_seconds": 61}),
            422,
            "timeout_seconds",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "method": "TRACE"}),
            400,
            "method",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "conditions": {"funnel_stage_in": ["stage_nope"]}}),
            422,
            "stage_nope",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "payload_format": "xml"}),
            422,
            "payload_format",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "payload_format": "template", "payload_config": {"body": "{\"e\": \"{{lead.emial}}\"}"}}),
            422,
            "lead.emial",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "auth": {"type": "headers", "headers": {"webhook-id": "x"}}}),
            422,
            "set by Switchyard",
        ),
        (
            json!({"name": "x", "url": receiver.url("/"), "events": ["lead.created"], "colour": "red"}),
            400,
            "colour",
        ),
    ];
    for (body, status, message) in refusals {
        let refused = app.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.text);
        assert!(
            refused.error().contains(message),
            "{body}: {}",
            refused.text
        );
    }

    let renamed = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"name": "Renamed", "timeout_seconds": 5}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(renamed.body["timeout_seconds"], 5);
    assert_eq!(renamed.body["events"], json!(["lead.saved"]), "unchanged");

    let regenerated = app
        .post(
            &format!("/api/v1/webhooks/{id}/regenerate-secret"),
            json!({}),
        )
        .await;
    assert_eq!(regenerated.status, 200);
    assert_ne!(
        regenerated.body["signing_secret"],
        created["signing_secret"]
    );

    let deactivated = app
        .post(&format!("/api/v1/webhooks/{id}/deactivate"), json!({}))
        .await;
    assert_eq!(deactivated.body["active"], false);
    let listed = app.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);

    let other = app.new_account_key("other").await;
    let hidden = app
        .send_as(
            Some(&other),
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await;
    assert_eq!(hidden.status, 404, "another account cannot see it");

    assert_eq!(
        app.delete(&format!("/api/v1/webhooks/{id}")).await.status,
        204
    );
    let gone = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.error(), format!("Webhook {id} not found"));
}

async fn lead_changes_are_delivered_signed_in_the_small_format(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Won"]).await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({
            "name": "all",
            "url": receiver.url("/hook"),
            "events": ["lead.created", "lead.updated", "lead.deleted", "lead.stage_changed"],
        }),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    let secret = webhook["signing_secret"].as_str().unwrap();

    let lead = app
        .create_lead(json!({
            "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "funnel_stage_id": stages[0],
        }))
        .await;
    let mut received = receiver.wait_for(2).await;
    // Deliveries are sent concurrently: arrival order is not guaranteed.
    received.sort_by_key(|r| r.json()["event"].as_str().unwrap().to_owned());
    let events: Vec<Value> = received.iter().map(|r| r.json()["event"].clone()).collect();
    assert_eq!(
        events,
        vec![json!("lead.created"), json!("lead.stage_changed")]
    );

    let created = &received[0];
    verify_signature(secret, created);
    assert_eq!(created.method, "POST");
    assert_eq!(created.path, "/hook");
    assert_eq!(created.header("content-type"), "application/json");
    let body = created.json();
    assert_eq!(created.header("webhook-id"), body["id"].as_str().unwrap());
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    // Byte for byte: key order and every value.
    let expected = format!(
        r#"{{"id":"{id}","event":"lead.created","webhook_id":"{webhook_id}","object_id":"{lead}","timestamp":"{timestamp}","actor":{{"type":"admin_api_key","id":"{actor_id}","name":{actor_name}}},"data":{{"lead_profile_uid":"{lead}","email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","funnel_stage":"Inquiry","funnel_stage_id":"{stage}"}}}}"#,
        id = body["id"].as_str().unwrap(),
        timestamp = body["timestamp"].as_str().unwrap(),
        actor_id = body["actor"]["id"].as_str().unwrap(),
        actor_name = body["actor"]["name"],
        stage = stages[0],
    );
    assert_eq!(created.text(), expected);
    assert!(body["actor"]["id"].as_str().unwrap().starts_with("key_"));

    app.patch(
        &format!("/api/v1/leads/{lead}"),
        json!({"first_name": "Augusta"}),
    )
    .await;
    let received = receiver.wait_for(3).await;
    let updated = received[2].json();
    assert_eq!(updated["event"], "lead.updated");
    assert_eq!(updated["data"]["first_name"], "Augusta");
    verify_signature(secret, &received[2]);

    app.patch(
        &format!("/api/v1/leads/{lead}"),
        json!({"funnel_stage_id": stages[1]}),
    )
    .await;
    let received = receiver.wait_for(4).await;
    let moved = received[3].json();
    assert_eq!(
        moved["event"], "lead.stage_changed",
        "a stage-only change is not lead.updated"
    );
    assert_eq!(moved["data"]["funnel_stage"], "Won");

    assert_eq!(
        app.delete(&format!("/api/v1/leads/{lead}")).await.status,
        204
    );
    let received = receiver.wait_for(5).await;
    let deleted = received[4].json();
    assert_eq!(deleted["event"], "lead.deleted");
    assert_eq!(
        deleted["data"]["email"], "ada@example.com",
        "a snapshot of the deleted lead"
    );

    let ids: std::collections::BTreeSet<&str> =
        received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 5, "every message has its own id");
    let succeeded = wait_for_status(&app, webhook_id, "succeeded", 5).await;
    let detail = delivery_detail(&app, webhook_id, &succeeded[0]).await;
    assert_eq!(detail["status"], "succeeded");
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(detail["attempts"][0]["response_status"], 200);
    assert_eq!(detail["attempts"][0]["response_body"], "ok");
    assert_eq!(detail["attempts"][0]["method"], "POST");
    assert!(
        detail["attempts"][0]["request_body"]
            .as_str()
            .unwrap()
            .starts_with("{\"id\"")
    );
}

async fn lead_saved_and_stage_conditions_pick_the_events(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Applied", "Won"]).await;
    let saved_receiver = Receiver::start().await;
    let won_receiver = Receiver::start().await;
    let not_inquiry_receiver = Receiver::start().await;
    create_webhook(
        &app,
        json!({"name": "saved", "url": saved_receiver.url("/"), "events": ["lead.saved"]}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "won", "url": won_receiver.url("/"), "events": ["lead.stage_changed"],
               "conditions": {"stage_changed_to": [stages[2]]}}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "not inquiry", "url": not_inquiry_receiver.url("/"), "events": ["lead.saved", "lead.stage_changed"],
               "conditions": {"funnel_stage_not_in": [stages[0]]}}),
    )
    .await;
    let applied_receiver = Receiver::start().await;
    create_webhook(
        &app,
        json!({"name": "applied", "url": applied_receiver.url("/"), "events": ["lead.saved", "lead.stage_changed"],
               "conditions": {"funnel_stage_in": [stages[1]]}}),
    )
    .await;
    let inactive = Receiver::start().await;
    create_webhook(
        &app,
        json!({"name": "off", "url": inactive.url("/"), "events": ["lead.saved"], "active": false}),
    )
    .await;

    let lead = app
        .create_lead(json!({"email": "a@example.com", "funnel_stage_id": stages[0]}))
        .await;
    app.patch(&format!("/api/v1/leads/{lead}"), json!({"company": "ACME"}))
        .await;
    app.patch(
        &format!("/api/v1/leads/{lead}"),
        json!({"funnel_stage_id": stages[1]}),
    )
    .await;
    app.patch(
        &format!("/api/v1/leads/{lead}"),
        json!({"funnel_stage_id": stages[2]}),
    )
    .await;

    // Arrival order is not guaranteed (deliveries go out concurrently).
    let mut saved: Vec<String> = saved_receiver
        .wait_for(2)
        .await
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap().to_owned())
        .collect();
    saved.sort();
    assert_eq!(saved, vec!["lead.created", "lead.updated"]);
    let won = won_receiver.wait_for(1).await;
    assert_eq!(won[0].json()["data"]["funnel_stage"], "Won");
    // Created and updated happened at Inquiry: only the two moves pass.
    let mut not_inquiry: Vec<String> = not_inquiry_receiver
        .wait_for(2)
        .await
        .iter()
        .map(|r| {
            r.json()["data"]["funnel_stage"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    not_inquiry.sort();
    assert_eq!(not_inquiry, vec!["Applied", "Won"]);

    let applied = applied_receiver.wait_for(1).await;
    assert_eq!(applied[0].json()["event"], "lead.stage_changed");
    assert_eq!(applied[0].json()["data"]["funnel_stage"], "Applied");
    applied_receiver
        .assert_no_more_than(1, Duration::ZERO)
        .await;
    saved_receiver
        .assert_no_more_than(2, Duration::from_millis(600))
        .await;
    won_receiver.assert_no_more_than(1, Duration::ZERO).await;
    not_inquiry_receiver
        .assert_no_more_than(2, Duration::ZERO)
        .await;
    inactive.assert_no_more_than(0, Duration::ZERO).await;
}

async fn inbound_funnel_updates_are_delivered_with_the_import_as_actor(app: TestApp) {
    app.create_stages(&["Inquiry", "Applied"]).await;
    let receiver = Receiver::start().await;
    create_webhook(
        &app,
        json!({"name": "moves", "url": receiver.url("/"), "events": ["lead.stage_changed"], "payload_format": "full"}),
    )
    .await;
    let lead = app.create_lead(json!({"email": "a@example.com"})).await;
    let (import_id, token) = app.create_active_import("HubSpot").await;
    let response = app
        .inbound(
            &token,
            "/api/v1/webhook-import/batch-update",
            json!({"records": [{"lead_profile_uid": lead, "funnel_stage": "Applied"}]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let received = receiver.wait_for(1).await;
    let body = received[0].json();
    assert_eq!(body["event"], "lead.stage_changed");
    assert_eq!(
        body["actor"],
        json!({"type": "webhook_import", "id": import_id, "name": "HubSpot"})
    );
    assert_eq!(body["data"]["funnel_stage"]["title"], "Applied");
    assert_eq!(body["data"]["previous_funnel_stage"], Value::Null);
    // Applied was reached with Inquiry backfilled.
    let history = body["data"]["funnel_history"].as_array().unwrap();
    let titles: Vec<&str> = history
        .iter()
        .map(|event| event["funnel_stage"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Inquiry", "Applied"]);
    assert_eq!(history[0]["backfilled"], true);

    // Two moves of one lead in one request: each event shows its own stage.
    let response = app
        .inbound(
            &token,
            "/api/v1/webhook-import/batch-update",
            json!({"records": [
                {"lead_profile_uid": lead, "funnel_stage": "Inquiry"},
                {"lead_profile_uid": lead, "funnel_stage": "Applied"},
            ]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let received = receiver.wait_for(3).await;
    // Sent concurrently, so matched by the stage each one left.
    let mut moves: Vec<(Value, Value)> = received[1..]
        .iter()
        .map(|r| {
            let data = r.json()["data"].clone();
            (
                data["previous_funnel_stage"]["title"].clone(),
                data["funnel_stage"]["title"].clone(),
            )
        })
        .collect();
    moves.sort_by_key(|(from, _)| from.to_string());
    assert_eq!(
        moves,
        vec![
            (json!("Applied"), json!("Inquiry")),
            (json!("Inquiry"), json!("Applied")),
        ]
    );
}

async fn a_rolled_back_change_sends_nothing(app: TestApp) {
    let receiver = Receiver::start().await;
    create_webhook(
        &app,
        json!({"name": "created", "url": receiver.url("/"), "events": ["lead.created"]}),
    )
    .await;
    app.create_lead(json!({"email": "a@example.com"})).await;
    let duplicate = app
        .post("/api/v1/leads", json!({"email": "A@example.com"}))
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);
    receiver.wait_for(1).await;
    receiver
        .assert_no_more_than(1, Duration::from_millis(800))
        .await;
}

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

async fn redirects_to_private_addresses_are_refused(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::status(302).header("location", "http://169.254.169.254/latest/meta-data/")
    ]);
    let webhook = create_webhook(
        &app,
        json!({"name": "redirect", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, webhook_id, "failed", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("destination refused"),
        "{detail}"
    );
    assert_eq!(
        receiver.received().len(),
        1,
        "no retry of a refused destination"
    );
}

async fn auth_modes_and_compatibility_headers_are_sent_and_redacted_in_logs(app: TestApp) {
    let receiver = Receiver::start().await;
    let basic = create_webhook(
        &app,
        json!({"name": "basic", "url": receiver.url("/basic"), "events": ["lead.created"],
               "auth": {"type": "basic", "username": "ada", "password": "s3cret"},
               "send_secret_header": true, "send_hmac_header": true}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "bearer", "url": receiver.url("/bearer"), "events": ["lead.created"],
               "auth": {"type": "bearer", "token": "t0ken"}}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "headers", "url": receiver.url("/headers"), "events": ["lead.created"],
               "auth": {"type": "headers", "headers": {"X-Api-Key": "k3y"}}}),
    )
    .await;
    app.create_lead(json!({"email": "a@example.com"})).await;
    let received = receiver.wait_for(3).await;
    let by_path = |path: &str| {
        received
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing at {path}"))
            .clone()
    };
    let basic_request = by_path("/basic");
    assert_eq!(
        basic_request.header("authorization"),
        "Basic YWRhOnMzY3JldA=="
    );
    let secret = basic["signing_secret"].as_str().unwrap();
    assert_eq!(basic_request.header("x-webhook-secret"), secret);
    // The HMAC of the body, keyed with the secret's bytes, computed here
    // with the hmac crate directly.
    use base64::Engine;
    use hmac::Mac;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(&basic_request.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(basic_request.header("x-hmac-signature"), expected);
    verify_signature(secret, &basic_request);
    assert_eq!(by_path("/bearer").header("authorization"), "Bearer t0ken");
    assert_eq!(by_path("/headers").header("x-api-key"), "k3y");

    let basic_id = basic["id"].as_str().unwrap();
    let delivery = wait_for_status(&app, basic_id, "succeeded", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, basic_id, &delivery).await;
    let logged = &detail["attempts"][0]["request_headers"];
    assert_eq!(logged["authorization"], "[redacted]", "{logged}");
    assert_eq!(logged["x-webhook-secret"], "[redacted]", "{logged}");
    assert!(
        logged["webhook-signature"]
            .as_str()
            .unwrap()
            .starts_with("v1,")
    );
    assert!(!detail.to_string().contains("s3cret"), "{detail}");

    for (name, secret_header, secret) in [
        ("bearer", "authorization", "t0ken"),
        ("headers", "x-api-key", "k3y"),
    ] {
        let listed = app.get("/api/v1/webhooks").await;
        let webhook = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|webhook| webhook["name"] == name)
            .unwrap()
            .clone();
        let id = webhook["id"].as_str().unwrap();
        assert!(!webhook.to_string().contains(secret), "{webhook}");
        let delivery = wait_for_status(&app, id, "succeeded", 1).await.remove(0);
        let detail = delivery_detail(&app, id, &delivery).await;
        assert_eq!(
            detail["attempts"][0]["request_headers"][secret_header], "[redacted]",
            "{detail}"
        );
        assert!(!detail.to_string().contains(secret), "{detail}");
    }
}

async fn event_only_full_and_template_formats(app: TestApp) {
    let stages = app.create_stages(&["Inquiry"]).await;
    let receiver = Receiver::start().await;
    let event_only = create_webhook(
        &app,
        json!({"name": "bare", "url": receiver.url("/event-only"), "events": ["lead.created"],
               "payload_format": "event-only"}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "json template", "url": receiver.url("/json"), "events": ["lead.created"],
               "payload_format": "template",
               "payload_config": {"body": "{\"who\": \"{{ lead.full_name }}\", \"notes\": \"{{lead.notes}}\", \"stage\": \"{{lead.funnel_stage}}\", \"score\": {{lead.score}}, \"event\": \"{{event.name}}\"}"}}),
    )
    .await;
    create_webhook(
        &app,
        json!({"name": "form template", "url": receiver.url("/form"), "events": ["lead.created"],
               "payload_format": "template",
               "payload_config": {"body": "name={{lead.full_name}}&stage={{lead.funnel_stage}}", "format": "form", "stage_as_id": true}}),
    )
    .await;
    let lead = app
        .create_lead(json!({
            "email": "zoe@example.com", "first_name": "Zoë \"Z\"", "last_name": "O'Neil 🚀",
            "notes": "line one\nline two\t\\end", "score": 7, "funnel_stage_id": stages[0],
        }))
        .await;
    let received = receiver.wait_for(3).await;
    let at = |path: &str| received.iter().find(|r| r.path == path).unwrap().clone();

    let bare = at("/event-only");
    let body = bare.json();
    let expected = format!(
        r#"{{"id":"{}","event":"lead.created","webhook_id":"{}","object_id":"{lead}","timestamp":"{}","actor":{{"type":"admin_api_key","id":"{}","name":{}}}}}"#,
        body["id"].as_str().unwrap(),
        event_only["id"].as_str().unwrap(),
        body["timestamp"].as_str().unwrap(),
        body["actor"]["id"].as_str().unwrap(),
        body["actor"]["name"],
    );
    assert_eq!(bare.text(), expected);

    let json_template = at("/json");
    assert_eq!(json_template.header("content-type"), "application/json");
    assert_eq!(
        json_template.text(),
        "{\"who\": \"Zoë \\\"Z\\\" O'Neil 🚀\", \"notes\": \"line one\\nline two\\t\\\\end\", \"stage\": \"Inquiry\", \"score\": 7, \"event\": \"lead.created\"}"
    );
    let parsed = json_template.json();
    assert_eq!(parsed["who"], "Zoë \"Z\" O'Neil 🚀");
    assert_eq!(parsed["notes"], "line one\nline two\t\\end");

    let form = at("/form");
    assert_eq!(
        form.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        form.text(),
        format!(
            "name=Zo%C3%AB+%22Z%22+O%27Neil+%F0%9F%9A%80&stage={}",
            stages[0]
        )
    );
}

async fn get_webhooks_carry_the_envelope_in_the_query_string(app: TestApp) {
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        json!({"name": "get", "url": receiver.url("/ping?source=switchyard"), "method": "GET",
               "events": ["lead.created"]}),
    )
    .await;
    let lead = app.create_lead(json!({"email": "a@example.com"})).await;
    let received = receiver.wait_for(1).await;
    let request = &received[0];
    assert_eq!(request.method, "GET");
    assert!(request.body.is_empty());
    let url =
        reqwest::Url::parse(&format!("http://x/?{}", request.query.as_deref().unwrap())).unwrap();
    let query: std::collections::BTreeMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(query["source"], "switchyard", "the URL's own query is kept");
    assert_eq!(query["event"], "lead.created");
    assert_eq!(query["object_id"], lead);
    assert_eq!(query["webhook_id"], webhook["id"].as_str().unwrap());
    assert_eq!(query["id"], request.header("webhook-id"));
    assert_eq!(query["actor_type"], "admin_api_key");
    verify_signature(webhook["signing_secret"].as_str().unwrap(), request);
}

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

async fn a_payload_plugin_out_of_fuel_fails_the_delivery_without_retries(app: TestApp) {
    let full = switchyard::plugins::builtin::builtin("full").expect("the full builtin");
    let uploaded = upload(
        &app,
        "name=starved&kind=payload-builder&fuel=1000",
        full.module.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let plugin = uploaded.body["id"].as_str().unwrap().to_owned();
    // Saving checks the format with a sample event: the starved plugin is
    // refused there with its named error.
    let receiver = Receiver::start().await;
    let refused = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "starved", "url": receiver.url("/"), "events": ["lead.created"], "payload_format": plugin}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.error().contains("out of fuel"), "{}", refused.text);

    // A plugin with enough fuel to pass the check, then starved by a big
    // lead: the delivery fails with the plugin's error, with no retry.
    let enough = upload(
        &app,
        "name=tight&kind=payload-builder&fuel=200000",
        full.module.to_vec(),
    )
    .await;
    assert_eq!(enough.status, 201, "{}", enough.text);
    let tight = enough.body["id"].as_str().unwrap().to_owned();
    let webhook = create_webhook(
        &app,
        json!({"name": "tight", "url": receiver.url("/"), "events": ["lead.created"],
               "payload_format": tight, "retry_schedule_seconds": [0, 0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com", "notes": "x".repeat(9_000)}))
        .await;
    let delivery = wait_for_status(&app, webhook_id, "failed", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("out of fuel"),
        "{detail}"
    );
    assert_eq!(detail["attempt_count"], 1, "not retried: {detail}");
    assert!(receiver.received().is_empty(), "nothing was sent");

    let in_use = app.delete(&format!("/api/v1/plugins/{tight}")).await;
    assert_eq!(in_use.status, 409, "{}", in_use.text);
    assert!(
        in_use.error().contains("payload format of webhook"),
        "{}",
        in_use.text
    );
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

async fn redirects_to_another_host_are_refused(app: TestApp) {
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(307).header("location", &elsewhere.url("/stolen"))]);
    let webhook = create_webhook(
        &app,
        json!({"name": "redirect", "url": receiver.url("/"), "events": ["lead.created"],
               "auth": {"type": "headers", "headers": {"X-Api-Key": "k3y"}},
               "send_secret_header": true, "retry_schedule_seconds": [0]}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, id, "failed", 1).await.remove(0);
    let detail = delivery_detail(&app, id, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("another host"),
        "{detail}"
    );
    assert!(
        elsewhere.received().is_empty(),
        "secrets never follow a redirect elsewhere"
    );
    assert_eq!(receiver.received().len(), 1, "not retried");
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_slower_than_the_lease_are_each_sent_once() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::spawn_with(backend, |config| {
            config.outbound.delivery_lease_seconds = 2;
        })
        .await;
        let receiver = Receiver::start().await;
        receiver.script((0..3).map(|_| Reply::status(200).after(Duration::from_millis(1_500))));
        let webhook = create_webhook(
            &app,
            json!({"name": "slow batches", "url": receiver.url("/"), "events": ["lead.created"],
                   "batch_mode": "any_event", "batch_wait_seconds": 1, "max_items_per_batch": 2}),
        )
        .await;
        let id = webhook["id"].as_str().unwrap();
        for n in 0..6 {
            app.create_lead(json!({"email": format!("lead{n}@example.com")}))
                .await;
        }
        wait_for_status(&app, id, "succeeded", 9).await;
        receiver
            .assert_no_more_than(3, Duration::from_millis(2_500))
            .await;
        let received = receiver.received();
        let mut items: Vec<String> = Vec::new();
        for request in &received {
            let batch = request.json();
            let batch = batch.as_array().unwrap();
            assert!(!batch.is_empty(), "{backend:?}: an empty batch was sent");
            items.extend(
                batch
                    .iter()
                    .map(|item| item["id"].as_str().unwrap().to_owned()),
            );
        }
        let count = items.len();
        items.sort();
        items.dedup();
        assert_eq!(
            (items.len(), count),
            (6, 6),
            "{backend:?}: each message once"
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
