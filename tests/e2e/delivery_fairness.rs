//! Fair delivery: one webhook's receiver hangs until the webhook's timeout
//! while another's answers at once, both under a steady stream of events.
//! The hanging webhook holds at most its cap of the worker's slots
//! (`max_in_flight`, 64 by default), so the healthy webhook's deliveries
//! go out at once (p99 under 1 s, a correctness bound set generously),
//! and the hanging one still gets its retries.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};

on_both_backends!(backend: a_hanging_receiver_does_not_hold_up_the_other_webhooks);

/// The worker's slots in this test: twice the default cap, so that without
/// the cap the hanging webhook alone would hold them all.
const SLOTS: usize = 128;
/// Events per second, for how long.
const RATE: u32 = 30;
const LOAD: Duration = Duration::from_secs(5);

async fn create_webhook(app: &TestApp, body: Value) -> String {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body["id"].as_str().expect("webhook id").to_owned()
}

/// The value at `quantile` (0 to 1) of sorted durations.
fn quantile(sorted: &[Duration], quantile: f64) -> Duration {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn a_hanging_receiver_does_not_hold_up_the_other_webhooks(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.outbound.delivery_concurrency = SLOTS;
    })
    .await;
    let hanging = Receiver::start().await;
    // Answers long after the webhook's one-second timeout, every time.
    hanging.script((0..5_000).map(|_| Reply::status(200).after(Duration::from_secs(5))));
    let healthy = Receiver::start().await;
    let stuck = create_webhook(
        &app,
        json!({"name": "hangs", "url": hanging.url("/hook"), "events": ["lead.created"],
               "timeout_seconds": 1, "retry_schedule_seconds": [1, 1, 1]}),
    )
    .await;
    let fine = create_webhook(
        &app,
        json!({"name": "fine", "url": healthy.url("/hook"), "events": ["lead.created"]}),
    )
    .await;
    let shown = app.get(&format!("/api/v1/webhooks/{stuck}")).await;
    assert_eq!(shown.body["max_in_flight"], 64, "{}", shown.text);

    // A steady stream of new leads: each is an event for both webhooks.
    let mut created_at: HashMap<String, Instant> = HashMap::new();
    let mut every = tokio::time::interval(Duration::from_secs(1) / RATE);
    let count = (RATE * LOAD.as_secs() as u32) as usize;
    for n in 0..count {
        every.tick().await;
        let email = format!("lead{n}@example.com");
        created_at.insert(email.clone(), Instant::now());
        app.create_lead(json!({ "email": email })).await;
    }

    let received = healthy.wait_for(count).await;
    let mut latencies: Vec<Duration> = received
        .iter()
        .map(|request| {
            let payload = request.json();
            let email = payload["data"]["email"].as_str().expect("email");
            request.at.duration_since(created_at[email])
        })
        .collect();
    latencies.sort_unstable();
    let (p50, p99) = (quantile(&latencies, 0.5), quantile(&latencies, 0.99));
    eprintln!(
        "healthy webhook, {count} deliveries beside a hanging one: p50 {p50:?}, p99 {p99:?}, max {:?}",
        latencies[latencies.len() - 1]
    );
    assert!(
        p99 < Duration::from_secs(1),
        "the healthy webhook waited behind the hanging one: p99 {p99:?}"
    );

    // The hanging webhook got its retries: messages tried more than once.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut tries: HashMap<String, usize> = HashMap::new();
        for request in hanging.received() {
            *tries
                .entry(request.header("webhook-id").to_owned())
                .or_default() += 1;
        }
        if tries.values().any(|n| *n >= 2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no retry reached the hanging receiver: {} requests",
            hanging.received().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = app
        .get(&format!("/api/v1/webhooks/{stuck}/deliveries?limit=200"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let retried = page.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|delivery| delivery["attempt_count"].as_i64().unwrap_or(0) >= 2)
        .count();
    assert!(retried > 0, "{}", page.text);

    // The cap is settable per webhook, within its bounds.
    let raised = app
        .patch(
            &format!("/api/v1/webhooks/{fine}"),
            json!({"max_in_flight": 128}),
        )
        .await;
    assert_eq!(raised.status, 200, "{}", raised.text);
    assert_eq!(raised.body["max_in_flight"], 128);
    let refused = app
        .patch(
            &format!("/api/v1/webhooks/{fine}"),
            json!({"max_in_flight": 0}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused
            .error()
            .contains("max_in_flight must be between 1 and 1000"),
        "{}",
        refused.text
    );
}
