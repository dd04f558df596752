//! What a delivery looks like: auth modes and compatibility headers
//! (redacted in logs), the `event-only`, `full` and template formats, GET
//! webhooks, and a payload plugin that runs out of fuel.

use serde_json::json;

use super::{create_webhook, delivery_detail, verify_signature, wait_for_status};
use crate::helpers::TestApp;
use crate::plugins::upload;
use crate::receiver::Receiver;

crate::on_both_backends!(
    auth_modes_and_compatibility_headers_are_sent_and_redacted_in_logs,
    event_only_full_and_template_formats,
    get_webhooks_carry_the_envelope_in_the_query_string,
    a_payload_plugin_out_of_fuel_fails_the_delivery_without_retries,
);

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
