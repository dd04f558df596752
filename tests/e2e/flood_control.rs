//! Inbound flood control (issue 15) over real sockets: an import over its
//! rate limit gets 429 with `Retry-After` and nothing of the request is
//! written, and requests pass again once the wait is over; an account
//! over the cap on undelivered deliveries has its lead writes (inbound
//! and admin) refused with an error naming the cap, writes nothing, and
//! is accepted again once its queue drains. Both are counted in
//! `switchyard_inbound_updates_total`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, eventually, history};
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::ui::{client, get_page, sign_in};

on_both_backends!(
    an_import_over_its_rate_limit_gets_429_and_writes_nothing,
    rate_limits_are_checked_and_can_be_lifted,
    the_import_page_sets_and_lifts_the_rate_limit,
);

/// The cap needs a server started with it.
mod cap {
    use super::an_account_over_its_delivery_cap_is_refused_and_writes_nothing;

    crate::on_both_backends!(backend: an_account_over_its_delivery_cap_is_refused_and_writes_nothing);
}

const SINGLE: &str = "/api/v1/webhook-import/update";
const BATCH: &str = "/api/v1/webhook-import/batch-update";

fn update(lead: &str, stage: &str) -> Value {
    json!({"lead_profile_uid": lead, "funnel_stage": stage})
}

/// The value of one series in this process's `/metrics` (the counters are
/// shared by every test server in the process, so tests compare deltas
/// and only ever expect them to have grown).
async fn counter(app: &TestApp, series: &str) -> f64 {
    let scrape = app.send_as(None, Method::GET, "/metrics", None).await;
    assert_eq!(scrape.status, 200, "{}", scrape.text);
    scrape
        .text
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{}", scrape.text))
}

const RATE_LIMITED: &str =
    "switchyard_inbound_updates_total{outcome=\"rejected\",reason=\"rate_limited\"}";
const OVER_CAP: &str =
    "switchyard_inbound_updates_total{outcome=\"rejected\",reason=\"pending_deliveries_cap\"}";

/// The whole seconds of a 429's `Retry-After`.
fn retry_after(response: &TestResponse) -> u64 {
    let value = response
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {}: {}", response.status, response.text));
    value
        .to_str()
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After is not whole seconds: {value:?}"))
}

/// The lead has no stage and no history: nothing was written for it.
async fn untouched(app: &TestApp, lead: &str) {
    let view = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(view.status, 200, "{}", view.text);
    assert!(view.body["funnel_stage"].is_null(), "{}", view.text);
    assert!(history(app, lead, true).await.is_empty());
}

