//! JavaScript and TypeScript plugins through the API: the source is the
//! upload's body, the server builds it (and keeps it), and the result runs
//! like any plugin: a JS transform moves a lead from a CRM's own JSON, a TS
//! payload builder's message reaches a real receiver, and bad scripts are
//! refused at the door with their line and column. A JS transform also
//! creates and updates leads from HubSpot contact events (lead sync).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse};
use crate::on_both_backends;
use crate::receiver::Receiver;

on_both_backends!(
    a_js_transform_uploaded_as_source_moves_the_lead,
    a_js_transform_creates_and_updates_leads_from_hubspot_contact_events,
    a_ts_payload_builder_delivers_to_a_real_receiver,
    bad_scripts_are_refused_at_upload_with_their_position,
);

const HUBSPOT: &str = include_str!("../../plugins/js-examples/hubspot-lifecycle.js");
const HUBSPOT_SYNC: &str = include_str!("../../plugins/js-examples/hubspot-contact-sync.js");
const SLACK: &str = include_str!("../../plugins/js-examples/slack-stage-changed.ts");

async fn upload_script(
    app: &TestApp,
    query: &str,
    content_type: &str,
    source: &str,
) -> TestResponse {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/plugins?{query}")))
        .bearer_auth(&app.api_key)
        .header("content-type", content_type)
        .body(source.to_owned())
        // Building compiles the script into a module, then Wasm into
        // machine code: seconds on a loaded machine, not the 30 s of an
        // ordinary request.
        .timeout(std::time::Duration::from_secs(180))
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    TestResponse {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        headers,
    }
}

