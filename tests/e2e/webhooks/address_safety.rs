//! The SSRF policy: loopback receivers refused without the allow list,
//! redirects to private addresses and to other hosts refused.

use serde_json::json;

use super::{create_webhook, delivery_detail, wait_for_status};
use crate::helpers::{Backend, TestApp};
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    redirects_to_private_addresses_are_refused,
    redirects_to_another_host_are_refused,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_receivers_are_refused_without_the_allow_list() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.outbound.outbound_allow_cidr = String::new();
    })
    .await;
    let refused = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "local", "url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.error().contains("destination refused"),
        "{}",
        refused.text
    );
    let by_name = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "local", "url": "http://localhost:9/hook", "events": ["lead.created"]}),
        )
        .await;
    // A name is only resolved when sending: the attempt is refused then.
    assert_eq!(by_name.status, 201, "{}", by_name.text);
    let webhook = by_name.body["id"].as_str().unwrap().to_owned();
    app.create_lead(json!({"email": "ada@example.com"})).await;
    let delivery = wait_for_status(&app, &webhook, "failed", 1).await.remove(0);
    let detail = delivery_detail(&app, &webhook, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("destination refused"),
        "{detail}"
    );
    assert_eq!(detail["attempt_count"], 1, "not retried: {detail}");
}

async fn redirects_to_private_addresses_are_refused(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::status(302).header("location", "http://169.254.169.254/latest/meta-data/")
    ]);
    let webhook = create_webhook(
        &app,
        json!({"name": "redirect", "url": receiver.url("/"), "events": ["lead.created"],
               "retry_schedule_seconds": [0]}),
    )
    .await;
    let webhook_id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, webhook_id, "failed", 1)
        .await
        .remove(0);
    let detail = delivery_detail(&app, webhook_id, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("destination refused"),
        "{detail}"
    );
    assert_eq!(
        receiver.received().len(),
        1,
        "no retry of a refused destination"
    );
}

async fn redirects_to_another_host_are_refused(app: TestApp) {
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(307).header("location", &elsewhere.url("/stolen"))]);
    let webhook = create_webhook(
        &app,
        json!({"name": "redirect", "url": receiver.url("/"), "events": ["lead.created"],
               "auth": {"type": "headers", "headers": {"X-Api-Key": "k3y"}},
               "send_secret_header": true, "retry_schedule_seconds": [0]}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.create_lead(json!({"email": "a@example.com"})).await;
    let delivery = wait_for_status(&app, id, "failed", 1).await.remove(0);
    let detail = delivery_detail(&app, id, &delivery).await;
    assert!(
        detail["last_error"]
            .as_str()
            .unwrap()
            .contains("another host"),
        "{detail}"
    );
    assert!(
        elsewhere.received().is_empty(),
        "secrets never follow a redirect elsewhere"
    );
    assert_eq!(receiver.received().len(), 1, "not retried");
}
