//! Plugins through the API: upload (validated at the door), list with the
//! built-ins, dry runs, deletion rules, and transforms that let a webhook
//! import take any CRM's body, including hostile ones that must fail alone.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard::plugins::builtin::example;

use crate::helpers::{TestApp, TestResponse};
use crate::on_both_backends;

on_both_backends!(
    builtins_are_listed_and_uploads_are_validated,
    dry_runs_report_output_or_the_named_error,
    a_plugin_in_use_cannot_be_deleted,
    a_json_mapper_transform_turns_a_hubspot_array_into_updates,
    an_uploaded_pipedrive_transform_moves_the_deal_lead,
    a_hostile_transform_fails_alone_and_writes_nothing,
);

fn hostile(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../plugins/hostile/{name}.wat",
        env!("CARGO_MANIFEST_DIR")
    );
    let source = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    wat::parse_str(source).expect("valid WAT")
}

pub async fn upload(app: &TestApp, query: &str, module: Vec<u8>) -> TestResponse {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/plugins?{query}")))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/wasm")
        .body(module)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    TestResponse {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        headers: Default::default(),
    }
}

fn pipedrive() -> Vec<u8> {
    example("pipedrive-deal-stage")
        .expect("the example is built")
        .to_vec()
}

async fn builtins_are_listed_and_uploads_are_validated(app: TestApp) {
    let list = app.get("/api/v1/plugins").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let builtin = &list.body["data"][0];
    assert_eq!(builtin["id"], "builtin:json-mapper");
    assert_eq!(builtin["kind"], "inbound-transform");
    assert_eq!(builtin["builtin"], true);
    assert_eq!(
        app.get("/api/v1/plugins/builtin:json-mapper").await.status,
        200
    );
    assert_eq!(app.get("/api/v1/plugins/builtin:nope").await.status, 404);

    let uploaded = upload(
        &app,
        "name=pipedrive&kind=inbound-transform&fuel=1000000",
        pipedrive(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    assert!(uploaded.body["id"].as_str().unwrap().starts_with("plg_"));
    assert_eq!(uploaded.body["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(uploaded.body["limits"]["fuel"], 1_000_000);
    assert_eq!(uploaded.body["limits"]["memory_bytes"], 16 * 1024 * 1024);
    let id = uploaded.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/plugins/{id}")).await.body,
        uploaded.body
    );

    let duplicate = upload(&app, "name=pipedrive&kind=inbound-transform", pipedrive()).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);

    let clamped = upload(
        &app,
        "name=greedy&kind=inbound-transform&memory_bytes=99999999999",
        pipedrive(),
    )
    .await;
    assert_eq!(clamped.status, 201, "{}", clamped.text);
    assert_eq!(clamped.body["limits"]["memory_bytes"], 64 * 1024 * 1024);

    for (query, module, status, message) in [
        (
            "name=wasi&kind=inbound-transform",
            hostile("wasi_import"),
            422,
            "wasi_snapshot_preview1.fd_write",
        ),
        (
            "name=env&kind=inbound-transform",
            hostile("unknown_import"),
            422,
            "env.steal",
        ),
        (
            "name=garbage&kind=inbound-transform",
            b"not wasm at all".to_vec(),
            422,
            "not a WebAssembly binary",
        ),
        (
            "name=wrong-kind&kind=payload-builder",
            pipedrive(),
            422,
            "must export `build_payload",
        ),
        ("kind=inbound-transform", pipedrive(), 400, "name"),
        ("name=x&kind=sideways", pipedrive(), 400, "kind"),
    ] {
        let refused = upload(&app, query, module).await;
        assert_eq!(refused.status, status, "{query}: {}", refused.text);
        assert!(
            refused.error().contains(message),
            "{query}: {}",
            refused.text
        );
    }
    let names: Vec<String> = app.get("/api/v1/plugins").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plugin| plugin["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            "json-mapper",
            "event-only",
            "small",
            "full",
            "template",
            "pipedrive",
            "greedy"
        ]
    );

    let other = app.new_account_key("other").await;
    let other_view = app
        .send_as(
            Some(&other),
            Method::GET,
            &format!("/api/v1/plugins/{id}"),
            None,
        )
        .await;
    assert_eq!(other_view.status, 404);
}

async fn dry_runs_report_output_or_the_named_error(app: TestApp) {
    let mapped = app
        .post(
            "/api/v1/plugins/builtin:json-mapper/run",
            json!({
                "config": {"uid_pointer": "/id", "stage_pointer": "/stage"},
                "input": {"id": "lead_1", "stage": "Enrolled"}
            }),
        )
        .await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);
    assert_eq!(mapped.body["ok"], true);
    assert_eq!(
        mapped.body["output"],
        json!([{"lead_profile_uid": "lead_1", "funnel_stage": "Enrolled"}])
    );
    assert!(mapped.body["fuel_used"].as_u64().unwrap() > 0);
    assert!(mapped.body["duration_ms"].as_f64().unwrap() > 0.0);

    let looping = upload(
        &app,
        "name=loop&kind=inbound-transform&fuel=200000",
        hostile("infinite_loop"),
    )
    .await;
    let id = looping.body["id"].as_str().unwrap();
    let run = app
        .post(&format!("/api/v1/plugins/{id}/run"), json!({"input": {}}))
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.body["ok"], false);
    assert_eq!(run.body["error"], "out of fuel");
    assert_eq!(run.body["fuel_used"], 200_000);

    let logger = upload(
        &app,
        "name=logger&kind=inbound-transform",
        hostile("logger"),
    )
    .await;
    let id = logger.body["id"].as_str().unwrap();
    let logged = app
        .post(
            &format!("/api/v1/plugins/{id}/run"),
            json!({"input": "a=1", "content_type": "text/plain"}),
        )
        .await;
    assert_eq!(logged.body["logs"], json!(["hello from the sandbox"]));
    assert_eq!(
        app.post("/api/v1/plugins/plg_nope/run", json!({"input": {}}))
            .await
            .status,
        404
    );
}