async fn a_js_transform_uploaded_as_source_moves_the_lead(app: TestApp) {
    app.create_stages(&["Lead", "Customer"]).await;
    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let uploaded = upload_script(
        &app,
        "name=hubspot&kind=inbound-transform&filename=hubspot.js",
        "text/javascript",
        HUBSPOT,
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    assert_eq!(uploaded.body["language"], "javascript");
    assert_eq!(uploaded.body["filename"], "hubspot.js");
    let size = uploaded.body["size_bytes"].as_u64().unwrap();
    assert!(size < 2 * 1024 * 1024, "the module is {size} bytes");
    let plugin = uploaded.body["id"].as_str().unwrap().to_owned();

    // The source is kept beside the module, as uploaded.
    let source = app
        .client
        .get(app.url(&format!("/api/v1/plugins/{plugin}/source")))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(source.status(), 200);
    assert_eq!(
        source.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(source.text().await.unwrap(), HUBSPOT);
    let listed = app.get("/api/v1/plugins").await;
    let entry = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == plugin.as_str())
        .expect("the upload is listed");
    assert_eq!(entry["language"], "javascript");

    let (import, token) = app.create_active_import("HubSpot").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": plugin, "config": {"stages": {"customer": "Customer"}}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let events = json!([
        {"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": ada,
         "propertyName": "lifecyclestage", "propertyValue": "customer"},
        {"eventId": 2, "subscriptionType": "contact.propertyChange", "objectId": ada,
         "propertyName": "email", "propertyValue": "ada@example.org"}
    ]);
    let response = app
        .inbound(&token, "/api/v1/webhook-import/update", events.clone())
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["results"][0]["funnel_stage"], "Customer");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{ada}")).await.body["funnel_stage"]["title"],
        "Customer"
    );

    // A dry run shows what console.log wrote.
    let dry_run = app
        .post(
            &format!("/api/v1/plugins/{plugin}/run"),
            json!({"config": {}, "input": events}),
        )
        .await;
    assert_eq!(dry_run.status, 200, "{}", dry_run.text);
    assert_eq!(dry_run.body["logs"], json!(["1 of 2 events move a lead"]));

    // A thrown error names its message and the line that threw it.
    let refused = app
        .inbound(
            &token,
            "/api/v1/webhook-import/update",
            json!({"not": "a list"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.error(),
        "Transform failed: plugin error: Error: expected HubSpot's list of events, got object \
         (at transform (hubspot.js:15:70))"
    );

    // The same script again is the same module, from the build cache.
    let again = upload_script(
        &app,
        "name=hubspot-again&kind=inbound-transform&filename=hubspot.js",
        "application/javascript",
        HUBSPOT,
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["sha256"], uploaded.body["sha256"]);
}

async fn a_ts_payload_builder_delivers_to_a_real_receiver(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Enrolled"]).await;
    let uploaded = upload_script(
        &app,
        "name=slack&kind=payload-builder&language=ts&filename=slack.ts",
        "text/plain",
        SLACK,
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    assert_eq!(uploaded.body["language"], "typescript");
    let plugin = uploaded.body["id"].as_str().unwrap();

    let receiver = Receiver::start().await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "slack", "url": receiver.url("/slack"), "events": ["lead.stage_changed"],
                   "payload_format": plugin, "payload_config": {"channel": "#admissions"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    app.create_lead(json!({
        "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
        "funnel_stage_id": stages[0],
    }))
    .await;

    let received = receiver.wait_for(1).await;
    let message = &received[0];
    assert_eq!(message.path, "/slack");
    assert_eq!(message.header("content-type"), "application/json");
    assert!(
        message.header("x-switchyard-event").starts_with("msg_"),
        "{:?}",
        message.headers
    );
    assert_eq!(
        message.json(),
        json!({"text": ":arrow_right: Ada Lovelace (ada@example.com) moved from no stage to Inquiry",
               "channel": "#admissions"})
    );
}

async fn bad_scripts_are_refused_at_upload_with_their_position(app: TestApp) {
    let syntax = upload_script(
        &app,
        "name=broken&kind=inbound-transform&filename=broken.js",
        "text/javascript",
        "export function transform(config, request) {\n  return [request.body.;\n}\n",
    )
    .await;
    assert_eq!(syntax.status, 422, "{}", syntax.text);
    assert!(
        syntax.error().starts_with("Invalid script: SyntaxError: "),
        "{}",
        syntax.text
    );
    assert!(syntax.error().contains("line 2, column"), "{}", syntax.text);

    let typescript = upload_script(
        &app,
        "name=broken-ts&kind=inbound-transform&language=ts",
        "text/plain",
        "export function transform(config: unknown): string[] {\n  return [;\n}\n",
    )
    .await;
    assert_eq!(typescript.status, 422, "{}", typescript.text);
    assert!(
        typescript.error().contains("line 2, column"),
        "{}",
        typescript.text
    );
    assert!(
        typescript.error().ends_with("of transform.ts"),
        "{}",
        typescript.text
    );

    let wrong_kind = upload_script(
        &app,
        "name=wrong-kind&kind=payload-builder",
        "text/javascript",
        HUBSPOT,
    )
    .await;
    assert_eq!(wrong_kind.status, 422, "{}", wrong_kind.text);
    assert!(
        wrong_kind
            .error()
            .contains("must export a function `buildPayload(config, event)`"),
        "{}",
        wrong_kind.text
    );

    let empty = upload_script(
        &app,
        "name=empty&kind=inbound-transform",
        "application/wasm",
        "",
    )
    .await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert!(
        empty.error().starts_with("the body is empty"),
        "{}",
        empty.text
    );

    let listed = app.get("/api/v1/plugins").await;
    assert_eq!(
        listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|plugin| plugin["builtin"] == false)
            .count(),
        0,
        "nothing refused was stored: {}",
        listed.text
    );
    let builtin_source = app.get("/api/v1/plugins/builtin:json-mapper/source").await;
    assert_eq!(builtin_source.status, 404, "{}", builtin_source.text);
}

/// Runs the `switchyard` binary in `folder`.
async fn switchyard_in(folder: &std::path::Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(folder)
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .expect("run switchyard")
}

#[tokio::test]
async fn a_new_typescript_project_runs_and_builds_outside_the_repository() {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = switchyard_in(dir.path(), &["plugin", "new", "crm-sync", "--lang", "ts"]).await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let project = dir.path().join("crm-sync");
    for file in [
        "transform.ts",
        "switchyard-plugin.d.ts",
        "config.json",
        "input.json",
        "tsconfig.json",
    ] {
        assert!(project.join(file).is_file(), "{file} was not written");
    }
    let expected =
        json!([{"lead_profile_uid": "lead_01JD0000000000000000000000", "funnel_stage": "Won"}]);

    let run = switchyard_in(
        &project,
        &[
            "plugin",
            "run",
            "transform.ts",
            "--kind",
            "inbound-transform",
            "--config",
            "config.json",
            "--input",
            "input.json",
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let printed: Value = serde_json::from_slice(&run.stdout).expect("stdout is the JSON output");
    assert_eq!(printed, expected);
    assert!(stderr.contains("plugin log: 1 events"), "{stderr}");

    let build = switchyard_in(
        &project,
        &["plugin", "build", "transform.ts", "-o", "transform.wasm"],
    )
    .await;
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let module = std::fs::read(project.join("transform.wasm")).unwrap();
    assert!(module.starts_with(b"\0asm"));
    assert!(module.len() < 2 * 1024 * 1024, "{} bytes", module.len());
    let run_module = switchyard_in(
        &project,
        &[
            "plugin",
            "run",
            "transform.wasm",
            "--kind",
            "inbound-transform",
            "--config",
            "config.json",
            "--input",
            "input.json",
        ],
    )
    .await;
    assert!(
        run_module.status.success(),
        "{}",
        String::from_utf8_lossy(&run_module.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&run_module.stdout).unwrap(),
        expected
    );

    let again = switchyard_in(dir.path(), &["plugin", "new", "crm-sync", "--lang", "js"]).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists and is not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[tokio::test]
async fn plugin_build_refuses_a_syntax_error_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bad.js"),
        "export function transform(config, request) {\n  return [request.body.;\n}\n",
    )
    .unwrap();
    let build = switchyard_in(dir.path(), &["plugin", "build", "bad.js", "-o", "bad.wasm"]).await;
    assert!(!build.status.success());
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        stderr.contains("bad.js: invalid script: SyntaxError: "),
        "{stderr}"
    );
    assert!(stderr.contains("line 2, column"), "{stderr}");
    assert!(!dir.path().join("bad.wasm").exists());
}

async fn a_js_transform_creates_and_updates_leads_from_hubspot_contact_events(app: TestApp) {
    app.create_stages(&["Lead", "Won"]).await;
    let uploaded = upload_script(
        &app,
        "name=hubspot-sync&kind=inbound-transform&filename=hubspot-contact-sync.js",
        "text/javascript",
        HUBSPOT_SYNC,
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let plugin = uploaded.body["id"].as_str().unwrap().to_owned();
    let (import, token) = app.create_active_import("HubSpot contacts").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": plugin, "config": {"stages": {"customer": "Won"}}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let allowed = app
        .patch(
            &format!("/api/v1/webhook-imports/{import}"),
            json!({"create_leads": true}),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);

    // A new contact: its creation and its first properties, out of order.
    let created = app
        .inbound(
            &token,
            "/api/v1/webhook-import/batch-update",
            json!([
                {"objectId": 1201, "subscriptionType": "contact.propertyChange", "occurredAt": 3,
                 "propertyName": "firstname", "propertyValue": "Ada"},
                {"objectId": 1201, "subscriptionType": "contact.creation", "occurredAt": 1},
                {"objectId": 1201, "subscriptionType": "contact.propertyChange", "occurredAt": 2,
                 "propertyName": "email", "propertyValue": "ada@example.com"},
                {"objectId": 1201, "subscriptionType": "contact.propertyChange", "occurredAt": 4,
                 "propertyName": "lifecyclestage", "propertyValue": "lead"},
                {"objectId": 1201, "subscriptionType": "contact.deletion", "occurredAt": 5},
            ]),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let result = &created.body["results"][0];
    assert_eq!(result["status"], "created", "{}", created.text);
    assert_eq!(created.body["results"].as_array().unwrap().len(), 1);
    let uid = result["lead_profile_uid"].as_str().unwrap().to_owned();
    let found = app
        .get(&format!(
            "/api/v1/leads?external_id=1201&import_id={import}"
        ))
        .await;
    let lead = &found.body["data"][0];
    assert_eq!(lead["lead_profile_uid"], uid.as_str());
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["first_name"], "Ada");
    assert_eq!(lead["funnel_stage"]["title"], "Lead");

    // Later changes of the same contact update that lead; "" clears.
    let updated = app
        .inbound(
            &token,
            "/api/v1/webhook-import/batch-update",
            json!([
                {"objectId": 1201, "subscriptionType": "contact.propertyChange", "occurredAt": 6,
                 "propertyName": "firstname", "propertyValue": ""},
                {"objectId": 1201, "subscriptionType": "contact.propertyChange", "occurredAt": 7,
                 "propertyName": "lifecyclestage", "propertyValue": "customer"},
            ]),
        )
        .await;
    assert_eq!(
        updated.body["results"][0]["status"], "updated",
        "{}",
        updated.text
    );
    let lead = app.get(&format!("/api/v1/leads/{uid}")).await.body;
    assert_eq!(lead["first_name"], Value::Null);
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["funnel_stage"]["title"], "Won");
}
