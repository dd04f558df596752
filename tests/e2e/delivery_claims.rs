//! Claims of a lone webhook. With one webhook scheduled, PostgreSQL claims
//! in one statement that works out the webhook's share itself
//! (`storage::deliveries::claims`), without the fair-share code that
//! serves several: the webhook's cap on deliveries in flight
//! (`max_in_flight`) must hold all the same, and every message go out
//! once.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};

on_both_backends!(a_lone_webhook_never_has_more_than_its_cap_in_flight);

const CAP: usize = 3;
const MESSAGES: usize = 12;
/// How long the receiver takes to answer each request.
const ANSWER: Duration = Duration::from_millis(600);

async fn a_lone_webhook_never_has_more_than_its_cap_in_flight(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script((0..MESSAGES).map(|_| Reply::status(200).after(ANSWER)));
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "capped", "url": receiver.url("/hook"), "events": ["lead.created"],
                   "max_in_flight": CAP}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    for n in 0..MESSAGES {
        app.create_lead(json!({ "email": format!("lead{n}@example.com") }))
            .await;
    }

    let received = receiver.wait_for(MESSAGES).await;
    receiver
        .assert_no_more_than(MESSAGES, Duration::from_millis(500))
        .await;
    let ids: HashSet<&str> = received
        .iter()
        .map(|request| request.header("webhook-id"))
        .collect();
    assert_eq!(ids.len(), MESSAGES, "each message once");
    // A request arrives only once one of the cap's answers came back: no
    // window shorter than an answer sees more than the cap arrive.
    let mut arrivals: Vec<_> = received.iter().map(|request| request.at).collect();
    arrivals.sort_unstable();
    let window = ANSWER - Duration::from_millis(100);
    for (n, first) in arrivals.iter().enumerate() {
        let within = arrivals[n..]
            .iter()
            .take_while(|at| at.duration_since(*first) < window)
            .count();
        assert!(
            within <= CAP,
            "{within} requests arrived within {window:?} with a cap of {CAP}"
        );
    }
    // And the cap was used, not one at a time.
    let took = arrivals[MESSAGES - 1].duration_since(arrivals[0]);
    assert!(
        took < ANSWER * (MESSAGES as u32 - 1),
        "{MESSAGES} messages took {took:?}: sent one at a time"
    );
}
