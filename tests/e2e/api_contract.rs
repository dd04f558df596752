//! The API answers as its OpenAPI document says: the statuses the fuzzer
//! found undocumented or in the wrong form (a 413 in plain text, a 415 that
//! never came) and the query parameters the document once called path
//! parameters. The whole document is fuzzed by `scripts/test-api`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TEST_MAX_BODY_BYTES, TestApp};

crate::on_both_backends!(
    the_document_is_served_as_json_and_lists_every_status,
    a_preview_takes_no_body_null_or_json_and_nothing_else,
    query_parameters_are_read_from_the_query_string,
);

async fn the_document_is_served_as_json_and_lists_every_status(app: TestApp) {
    let served = app
        .send_as(None, Method::GET, "/api/openapi.json", None)
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.headers["content-type"], "application/json");
    let unauthorised = app
        .send_as(None, Method::GET, "/api/v1/webhooks", None)
        .await;
    assert_eq!(unauthorised.status, 401);
    let operation = &served.body["paths"]["/api/v1/webhooks"]["get"];
    assert_eq!(
        operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}

async fn a_preview_takes_no_body_null_or_json_and_nothing_else(app: TestApp) {
    let webhook = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "preview", "url": "https://crm.example/hook", "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(webhook.status, 201, "{}", webhook.text);
    let preview = format!(
        "/api/v1/webhooks/{}/preview",
        webhook.body["id"].as_str().unwrap()
    );
    for body in ["", "null", "{}"] {
        let answer = app
            .send_raw(Method::POST, &preview, "application/json", body)
            .await;
        assert_eq!(answer.status, 200, "{body:?}: {}", answer.text);
        assert_eq!(answer.body["event"]["event"], "lead.stage_changed");
    }
    let text = app
        .send_raw(Method::POST, &preview, "text/plain", "{}")
        .await;
    assert_eq!(text.status, 415, "{}", text.text);
    assert!(text.error().contains("application/json"));
    let huge = vec![b' '; TEST_MAX_BODY_BYTES + 1];
    let too_large = app
        .send_raw(Method::POST, &preview, "application/json", huge)
        .await;
    assert_eq!(too_large.status, 413, "{}", too_large.text);
    assert!(too_large.error().contains("--max-body-bytes"));
}

async fn query_parameters_are_read_from_the_query_string(app: TestApp) {
    app.create_lead(json!({"email": "ada@example.com"})).await;
    let found = app.get("/api/v1/leads?email=ADA@example.com&limit=1").await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(1));
    let refused = app.get("/api/v1/leads?limit=0").await;
    assert_eq!(refused.status, 400);
    let document = app.get("/api/openapi.json").await.body;
    let parameters: Vec<&Value> = document["paths"]["/api/v1/leads"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .collect();
    assert!(
        parameters
            .iter()
            .all(|parameter| parameter["in"] == "query")
    );
    assert!(
        parameters
            .iter()
            .all(|parameter| parameter["required"] == false)
    );
}
