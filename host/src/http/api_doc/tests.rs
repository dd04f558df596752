//! The finished document: every operation documents the statuses of how it
//! is reached, with an error body; the upload body is binary; creators
//! link to the operations that take their ids; request schemas carry the
//! limits the handlers enforce.

use serde_json::Value;

use super::document;

/// `(path, method, operation)` of every operation.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if operation.get("responses").is_some() {
                found.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    found
}

fn operation(document: &Value, path: &str, method: &str) -> Value {
    document["paths"][path][method].clone()
}

fn statuses(operation: &Value) -> Vec<String> {
    operation["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .cloned()
        .collect()
}

fn error_schema(operation: &Value, status: &str) -> String {
    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{status} has no JSON error body: {operation}"))
        .to_owned()
}

#[test]
fn admin_operations_document_authentication_body_and_id_rejections() {
    let document = document();
    let create = operation(&document, "/api/v1/webhooks", "post");
    assert_eq!(
        statuses(&create),
        ["201", "400", "401", "413", "415", "422", "500"]
    );
    let read = operation(&document, "/api/v1/leads/{lead_profile_uid}", "get");
    assert_eq!(statuses(&read), ["200", "401", "404", "500"]);
    let list = operation(&document, "/api/v1/leads", "get");
    assert_eq!(statuses(&list), ["200", "400", "401", "500"]);
    for status in ["400", "401", "404", "413", "415", "422", "500"] {
        let update = operation(&document, "/api/v1/webhooks/{webhook_id}", "patch");
        assert_eq!(
            error_schema(&update, status),
            "#/components/schemas/ErrorBody"
        );
    }
    assert_eq!(
        read["responses"]["401"]["headers"]["WWW-Authenticate"]["schema"]["type"],
        "string"
    );
}

#[test]
fn inbound_operations_answer_with_the_inbound_error_body_and_take_any_content_type() {
    let document = document();
    for method in ["post", "patch"] {
        let update = operation(&document, "/api/v1/webhook-import/update", method);
        assert_eq!(
            statuses(&update),
            [
                "200", "400", "401", "404", "413", "422", "429", "500", "503"
            ]
        );
        for status in ["400", "401", "404", "413", "422", "429", "500", "503"] {
            assert_eq!(
                error_schema(&update, status),
                "#/components/schemas/InboundErrorBody"
            );
        }
        assert_eq!(
            update["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"],
            "string"
        );
    }
}

#[test]
fn lead_writes_document_the_cap_on_undelivered_deliveries() {
    let document = document();
    for (path, method) in [
        ("/api/v1/leads", "post"),
        ("/api/v1/leads/{lead_profile_uid}", "patch"),
        ("/api/v1/leads/{lead_profile_uid}", "delete"),
    ] {
        let write = operation(&document, path, method);
        assert!(
            statuses(&write).contains(&"429".to_owned()),
            "{path} {method}"
        );
        assert_eq!(
            error_schema(&write, "429"),
            "#/components/schemas/ErrorBody"
        );
        assert!(
            write["responses"]["429"]["headers"]["Retry-After"].is_object(),
            "{path} {method}: {write}"
        );
    }
    let read = operation(&document, "/api/v1/leads/{lead_profile_uid}", "get");
    assert!(!statuses(&read).contains(&"429".to_owned()));
}

#[test]
fn an_imports_rate_limit_is_documented_with_its_limits() {
    let document = document();
    let schema = &document["components"]["schemas"]["ImportRateLimit"];
    for field in ["requests_per_second", "burst"] {
        assert_eq!(schema["properties"][field]["minimum"], 1, "{schema}");
        assert_eq!(schema["properties"][field]["maximum"], 10000, "{schema}");
    }
    assert_eq!(
        schema["required"],
        serde_json::json!(["requests_per_second"])
    );
}

#[test]
fn probes_need_no_key() {
    let document = document();
    assert_eq!(
        statuses(&operation(&document, "/healthz", "get")),
        ["200", "500"]
    );
    assert_eq!(
        statuses(&operation(&document, "/readyz", "get")),
        ["200", "500", "503"]
    );
}

#[test]
fn every_operation_has_an_id_and_every_error_a_json_body() {
    let document = document();
    let mut ids = Vec::new();
    for (path, method, operation) in operations(&document) {
        let id = operation["operationId"].as_str().expect("an operationId");
        ids.push(id.to_owned());
        assert!(
            statuses(&operation).contains(&"500".to_owned()),
            "{method} {path}"
        );
        for status in statuses(&operation) {
            if status.starts_with('4') || status.starts_with('5') {
                error_schema(&operation, &status);
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids repeat");
}

#[test]
fn the_plugin_upload_body_is_binary_or_text() {
    let document = document();
    let upload = operation(&document, "/api/v1/plugins", "post");
    let content = &upload["requestBody"]["content"];
    for binary in ["application/wasm", "application/octet-stream"] {
        let schema = resolve(&document, &content[binary]["schema"]);
        assert_eq!(
            (schema["type"].as_str(), schema["format"].as_str()),
            (Some("string"), Some("binary")),
            "{binary}: {schema}"
        );
    }
    for text in ["text/javascript", "application/typescript"] {
        let schema = resolve(&document, &content[text]["schema"]);
        assert_eq!(schema["type"], "string", "{text}: {schema}");
    }
    assert_eq!(
        statuses(&upload),
        ["201", "400", "401", "409", "413", "422", "500", "503"]
    );
}

#[test]
fn creators_link_to_the_operations_that_take_their_ids() {
    let document = document();
    let links = &operation(&document, "/api/v1/webhooks", "post")["responses"]["201"]["links"];
    assert_eq!(
        links["get_webhook"]["parameters"]["webhook_id"],
        "$response.body#/id"
    );
    assert_eq!(links["list_deliveries"]["operationId"], "list_deliveries");
    // A delivery's id comes from a test send, not from the webhook.
    assert!(links.get("get_delivery").is_none());
    let test_send =
        &operation(&document, "/api/v1/webhooks/{webhook_id}/test", "post")["responses"]["200"];
    assert_eq!(
        test_send["links"]["get_delivery"]["parameters"],
        serde_json::json!({
            "webhook_id": "$request.path.webhook_id",
            "delivery_id": "$response.body#/message_id",
        })
    );
    let lead = &operation(&document, "/api/v1/leads", "post")["responses"]["201"]["links"];
    assert_eq!(
        lead["lead_funnel_history"]["parameters"]["lead_profile_uid"],
        "$response.body#/lead_profile_uid"
    );
}

#[test]
fn request_schemas_carry_the_limits_the_handlers_enforce() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let lead = &schemas["CreateLead"]["properties"];
    assert_eq!(lead["email"]["maxLength"], 254);
    assert_eq!(lead["notes"]["maxLength"], 10_000);
    assert_eq!(lead["company"]["maxLength"], 500);
    let webhook = &schemas["WebhookInput"]["properties"];
    assert_eq!(webhook["name"]["maxLength"], 200);
    assert_eq!(
        (
            webhook["timeout_seconds"]["minimum"].as_u64(),
            webhook["timeout_seconds"]["maximum"].as_u64()
        ),
        (Some(1), Some(60))
    );
    assert_eq!(webhook["retry_schedule_seconds"]["maxItems"], 20);
    // Creating a webhook needs what changing one does not.
    let new = &schemas["NewWebhook"];
    assert_eq!(
        new["required"],
        serde_json::json!(["name", "url", "events"])
    );
    assert_eq!(new["properties"]["name"]["type"], "string");
    assert_eq!(new["properties"]["events"]["type"], "array");
    assert_eq!(
        operation(&document, "/api/v1/webhooks", "post")["requestBody"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/NewWebhook"
    );
    let update = &schemas["UpdateLead"];
    // Absent is "keep"; null is refused for these two, so they are not nullable.
    assert_eq!(update["properties"]["email"]["type"], "string");
    assert_eq!(update["properties"]["score"]["type"], "integer");
    // Each kind of webhook auth is a named schema of its own.
    assert_eq!(
        schemas["WebhookAuth"]["oneOf"][1]["$ref"],
        "#/components/schemas/BasicAuth"
    );
    assert_eq!(
        schemas["HeadersAuth"]["properties"]["type"]["enum"],
        serde_json::json!(["headers"])
    );
    // Only answers carry the stage's title.
    assert!(schemas["StageMappingItem"]["properties"]["funnel_stage_title"].is_null());
    assert_eq!(
        schemas["StageMappingView"]["properties"]["funnel_stage_title"]["type"],
        "string"
    );
}

/// A schema, following one `$ref`.
fn resolve(document: &Value, schema: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(reference) => document
            .pointer(reference.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => schema.clone(),
    }
}
