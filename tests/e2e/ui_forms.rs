//! The admin UI's editing forms over HTTP, without a browser: the webhook
//! form (every setting, refusals placed at their fields, the template
//! preview), a script plugin's source editor (rebuilt through the
//! upload's own build), and an import's lead-sync toggle with the lead's
//! external id. Each checks what was stored through the JSON API.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};
use crate::ui::{client, get_page, location, sign_in};

on_both_backends!(
    the_webhook_form_creates_and_edits_with_every_setting,
    the_webhook_form_refuses_at_the_field_and_previews_templates,
    a_script_plugins_source_is_shown_edited_and_rebuilt,
    lead_sync_is_switched_on_the_import_and_external_ids_shown_on_leads,
);

/// Posts a form as the browser's own page would, with the session.
async fn post_form(
    app: &TestApp,
    secret: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(app.url(path))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .form(form)
        .send()
        .await
        .expect("post a form")
}

/// The fields a complete webhook form sends, before the test's changes.
fn webhook_form(name: &'static str, url: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("intent", "save"),
        ("name", name),
        ("url", url),
        ("method", "POST"),
        ("active", "on"),
        ("events", "lead.created"),
        ("events", "lead.stage_changed"),
        ("auth_type", "none"),
        ("payload_format", "small"),
        ("template_format", "json"),
        ("batch_mode", "none"),
        ("batch_wait_seconds", "10"),
        ("max_items_per_batch", "100"),
        ("timeout_seconds", "30"),
        ("retry_schedule", "5, 300"),
    ]
}

fn with(
    mut form: Vec<(&'static str, &'static str)>,
    changes: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    for (key, _) in changes {
        form.retain(|(existing, _)| existing != key);
    }
    form.extend_from_slice(changes);
    form
}

