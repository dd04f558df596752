//! Outbound webhooks end to end: the real server sends to a real local
//! receiver, one file per concern (see the submodules). Signatures are
//! checked with the independent `standardwebhooks` crate. The helpers here
//! are shared by them.

mod address_safety;
mod batch_leases;
mod batching;
mod crud;
mod deactivation;
mod events;
mod formats;
mod resend_and_preview;
mod retries;

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestApp, eventually};

/// Waits (at most 10 s) until Switchyard has deactivated the webhook, and
/// checks the reason it gives.
pub(super) async fn wait_until_deactivated(app: &TestApp, webhook: &str, reason: &str) {
    let view = eventually(Duration::from_secs(10), || async {
        let view = app.get(&format!("/api/v1/webhooks/{webhook}")).await;
        if view.body["active"] == false {
            Ok(view)
        } else {
            Err(format!("still active: {}", view.text))
        }
    })
    .await;
    let given = view.body["disabled_reason"].as_str().unwrap_or_default();
    assert!(given.contains(reason), "{}", view.text);
}

pub(super) async fn create_webhook(app: &TestApp, body: Value) -> Value {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body
}

pub(super) async fn deliveries(app: &TestApp, webhook: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries{query}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["data"].as_array().unwrap().clone()
}

pub(super) async fn delivery_detail(app: &TestApp, webhook: &str, delivery: &str) -> Value {
    let detail = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries/{delivery}"))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    detail.body
}

/// Waits (at most 20 s) until `count` deliveries of the webhook have this
/// status; returns their ids.
pub(super) async fn wait_for_status(
    app: &TestApp,
    webhook: &str,
    status: &str,
    count: usize,
) -> Vec<String> {
    eventually(Duration::from_secs(20), || async {
        let found = deliveries(app, webhook, &format!("?status={status}")).await;
        if found.len() >= count {
            return Ok(found
                .iter()
                .map(|delivery| delivery["id"].as_str().unwrap().to_owned())
                .collect());
        }
        let all = deliveries(app, webhook, "").await;
        Err(format!("expected {count} {status} deliveries: {all:?}"))
    })
    .await
}

/// Verifies the Standard Webhooks signature with the `standardwebhooks`
/// crate, not with Switchyard's code.
pub(super) fn verify_signature(secret: &str, received: &crate::receiver::Received) {
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
