//! Which lead changes go out, and as what: the `small` format signed,
//! events and stage conditions, inbound moves with the import as actor,
//! nothing for a rolled-back change.

use std::time::Duration;

use serde_json::{Value, json};

use super::{create_webhook, delivery_detail, verify_signature, wait_for_status};
use crate::helpers::TestApp;
use crate::receiver::Receiver;

crate::on_both_backends!(
    lead_changes_are_delivered_signed_in_the_small_format,
    lead_saved_and_stage_conditions_pick_the_events,
    inbound_funnel_updates_are_delivered_with_the_import_as_actor,
    a_rolled_back_change_sends_nothing,
);

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
