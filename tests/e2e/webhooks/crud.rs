//! Webhooks through the admin API: created, checked, updated and deleted.

use reqwest::Method;
use serde_json::json;

use super::create_webhook;
use crate::helpers::TestApp;
use crate::receiver::Receiver;

crate::on_both_backends!(webhooks_are_created_checked_updated_and_deleted,);

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