async fn an_import_over_its_rate_limit_gets_429_and_writes_nothing(app: TestApp) {
    app.create_stages(&["Inquiry", "Enrolled"]).await;
    let mut leads = Vec::new();
    for index in 0..12 {
        leads.push(
            app.create_lead(json!({"email": format!("lead{index}@example.com")}))
                .await,
        );
    }
    let (import, token) = app.create_active_import("HubSpot").await;
    let limited = app
        .patch(
            &format!("/api/v1/webhook-imports/{import}"),
            json!({"rate_limit": {"requests_per_second": 1, "burst": 2}}),
        )
        .await;
    assert_eq!(limited.status, 200, "{}", limited.text);
    assert_eq!(
        limited.body["rate_limit"],
        json!({"requests_per_second": 1, "burst": 2})
    );
    let rejected_before = counter(&app, RATE_LIMITED).await;

    // Each request moves a lead of its own, until one is refused: the
    // burst of 2 passes (more only if this machine is slow enough for
    // the bucket to refill in between), then the limit holds.
    let mut refused = None;
    for (index, lead) in leads.iter().enumerate() {
        let answer = app.inbound(&token, SINGLE, update(lead, "Inquiry")).await;
        match answer.status {
            200 => assert_eq!(answer.body["status"], "updated", "{}", answer.text),
            429 => {
                refused = Some((index, answer));
                break;
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    let (index, answer) = refused.expect("12 requests at once go past 1 per second");
    assert!(index >= 2, "the burst of 2 was refused after {index}");
    assert_eq!(answer.body["success"], false, "{}", answer.text);
    let error = answer.error();
    assert!(
        error.starts_with("Too many requests: this webhook import accepts 1 per second"),
        "{error}"
    );
    assert!(error.contains("Nothing was written"), "{error}");
    let wait = retry_after(&answer);
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // The refused request wrote nothing; the ones before it were applied.
    untouched(&app, &leads[index]).await;
    for lead in &leads[..index] {
        let view = app.get(&format!("/api/v1/leads/{lead}")).await;
        assert_eq!(
            view.body["funnel_stage"]["title"], "Inquiry",
            "{}",
            view.text
        );
    }
    // The batch endpoint shares the bucket, and says so the same way.
    let batch = app
        .inbound(
            &token,
            BATCH,
            json!({"records": [update(&leads[index], "Inquiry")]}),
        )
        .await;
    if batch.status == 429 {
        assert!(
            batch.error().starts_with("Too many requests"),
            "{}",
            batch.text
        );
        retry_after(&batch);
    }

    // After the wait the import accepts requests again.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = app
        .inbound(&token, SINGLE, update(&leads[index], "Enrolled"))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["funnel_stage"], "Enrolled");
    assert!(counter(&app, RATE_LIMITED).await > rejected_before);

    // Another import of the account has a bucket of its own.
    let (_, other) = app.create_active_import("Pipedrive").await;
    let fresh = app.create_lead(json!({"email": "fresh@example.com"})).await;
    let free = app.inbound(&other, SINGLE, update(&fresh, "Inquiry")).await;
    assert_eq!(free.status, 200, "{}", free.text);
}

async fn rate_limits_are_checked_and_can_be_lifted(app: TestApp) {
    app.create_stages(&["Inquiry"]).await;
    let created = app
        .post(
            "/api/v1/webhook-imports",
            json!({"name": "Zapier", "rate_limit": {"requests_per_second": 50}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // The burst defaults to one second's worth.
    assert_eq!(
        created.body["rate_limit"],
        json!({"requests_per_second": 50, "burst": 50})
    );
    let import = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhook-imports/{import}");
    let unlimited = app
        .post("/api/v1/webhook-imports", json!({"name": "Plain"}))
        .await;
    assert!(unlimited.body["rate_limit"].is_null(), "{}", unlimited.text);

    for (body, status, names) in [
        (
            json!({"rate_limit": {"requests_per_second": 0}}),
            422,
            "requests_per_second must be 1 to 10000",
        ),
        (
            json!({"rate_limit": {"requests_per_second": 10001}}),
            422,
            "requests_per_second must be 1 to 10000",
        ),
        (
            json!({"rate_limit": {"requests_per_second": 5, "burst": 0}}),
            422,
            "burst must be 1 to 10000",
        ),
        (
            json!({"rate_limit": {"requests_per_second": -1}}),
            400,
            "requests_per_second",
        ),
        (
            json!({"rate_limit": {"requests_per_second": 1.5}}),
            400,
            "requests_per_second",
        ),
        (
            json!({"rate_limit": {"burst": 5}}),
            400,
            "requests_per_second",
        ),
        (
            json!({"rate_limit": {"requests_per_second": 5, "per": "minute"}}),
            400,
            "per",
        ),
    ] {
        let refused = app.patch(&path, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.text);
        assert!(refused.error().contains(names), "{body}: {}", refused.text);
    }
    // A refused change left the limit as it was.
    let unchanged = app.get(&path).await;
    assert_eq!(unchanged.body["rate_limit"]["requests_per_second"], 50);

    // `null` lifts it; an absent field leaves it alone.
    let renamed = app.patch(&path, json!({"name": "Zapier EU"})).await;
    assert_eq!(renamed.body["rate_limit"]["requests_per_second"], 50);
    let lifted = app.patch(&path, json!({"rate_limit": null})).await;
    assert_eq!(lifted.status, 200, "{}", lifted.text);
    assert!(lifted.body["rate_limit"].is_null(), "{}", lifted.text);

    // Lifted, or never set: every request passes.
    app.post(&format!("{path}/activate"), json!({})).await;
    let token = app
        .post(&format!("{path}/regenerate-token"), json!({}))
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    for _ in 0..20 {
        let answer = app.inbound(&token, SINGLE, update(&lead, "Inquiry")).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
}

async fn an_account_over_its_delivery_cap_is_refused_and_writes_nothing(
    backend: crate::helpers::Backend,
) {
    let app = TestApp::spawn_with(backend, |config| {
        config.flood.max_pending_deliveries_per_account = Some(2);
        config.flood.pending_deliveries_refresh_ms = 50;
    })
    .await;
    app.create_stages(&["Inquiry", "Enrolled"]).await;
    let mut leads = Vec::new();
    for index in 0..3 {
        leads.push(
            app.create_lead(json!({"email": format!("lead{index}@example.com")}))
                .await,
        );
    }
    // Stage changes wait ten minutes for a batch: they stay undelivered
    // for as long as this test runs.
    let receiver = Receiver::start().await;
    let webhook = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "batched", "url": receiver.url("/"), "events": ["lead.stage_changed"],
                   "batch_mode": "any_event", "batch_wait_seconds": 600, "max_items_per_batch": 100}),
        )
        .await;
    assert_eq!(webhook.status, 201, "{}", webhook.text);
    let webhook = webhook.body["id"].as_str().unwrap().to_owned();
    let (_, token) = app.create_active_import("HubSpot").await;
    let rejected_before = counter(&app, OVER_CAP).await;

    for lead in &leads[..2] {
        let moved = app.inbound(&token, SINGLE, update(lead, "Inquiry")).await;
        assert_eq!(moved.status, 200, "{}", moved.text);
    }
    // Once the count has caught up, even a request that would change
    // nothing is refused (so probing writes nothing either).
    let refused = eventually(Duration::from_secs(20), || async {
        let probe = app
            .inbound(&token, SINGLE, update(&leads[0], "Inquiry"))
            .await;
        match probe.status {
            429 => Ok(probe),
            200 => Err(format!("still accepted: {}", probe.text)),
            other => panic!("unexpected {other}: {}", probe.text),
        }
    })
    .await;
    assert_eq!(refused.body["success"], false);
    assert!(retry_after(&refused) >= 1);

    // A change that would make a third delivery is refused, naming the cap.
    let inbound = app
        .inbound(&token, SINGLE, update(&leads[2], "Inquiry"))
        .await;
    assert_eq!(inbound.status, 429, "{}", inbound.text);
    let error = inbound.error();
    assert!(error.contains("this account has 2 waiting"), "{error}");
    assert!(error.contains("at most 2 per account"), "{error}");
    assert!(
        error.contains("--max-pending-deliveries-per-account"),
        "{error}"
    );
    assert!(error.contains("Nothing was written"), "{error}");
    retry_after(&inbound);
    let batch = app
        .inbound(
            &token,
            BATCH,
            json!({"records": [update(&leads[2], "Inquiry")]}),
        )
        .await;
    assert_eq!(batch.status, 429, "{}", batch.text);

    // Admin writes to leads are refused the same way; reads still work.
    let stages = app.get("/api/v1/funnel-stages").await;
    let inquiry = stages.body["data"][0]["id"].as_str().unwrap().to_owned();
    let admin_move = app
        .patch(
            &format!("/api/v1/leads/{}", leads[2]),
            json!({"funnel_stage_id": inquiry}),
        )
        .await;
    assert_eq!(admin_move.status, 429, "{}", admin_move.text);
    assert!(
        admin_move
            .error()
            .contains("--max-pending-deliveries-per-account"),
        "{}",
        admin_move.text
    );
    retry_after(&admin_move);
    let admin_create = app
        .post("/api/v1/leads", json!({"email": "new@example.com"}))
        .await;
    assert_eq!(admin_create.status, 429, "{}", admin_create.text);
    let admin_delete = app.delete(&format!("/api/v1/leads/{}", leads[1])).await;
    assert_eq!(admin_delete.status, 429, "{}", admin_delete.text);

    // Nothing of the refused writes exists.
    untouched(&app, &leads[2]).await;
    let all = app.get("/api/v1/leads").await;
    assert_eq!(
        all.body["data"].as_array().map(Vec::len),
        Some(3),
        "{}",
        all.text
    );
    let queued = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .await;
    assert_eq!(
        queued.body["data"].as_array().map(Vec::len),
        Some(2),
        "{}",
        queued.text
    );
    assert!(counter(&app, OVER_CAP).await >= rejected_before + 2.0);

    // Once the queue drains (here: the webhook and its deliveries are
    // deleted), the account's writes are accepted again.
    let deleted = app.delete(&format!("/api/v1/webhooks/{webhook}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let accepted = eventually(Duration::from_secs(20), || async {
        let retried = app
            .inbound(&token, SINGLE, update(&leads[2], "Inquiry"))
            .await;
        match retried.status {
            200 => Ok(retried),
            429 => Err(format!("still refused: {}", retried.text)),
            other => panic!("unexpected {other}: {}", retried.text),
        }
    })
    .await;
    assert_eq!(accepted.body["status"], "updated", "{}", accepted.text);
}

/// Posts the import page's rate-limit form as the browser would.
async fn post_rate_limit(
    app: &TestApp,
    secret: &str,
    import: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(app.url(&format!("/imports/{import}/rate-limit")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .form(form)
        .send()
        .await
        .expect("post the form")
}

async fn the_import_page_sets_and_lifts_the_rate_limit(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let (import, _) = app.create_active_import("HubSpot").await;
    let page = get_page(&app.address, &format!("/imports/{import}"), &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains(r#"id="requests_per_second""#), "{page}");
    assert!(page.contains("Off (the default)"), "{page}");

    let saved = post_rate_limit(
        &app,
        &secret,
        &import,
        &[("requests_per_second", "5"), ("burst", "")],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(
        stored.body["rate_limit"],
        json!({"requests_per_second": 5, "burst": 5}),
        "{}",
        stored.text
    );

    // A refusal is shown in place with what was typed, and changes nothing.
    let refused = post_rate_limit(
        &app,
        &secret,
        &import,
        &[("requests_per_second", "0"), ("burst", "3")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("body");
    assert!(html.contains(r#"id="rate-limit-error""#), "{html}");
    assert!(html.contains("must be 1 to 10000"), "{html}");
    assert!(html.contains(r#"value="0""#), "{html}");
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(stored.body["rate_limit"]["requests_per_second"], 5);

    let lifted = post_rate_limit(
        &app,
        &secret,
        &import,
        &[("requests_per_second", ""), ("burst", "")],
    )
    .await;
    assert_eq!(lifted.status(), 303);
    let stored = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert!(stored.body["rate_limit"].is_null(), "{}", stored.text);
}