async fn a_plugin_in_use_cannot_be_deleted(app: TestApp) {
    let uploaded = upload(&app, "name=pipedrive&kind=inbound-transform", pipedrive()).await;
    let plugin = uploaded.body["id"].as_str().unwrap().to_owned();
    let (import, _) = app.create_active_import("Pipedrive").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": plugin, "config": {"lead_uid_field": "uid"}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    assert_eq!(attached.body["transform"]["plugin_id"], plugin.as_str());

    let refused = app.delete(&format!("/api/v1/plugins/{plugin}")).await;
    assert_eq!(refused.status, 409);
    assert!(refused.error().contains("Pipedrive"), "{}", refused.text);
    assert_eq!(
        app.delete("/api/v1/plugins/builtin:json-mapper")
            .await
            .status,
        409
    );

    let detached = app
        .delete(&format!("/api/v1/webhook-imports/{import}/transform"))
        .await;
    assert_eq!(detached.status, 200);
    assert_eq!(detached.body["transform"], json!(null));
    assert_eq!(
        app.delete(&format!("/api/v1/plugins/{plugin}"))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/plugins/{plugin}")).await.status,
        404
    );

    let unknown = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": "plg_nope"}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
}

async fn a_json_mapper_transform_turns_a_hubspot_array_into_updates(app: TestApp) {
    app.create_stages(&["Lead", "Marketing Qualified Lead", "Customer"])
        .await;
    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let grace = app.create_lead(json!({"email": "grace@example.com"})).await;
    let (import, token) = app.create_active_import("HubSpot").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": "builtin:json-mapper", "config": {
                "records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"
            }}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);

    let events = json!([
        {"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": ada, "propertyName": "lifecyclestage", "propertyValue": "marketingqualifiedlead"},
        {"eventId": 2, "subscriptionType": "contact.propertyChange", "objectId": grace, "propertyName": "lifecyclestage", "propertyValue": "customer"},
        {"eventId": 3, "subscriptionType": "contact.propertyChange", "objectId": "lead_unknown", "propertyName": "lifecyclestage", "propertyValue": "customer"}
    ]);
    // HubSpot's own names differ from the titles: a mapping bridges them.
    app.put(
        &format!("/api/v1/webhook-imports/{import}/mappings"),
        json!({"mappings": [{"external_name": "marketingqualifiedlead", "funnel_stage_id":
            app.get("/api/v1/funnel-stages").await.body["data"][1]["id"]}]}),
    )
    .await;
    let response = app
        .inbound(&token, "/api/v1/webhook-import/update", events)
        .await;

    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        (
            response.body["updated"].as_i64(),
            response.body["failed"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        response.body["results"][2]["error"],
        "Lead profile not found"
    );
    let lead = app.get(&format!("/api/v1/leads/{ada}")).await;
    assert_eq!(
        lead.body["funnel_stage"]["title"],
        "Marketing Qualified Lead"
    );
    let history = app
        .get(&format!("/api/v1/leads/{grace}/funnel-history"))
        .await;
    assert_eq!(history.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(history.body["data"][2]["source"]["name"], "HubSpot");

    // Any content type reaches the plugin; json-mapper cannot read text.
    let form = app
        .client
        .post(app.url("/api/v1/webhook-import/batch-update"))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("objectId=x&propertyValue=y")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 422);
    let body: Value = form.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().starts_with(
            "Transform failed: plugin error: the value at records_pointer `` is not an array"
        ),
        "{body}"
    );
}

