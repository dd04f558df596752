//! Trying an import's transform on a sample request: `POST
//! .../transform/test` runs it in the sandbox and answers the records,
//! what each would do, and the plugin's logs or named error, writing
//! nothing; attaching with a `sample` refuses a transform that fails on
//! it. The inbound twin of a webhook's payload preview.

use serde_json::{Value, json};

use switchyard::plugins::builtin::example;

use crate::helpers::{TestApp, TestResponse};
use crate::on_both_backends;
use crate::plugins::upload;

on_both_backends!(
    a_transform_is_tried_on_a_sample_and_nothing_is_written,
    attaching_with_a_sample_refuses_a_transform_that_fails_on_it,
);

fn mapper_config() -> Value {
    json!({"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"})
}

async fn try_transform(app: &TestApp, import: &str, request: Value) -> TestResponse {
    app.post(
        &format!("/api/v1/webhook-imports/{import}/transform/test"),
        request,
    )
    .await
}

async fn a_transform_is_tried_on_a_sample_and_nothing_is_written(app: TestApp) {
    let stages = app
        .create_stages(&["Lead", "Marketing Qualified Lead", "Customer"])
        .await;
    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import, _) = app.create_active_import("HubSpot").await;
    let mapped = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/mappings"),
            json!({"mappings": [{"external_name": "marketingqualifiedlead", "funnel_stage_id": stages[1]}]}),
        )
        .await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);
    let sample = json!({"body": [
        {"objectId": ada, "propertyValue": "marketingqualifiedlead"},
        {"objectId": ada, "propertyValue": "customer"},
        {"objectId": ada, "propertyValue": "churned"}
    ]});

    // Nothing attached and no plugin named: nothing to try.
    let nothing = try_transform(&app, &import, json!({"sample": sample})).await;
    assert_eq!(nothing.status, 409, "{}", nothing.text);
    assert!(nothing.error().contains("plugin_id"), "{}", nothing.text);

    let tried = try_transform(
        &app,
        &import,
        json!({"plugin_id": "builtin:json-mapper", "config": mapper_config(), "sample": sample}),
    )
    .await;
    assert_eq!(tried.status, 200, "{}", tried.text);
    assert_eq!(tried.body["ok"], true, "{}", tried.text);
    assert_eq!(
        tried.body["records"][0],
        json!({"lead_profile_uid": ada, "funnel_stage": "marketingqualifiedlead"})
    );
    assert!(tried.body["fuel_used"].as_u64().unwrap() > 0);
    // Each record is checked against the import's mappings and the funnel.
    let checks = tried.body["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0]["funnel_stage"], "Marketing Qualified Lead");
    assert_eq!(checks[0]["lead_profile_uid"], ada.as_str());
    assert_eq!(checks[1]["funnel_stage"], "Customer");
    assert_eq!(checks[2]["error"], "Invalid funnel stage");
    assert!(checks[0].get("error").is_none(), "{}", tried.text);

    // Nothing was written: no transform attached, the lead has not moved.
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(stored.body["transform"], Value::Null);
    let lead = app.get(&format!("/api/v1/leads/{ada}")).await;
    assert_eq!(lead.body["funnel_stage"], Value::Null, "{}", lead.text);
    let history = app
        .get(&format!("/api/v1/leads/{ada}/funnel-history"))
        .await;
    assert_eq!(history.body["data"], json!([]));

    // What the plugin does wrong is in the answer, named.
    let bad_config = try_transform(
        &app,
        &import,
        json!({"plugin_id": "builtin:json-mapper", "config": {"uid": "/objectId"}, "sample": sample}),
    )
    .await;
    assert_eq!(bad_config.status, 200, "{}", bad_config.text);
    assert_eq!(bad_config.body["ok"], false);
    let error = bad_config.body["error"].as_str().unwrap();
    assert!(
        error.starts_with("plugin error:") && error.contains("uid"),
        "{error}"
    );
    assert!(bad_config.body.get("records").is_none());
    assert_eq!(bad_config.body["checks"], json!([]));
    // A form body reaches the plugin as text, as it would from a CRM.
    let form = try_transform(
        &app,
        &import,
        json!({"plugin_id": "builtin:json-mapper", "config": mapper_config(),
               "sample": {"body": "objectId=x&propertyValue=y",
                          "content_type": "application/x-www-form-urlencoded"}}),
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.body["error"]
            .as_str()
            .unwrap()
            .starts_with("plugin error: the value at records_pointer `` is not an array"),
        "{}",
        form.text
    );

    // What cannot be tried at all is refused.
    let builder = try_transform(
        &app,
        &import,
        json!({"plugin_id": "builtin:small", "sample": sample}),
    )
    .await;
    assert_eq!(builder.status, 422, "{}", builder.text);
    let unknown = try_transform(
        &app,
        "imp_00000000000000000000000000",
        json!({"plugin_id": "builtin:json-mapper", "sample": sample}),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let no_sample = try_transform(&app, &import, json!({"plugin_id": "builtin:json-mapper"})).await;
    assert_eq!(no_sample.status, 400, "{}", no_sample.text);
}

async fn attaching_with_a_sample_refuses_a_transform_that_fails_on_it(app: TestApp) {
    app.create_stages(&["Inquiry", "Enrolled"]).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import, token) = app.create_active_import("Pipedrive").await;
    let module = example("pipedrive-deal-stage").expect("the example is built");
    let uploaded = upload(
        &app,
        "name=pipedrive&kind=inbound-transform",
        module.to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text);
    let plugin = uploaded.body["id"].as_str().unwrap().to_owned();
    let deal = json!({"v": 1, "event": "updated.deal",
                      "current": {"id": 77, "stage_id": 3, "sy_uid": lead},
                      "previous": {"id": 77, "stage_id": 1}});
    let transform = format!("/api/v1/webhook-imports/{import}/transform");

    // A config the plugin cannot read is caught before any CRM request:
    // the transform is not attached.
    let refused = app
        .put(
            &transform,
            json!({"plugin_id": plugin, "config": {"stages": {"3": "Enrolled"}},
                   "sample": {"body": deal}}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused
            .error()
            .starts_with("Transform failed on the sample: plugin error:")
            && refused.error().contains("lead_uid_field"),
        "{}",
        refused.text
    );
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(stored.body["transform"], Value::Null, "nothing attached");
    // So is a sample the plugin fails on.
    let no_deal = app
        .put(
            &transform,
            json!({"plugin_id": plugin, "config": {"lead_uid_field": "sy_uid"},
                   "sample": {"body": {"event": "updated.deal"}}}),
        )
        .await;
    assert_eq!(no_deal.status, 422, "{}", no_deal.text);
    assert_eq!(
        no_deal.error(),
        "Transform failed on the sample: plugin error: the webhook has no `current` deal"
    );

    let config = json!({"lead_uid_field": "sy_uid", "stages": {"3": "Enrolled"}});
    let attached = app
        .put(
            &transform,
            json!({"plugin_id": plugin, "config": config, "sample": {"body": deal}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    assert_eq!(attached.body["transform"]["plugin_id"], plugin.as_str());
    assert_eq!(attached.body["transform"]["config"], config);
    let stored = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(
        stored.body["funnel_stage"],
        Value::Null,
        "the sample moved no lead"
    );

    // Without a plugin_id the attached transform is tried, with its config
    // or the one given; what the plugin logs comes back.
    let tried = try_transform(&app, &import, json!({"sample": {"body": deal}})).await;
    assert_eq!(tried.status, 200, "{}", tried.text);
    assert_eq!(tried.body["ok"], true, "{}", tried.text);
    assert_eq!(tried.body["checks"][0]["funnel_stage"], "Enrolled");
    let person = try_transform(
        &app,
        &import,
        json!({"sample": {"body": {"event": "updated.person"}}}),
    )
    .await;
    assert_eq!(person.body["records"], json!([]), "{}", person.text);
    assert_eq!(
        person.body["logs"],
        json!(["ignoring a `updated.person` event"])
    );
    let other_field = try_transform(
        &app,
        &import,
        json!({"config": {"lead_uid_field": "other"}, "sample": {"body": deal}}),
    )
    .await;
    assert_eq!(
        other_field.body["records"],
        json!([]),
        "{}",
        other_field.text
    );
    assert_eq!(
        other_field.body["logs"],
        json!(["the deal has no Switchyard lead id; skipped"])
    );

    // The attached transform does on the real endpoint what it did on the
    // sample.
    let moved = app
        .inbound(&token, "/api/v1/webhook-import/update", deal)
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["results"][0]["funnel_stage"], "Enrolled");
}