async fn the_webhook_form_creates_and_edits_with_every_setting(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Won"]).await;
    let secret = sign_in(&app.address, &app.api_key).await;
    let mut form = with(
        webhook_form("CRM", "http://127.0.0.1:9/hook"),
        &[
            ("method", "PUT"),
            ("auth_type", "headers"),
            ("auth_headers", "X-Api-Key: k-123\nX-Tenant: acme"),
            ("send_secret_header", "on"),
            ("send_hmac_header", "on"),
            ("lightweight_logs", "on"),
            ("timeout_seconds", "7"),
            ("max_in_flight", "8"),
            ("payload_format", "template"),
            ("template_body", "email={{lead.email}}"),
            ("template_format", "form"),
            ("stage_as_id", "on"),
        ],
    );
    form.retain(|(key, _)| *key != "active");
    let stage_won = stages[1].clone();
    let mut owned: Vec<(&str, &str)> = form.clone();
    owned.push(("stage_changed_to", &stage_won));
    let created = post_form(&app, &secret, "/webhooks", &owned).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let page = location(created.headers()).to_owned();
    let id = page.trim_start_matches("/webhooks/").to_owned();
    assert!(id.starts_with("wh_"), "{page}");

    let stored = app.get(&format!("/api/v1/webhooks/{id}")).await.body;
    assert_eq!(stored["name"], "CRM");
    assert_eq!(stored["method"], "PUT");
    assert_eq!(
        stored["events"],
        json!(["lead.created", "lead.stage_changed"])
    );
    assert_eq!(
        stored["conditions"],
        json!({"stage_changed_to": [stage_won]})
    );
    assert_eq!(
        stored["auth"],
        json!({"type": "headers", "headers": {"X-Api-Key": "[redacted]", "X-Tenant": "[redacted]"}})
    );
    assert_eq!(stored["send_secret_header"], true);
    assert_eq!(stored["send_hmac_header"], true);
    assert_eq!(stored["lightweight_logs"], true);
    assert_eq!(stored["timeout_seconds"], 7);
    assert_eq!(stored["retry_schedule_seconds"], json!([5, 300]));
    assert_eq!(stored["max_in_flight"], 8);
    assert_eq!(stored["payload_format"], "template");
    assert_eq!(
        stored["payload_config"],
        json!({"body": "email={{lead.email}}", "format": "form", "stage_as_id": true})
    );
    assert_eq!(stored["active"], false);

    // The edit form never shows a credential; an empty header value keeps
    // the stored one.
    let html = get_page(&app.address, &format!("/webhooks/{id}/edit"), &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(!html.contains("k-123") && !html.contains("acme"), "{html}");
    assert!(html.contains("X-Api-Key:"), "{html}");
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(200)]);
    let receiver_url = receiver.url("/hook");
    let mut edit = with(
        webhook_form("CRM renamed", "placeholder"),
        &[
            ("auth_type", "headers"),
            ("auth_headers", "X-Api-Key:\nX-Extra: new"),
            ("batch_mode", "same_event_type"),
            ("batch_wait_seconds", "60"),
            ("max_items_per_batch", "20"),
            ("retry_schedule", ""),
        ],
    );
    edit.retain(|(key, _)| *key != "url");
    let mut edit: Vec<(&str, &str)> = edit;
    edit.push(("url", &receiver_url));
    let edited = post_form(&app, &secret, &format!("/webhooks/{id}/edit"), &edit).await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(edited.headers()), page);
    let stored = app.get(&format!("/api/v1/webhooks/{id}")).await.body;
    assert_eq!(stored["name"], "CRM renamed");
    assert_eq!(stored["url"], receiver_url.as_str());
    assert_eq!(stored["batch_mode"], "same_event_type");
    assert_eq!(stored["batch_wait_seconds"], 60);
    assert_eq!(stored["max_items_per_batch"], 20);
    assert_eq!(stored["retry_schedule_seconds"], json!([]));
    assert_eq!(stored["payload_format"], "small");
    assert_eq!(
        stored["max_in_flight"], 8,
        "an empty cap keeps the stored one"
    );
    assert_eq!(stored["conditions"], json!({}));
    assert_eq!(stored["active"], true);
    assert_eq!(
        stored["auth"]["headers"],
        json!({"X-Api-Key": "[redacted]", "X-Extra": "[redacted]"})
    );
    // The kept value is the one sent.
    let tested = post_form(&app, &secret, &format!("/webhooks/{id}/test"), &[]).await;
    assert_eq!(tested.status(), StatusCode::SEE_OTHER);
    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].header("x-api-key"), "k-123");
    assert_eq!(received[0].header("x-extra"), "new");
    assert!(
        !received[0].headers.contains_key("x-tenant"),
        "a removed header is gone"
    );
}

