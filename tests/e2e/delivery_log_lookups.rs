//! The delivery log's two indexed filters (migration
//! `20261201600001_delivery_log_lookups`): a lead's deliveries, found
//! through the lead's events, and failed deliveries, read from a partial
//! index by the account-wide log, a webhook's page and the API. Each must
//! find exactly what the old table walk found: every delivery of the lead
//! on every webhook and of every event, and the failed ones of this
//! account only.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually};
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};
use crate::ui::{get_page, sign_in};

on_both_backends!(a_leads_deliveries_and_the_failed_ones_are_found_exactly);

async fn create_webhook(app: &TestApp, body: Value) -> String {
    let created = app.post("/api/v1/webhooks", body).await;
    assert_eq!(created.status, 201, "create webhook: {}", created.text);
    created.body["id"].as_str().expect("webhook id").to_owned()
}

/// A delivery as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listed {
    id: String,
    lead: String,
    status: String,
    event: String,
}

/// Every delivery of `webhook` (API, all pages of 2, optionally of one
/// status).
async fn api_deliveries(app: &TestApp, webhook: &str, status: Option<&str>) -> BTreeSet<Listed> {
    let mut found = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/webhooks/{webhook}/deliveries?limit=2");
        if let Some(status) = status {
            path.push_str(&format!("&status={status}"));
        }
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        for delivery in page.body["data"].as_array().expect("data") {
            let text = |field: &str| delivery[field].as_str().unwrap_or_default().to_owned();
            found.insert(Listed {
                id: text("id"),
                lead: text("lead_profile_uid"),
                status: text("status"),
                event: text("event"),
            });
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

/// The delivery ids a page of the log links to.
fn linked_deliveries(html: &str) -> BTreeSet<String> {
    html.split("/deliveries/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| id.starts_with("msg_"))
        .map(str::to_owned)
        .collect()
}

async fn a_leads_deliveries_and_the_failed_ones_are_found_exactly(app: TestApp) {
    let healthy = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.script((0..100).map(|_| Reply::status(500)));
    let ok = create_webhook(
        &app,
        json!({"name": "ok", "url": healthy.url("/hook"),
               "events": ["lead.created", "lead.updated"]}),
    )
    .await;
    let bad = create_webhook(
        &app,
        json!({"name": "bad", "url": failing.url("/hook"), "events": ["lead.created"],
               "retry_schedule_seconds": []}),
    )
    .await;
    // Another account's failed delivery, which this account never sees.
    let other_key = app.new_account_key("other").await;
    let other_webhook = app
        .send_as(
            Some(&other_key),
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(json!({"name": "other", "url": failing.url("/other"),
                        "events": ["lead.created"], "retry_schedule_seconds": []})),
        )
        .await;
    assert_eq!(other_webhook.status, 201, "{}", other_webhook.text);
    let other_lead = app
        .send_as(
            Some(&other_key),
            reqwest::Method::POST,
            "/api/v1/leads",
            Some(json!({"email": "other@example.com"})),
        )
        .await;
    assert_eq!(other_lead.status, 201, "{}", other_lead.text);

    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let bob = app.create_lead(json!({"email": "bob@example.com"})).await;
    let updated = app
        .patch(
            &format!("/api/v1/leads/{ada}"),
            json!({"first_name": "Ada"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    // ok: ada created, bob created, ada updated; bad: ada and bob created,
    // failed at once; the other account's one, failed.
    healthy.wait_for(3).await;
    failing.wait_for(3).await;
    let everything = eventually(Duration::from_secs(20), || async {
        let mut all = api_deliveries(&app, &ok, None).await;
        all.extend(api_deliveries(&app, &bad, None).await);
        let settled = all.len() == 5 && all.iter().all(|delivery| delivery.status != "pending");
        if settled {
            Ok(all)
        } else {
            Err(format!("{all:?}"))
        }
    })
    .await;
    let ids_where = |keep: &dyn Fn(&Listed) -> bool| -> BTreeSet<String> {
        everything
            .iter()
            .filter(|delivery| keep(delivery))
            .map(|delivery| delivery.id.clone())
            .collect()
    };
    let adas = ids_where(&|d| d.lead == ada);
    let failed = ids_where(&|d| d.status == "failed");
    assert_eq!(adas.len(), 3, "{everything:?}");
    assert_eq!(failed.len(), 2, "{everything:?}");

    // The API's failed filter (the partial index), paged by two.
    let api_failed: BTreeSet<String> = api_deliveries(&app, &bad, Some("failed"))
        .await
        .into_iter()
        .map(|delivery| delivery.id)
        .collect();
    assert_eq!(api_failed, failed);
    assert!(api_deliveries(&app, &ok, Some("failed")).await.is_empty());

    let secret = sign_in(&app.address, &app.api_key).await;
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (format!("lead={ada}"), adas.clone()),
        (format!("lead={bob}"), ids_where(&|d| d.lead == bob)),
        (
            format!("lead={ada}&webhook={bad}"),
            ids_where(&|d| d.lead == ada && d.status == "failed"),
        ),
        (
            format!("lead={ada}&status=succeeded"),
            ids_where(&|d| d.lead == ada && d.status == "succeeded"),
        ),
        (
            format!("lead={ada}&event=lead.updated"),
            ids_where(&|d| d.lead == ada && d.event == "lead.updated"),
        ),
        ("lead=lead_nobody".to_owned(), BTreeSet::new()),
        ("status=failed".to_owned(), failed.clone()),
        (format!("status=failed&webhook={bad}"), failed.clone()),
        (format!("status=failed&webhook={ok}"), BTreeSet::new()),
        (
            "status=failed&event=lead.created".to_owned(),
            failed.clone(),
        ),
        (
            "status=failed&event=lead.updated".to_owned(),
            BTreeSet::new(),
        ),
        (
            format!("status=failed&lead={bob}"),
            ids_where(&|d| d.lead == bob && d.status == "failed"),
        ),
    ];
    for (query, want) in cases {
        let page = get_page(&app.address, &format!("/deliveries?{query}"), &secret).await;
        assert_eq!(page.status(), 200, "{query}");
        let html = page.text().await.expect("body");
        assert_eq!(linked_deliveries(&html), want, "{query}");
    }
    // Each case found something somewhere: the lead filter really joins.
    assert_eq!(
        ids_where(&|d| d.lead == ada && d.event == "lead.updated").len(),
        1
    );
}
