//! A batch whose sending outlasts the delivery lease is still sent once:
//! the lease of a batch in flight is not taken over by another claim.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::receiver::{Receiver, Reply};

use super::{create_webhook, wait_for_status};

crate::on_both_backends!(backend: batches_slower_than_the_lease_are_each_sent_once);

async fn batches_slower_than_the_lease_are_each_sent_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.outbound.delivery_lease_seconds = 2;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script((0..3).map(|_| Reply::status(200).after(Duration::from_millis(1_500))));
    let webhook = create_webhook(
        &app,
        json!({"name": "slow batches", "url": receiver.url("/"), "events": ["lead.created"],
               "batch_mode": "any_event", "batch_wait_seconds": 1, "max_items_per_batch": 2}),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    for n in 0..6 {
        app.create_lead(json!({"email": format!("lead{n}@example.com")}))
            .await;
    }
    wait_for_status(&app, id, "succeeded", 9).await;
    receiver
        .assert_no_more_than(3, Duration::from_millis(2_500))
        .await;
    let received = receiver.received();
    let mut items: Vec<String> = Vec::new();
    for request in &received {
        let batch = request.json();
        let batch = batch.as_array().unwrap();
        assert!(!batch.is_empty(), "{backend:?}: an empty batch was sent");
        items.extend(
            batch
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
    }
    let count = items.len();
    items.sort();
    items.dedup();
    assert_eq!(
        (items.len(), count),
        (6, 6),
        "{backend:?}: each message once"
    );
}