async fn the_webhook_form_refuses_at_the_field_and_previews_templates(app: TestApp) {
    app.create_stages(&["Inquiry"]).await;
    let secret = sign_in(&app.address, &app.api_key).await;

    // A refusal of the API's own checks comes back at its field, with
    // everything typed kept, and nothing stored.
    let refused = post_form(
        &app,
        &secret,
        "/webhooks",
        &with(
            webhook_form("Batched PUT", "http://127.0.0.1:9/hook"),
            &[("method", "PUT"), ("batch_mode", "any_event")],
        ),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains(r#"<p class="field-error" id="batching-error">Batching needs method POST"#),
        "{html}"
    );
    assert!(html.contains(r#"value="Batched PUT""#), "{html}");
    let unknown_tag = post_form(
        &app,
        &secret,
        "/webhooks",
        &with(
            webhook_form("Template", "http://127.0.0.1:9/hook"),
            &[
                ("payload_format", "template"),
                ("template_body", r#"{"x": "{{lead.nope}}"}"#),
            ],
        ),
    )
    .await;
    assert_eq!(unknown_tag.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = unknown_tag.text().await.expect("body");
    assert!(
        html.contains(r#"id="payload-error""#) && html.contains("lead.nope"),
        "{html}"
    );
    let hostile = post_form(
        &app,
        &secret,
        "/webhooks",
        &with(
            webhook_form("<script>alert(1)</script>", "http://127.0.0.1:9/hook"),
            &[("timeout_seconds", "0")],
        ),
    )
    .await;
    let html = hostile.text().await.expect("body");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "escaped: {html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains(r#"id="timeout-error""#), "{html}");
    let too_many = post_form(
        &app,
        &secret,
        "/webhooks",
        &with(
            webhook_form("Flood", "http://127.0.0.1:9/hook"),
            &[("max_in_flight", "1001")],
        ),
    )
    .await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = too_many.text().await.expect("body");
    assert!(
        html.contains(
            r#"<p class="field-error" id="in-flight-error">max_in_flight must be between 1 and 1000"#
        ),
        "{html}"
    );
    assert!(html.contains(r#"value="1001""#), "{html}");
    let listed = app.get("/api/v1/webhooks").await.body;
    assert_eq!(listed["data"], json!([]), "nothing was stored");

    // The preview renders the template for a sample event; the form's
    // Preview button shows it in the whole form, htmx's endpoint alone.
    let template = [
        ("payload_format", "template"),
        (
            "template_body",
            r#"{"who": "{{ lead.full_name }}", "stage": "{{lead.funnel_stage}}"}"#,
        ),
        ("template_format", "json"),
    ];
    let fragment = post_form(&app, &secret, "/webhooks/preview", &template).await;
    assert_eq!(fragment.status(), StatusCode::OK);
    let html = fragment.text().await.expect("body");
    assert!(html.starts_with(r#"<div id="preview""#), "{html}");
    assert!(
        html.contains(
            r#"{&quot;who&quot;: &quot;Ada Lovelace&quot;, &quot;stage&quot;: &quot;Inquiry&quot;}"#
        ) || html.contains(
            r#"{&#34;who&#34;: &#34;Ada Lovelace&#34;, &#34;stage&#34;: &#34;Inquiry&#34;}"#
        ),
        "{html}"
    );
    let previewed = post_form(
        &app,
        &secret,
        "/webhooks",
        &with(
            webhook_form("Previewed", "http://127.0.0.1:9/hook"),
            &[
                ("intent", "preview"),
                ("payload_format", "template"),
                ("template_body", "{{event.name}}"),
                ("template_format", "form"),
            ],
        ),
    )
    .await;
    assert_eq!(previewed.status(), StatusCode::OK);
    let html = previewed.text().await.expect("body");
    assert!(
        html.contains(r#"<pre class="code" id="preview-body">lead.stage_changed</pre>"#),
        "{html}"
    );
    assert_eq!(app.get("/api/v1/webhooks").await.body["data"], json!([]));

    // A cross-site post of the form is refused like every other.
    let forged = client()
        .post(app.url("/webhooks"))
        .header("sec-fetch-site", "cross-site")
        .header("cookie", format!("switchyard_session={secret}"))
        .form(&webhook_form("Forged", "http://127.0.0.1:9/hook"))
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/webhooks").await.body["data"], json!([]));
}

/// Uploads a script plugin through the UI's own multipart form.
async fn upload_script(app: &TestApp, secret: &str, filename: &str, source: &str) -> String {
    let boundary = "switchyard-script-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nstage script\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ninbound-transform\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"module\"; filename=\"{filename}\"\r\n\
         Content-Type: text/javascript\r\n\r\n{source}\r\n--{boundary}--\r\n"
    );
    let uploaded = client()
        .post(app.url("/plugins"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    location(uploaded.headers())
        .trim_start_matches("/plugins/")
        .to_owned()
}

async fn a_script_plugins_source_is_shown_edited_and_rebuilt(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let first = "export function transform(config, request) {\n  return [{lead_profile_uid: request.body.id, funnel_stage: \"Won\"}];\n}\n";
    let plugin = upload_script(&app, &secret, "stage.js", first).await;
    assert!(plugin.starts_with("plg_"), "{plugin}");
    let before = app.get(&format!("/api/v1/plugins/{plugin}")).await.body;
    assert_eq!(before["language"], "javascript");
    assert_eq!(before["filename"], "stage.js");

    let html = get_page(&app.address, &format!("/plugins/{plugin}"), &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("funnel_stage: &#34;Won&#34;")
            || html.contains("funnel_stage: &quot;Won&quot;"),
        "the source is on the page: {html}"
    );

    // A syntax error is refused with its line and column; nothing changes.
    let broken = "export function transform(config, request) {\r\n  return [{lead_profile_uid: request.body.id,\r\n}\r\n";
    let refused = post_form(
        &app,
        &secret,
        &format!("/plugins/{plugin}/source"),
        &[("source", broken)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(html.contains(r#"id="source-error""#), "{html}");
    // The script ends inside the array: its end, line 4, is where it fails.
    assert!(html.contains("line 4, column 1"), "{html}");
    assert!(
        html.contains("request.body.id,\n}"),
        "the typed source is kept: {html}"
    );
    let unchanged = app.get(&format!("/api/v1/plugins/{plugin}")).await.body;
    assert_eq!(unchanged["sha256"], before["sha256"]);

    // A good edit is rebuilt under the same id, and what uses it runs it.
    let second = "export function transform(config, request) {\r\n  return [{lead_profile_uid: request.body.id, funnel_stage: \"Lost\"}];\r\n}\r\n";
    let saved = post_form(
        &app,
        &secret,
        &format!("/plugins/{plugin}/source"),
        &[("source", second)],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let after = app.get(&format!("/api/v1/plugins/{plugin}")).await.body;
    assert_ne!(after["sha256"], before["sha256"]);
    assert_eq!(after["name"], "stage script");
    let source = client()
        .get(app.url(&format!("/api/v1/plugins/{plugin}/source")))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .expect("source")
        .text()
        .await
        .expect("body");
    assert_eq!(source, second.replace("\r\n", "\n"));
    let ran = app
        .post(
            &format!("/api/v1/plugins/{plugin}/run"),
            json!({"config": {}, "input": {"id": "lead_1"}}),
        )
        .await;
    assert_eq!(
        ran.body["output"][0]["funnel_stage"], "Lost",
        "{}",
        ran.text
    );
}

async fn lead_sync_is_switched_on_the_import_and_external_ids_shown_on_leads(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let (import, token) = app.create_active_import("HubSpot contacts").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": "builtin:json-mapper", "config": {"lead": {
                "external_id": "/vid", "match": ["external_id", "email"],
                "fields": {"email": "/email", "first_name": "/first"}}}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let contact = json!({"vid": 1201, "email": "ada@example.com", "first": "Ada"});

    let page = get_page(&app.address, &format!("/imports/{import}"), &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains(r#"id="create_leads""#), "{page}");
    assert!(
        !page.contains(r#"value="on" checked"#),
        "off by default: {page}"
    );
    app.inbound(&token, "/api/v1/webhook-import/update", contact.clone())
        .await;
    assert_eq!(
        app.get("/api/v1/leads?email=ada@example.com").await.body["data"],
        json!([]),
        "no lead is created while the toggle is off"
    );

    let switched = post_form(
        &app,
        &secret,
        &format!("/imports/{import}/lead-sync"),
        &[("create_leads", "on")],
    )
    .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(stored.body["create_leads"], true, "{}", stored.text);
    app.inbound(&token, "/api/v1/webhook-import/update", contact)
        .await;
    let leads = app.get("/api/v1/leads?email=ada@example.com").await.body;
    let lead = leads["data"][0]["lead_profile_uid"]
        .as_str()
        .expect("the contact became a lead")
        .to_owned();
    let html = get_page(&app.address, &format!("/leads/{lead}"), &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        html.contains(r#"<code id="external-id">1201</code>"#),
        "{html}"
    );
    assert!(html.contains(&format!("/imports/{import}")), "{html}");

    let off = post_form(&app, &secret, &format!("/imports/{import}/lead-sync"), &[]).await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(stored.body["create_leads"], false);
}