async fn an_uploaded_pipedrive_transform_moves_the_deal_lead(app: TestApp) {
    app.create_stages(&["Inquiry", "Application Started", "Enrolled"])
        .await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let uploaded = upload(&app, "name=pipedrive&kind=inbound-transform", pipedrive()).await;
    let plugin = uploaded.body["id"].as_str().unwrap();
    let (import, token) = app.create_active_import("Pipedrive").await;
    app.put(
        &format!("/api/v1/webhook-imports/{import}/transform"),
        json!({"plugin_id": plugin, "config": {"lead_uid_field": "8f2c_switchyard_uid", "stages": {"3": "Enrolled"}}}),
    )
    .await;

    let webhook = json!({
        "v": 1, "event": "updated.deal",
        "meta": {"action": "updated", "object": "deal", "id": 77, "company_id": 1},
        "current": {"id": 77, "title": "Ada's application", "stage_id": 3, "8f2c_switchyard_uid": lead},
        "previous": {"id": 77, "stage_id": 1}
    });
    let response = app
        .inbound(&token, "/api/v1/webhook-import/update", webhook)
        .await;

    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["results"][0]["funnel_stage"], "Enrolled");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{lead}")).await.body["funnel_stage"]["title"],
        "Enrolled"
    );

    let other_event = json!({"v": 1, "event": "updated.person", "current": {"id": 5}});
    let ignored = app
        .inbound(&token, "/api/v1/webhook-import/update", other_event)
        .await;
    assert_eq!(ignored.status, 200, "{}", ignored.text);
    assert_eq!(ignored.body["results"], json!([]));
}

async fn a_hostile_transform_fails_alone_and_writes_nothing(app: TestApp) {
    app.create_stages(&["Inquiry", "Enrolled"]).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, honest_token) = app.create_active_import("Honest").await;
    let mut hostile_tokens = Vec::new();
    for (name, expected) in [
        ("infinite_loop", "out of fuel"),
        ("memory_bomb", "memory limit exceeded"),
        ("deep_recursion", "stack overflow"),
        ("huge_output", "output too large"),
        ("not_json", "invalid output"),
        ("trap", "trap"),
    ] {
        // The wall-clock backstop at its maximum: on a starved machine the
        // default second can pass before the loop burns its fuel, and the
        // error would then name the time limit instead.
        let uploaded = upload(
            &app,
            &format!("name={name}&kind=inbound-transform&time_limit_ms=10000"),
            hostile(name),
        )
        .await;
        assert_eq!(uploaded.status, 201, "{name}: {}", uploaded.text);
        let (import, token) = app.create_active_import(name).await;
        let attached = app
            .put(
                &format!("/api/v1/webhook-imports/{import}/transform"),
                json!({"plugin_id": uploaded.body["id"]}),
            )
            .await;
        assert_eq!(attached.status, 200, "{}", attached.text);
        hostile_tokens.push((token, expected));
    }

    let app = &app;
    let attacks = hostile_tokens.iter().map(|(token, expected)| async move {
        let response = app
            .inbound(
                token,
                "/api/v1/webhook-import/update",
                json!({"anything": true}),
            )
            .await;
        (response, *expected)
    });
    let honest = (0..10).map(|n| {
        let stage = if n % 2 == 0 { "Enrolled" } else { "Inquiry" };
        app.inbound(
            &honest_token,
            "/api/v1/webhook-import/update",
            json!({"lead_profile_uid": lead, "funnel_stage": stage}),
        )
    });
    let (attacks, honest) = tokio::join!(
        futures::future::join_all(attacks),
        futures::future::join_all(honest)
    );

    for (response, expected) in attacks {
        assert_eq!(response.status, 422, "{}", response.text);
        assert_eq!(response.body["success"], false);
        let error = response.body["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("Transform failed: {expected}")),
            "{error}"
        );
    }
    for response in honest {
        assert_eq!(response.status, 200, "{}", response.text);
    }
    let (from_hostile,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM funnel_events WHERE source_name <> 'Honest' AND source_type = 'webhook_import'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(from_hostile, 0, "a failed transform wrote history");
}
