//! Webhook imports through the admin API: tokens shown once and stored
//! hashed, activation, regeneration, mappings, endpoint URLs.

use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_new_import_is_inactive_and_shows_its_token_once,
    rename_list_and_delete,
    deactivating_keeps_every_setting,
    regenerating_the_token_stops_the_old_one_at_once,
    mappings_are_replaced_whole_and_validated,
);

const SINGLE: &str = "/api/v1/webhook-import/update";

fn single_update(lead: &str, stage: &str) -> serde_json::Value {
    json!({"lead_profile_uid": lead, "funnel_stage": stage})
}

async fn a_new_import_is_inactive_and_shows_its_token_once(app: TestApp) {
    let created = app
        .post("/api/v1/webhook-imports", json!({"name": "HubSpot"}))
        .await;

    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["active"], false);
    assert_eq!(created.body["name"], "HubSpot");
    let token = created.body["token"].as_str().unwrap();
    assert!(token.starts_with("sy_import_"));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.body["endpoints"],
        json!({
            "update": format!("{}/api/v1/webhook-import/update", app.address),
            "batch_update": format!("{}/api/v1/webhook-import/batch-update", app.address),
        })
    );

    let read = app.get(&format!("/api/v1/webhook-imports/{id}")).await;
    assert_eq!(read.status, 200);
    assert!(
        read.body.get("token").is_none(),
        "the token is shown only once"
    );

    let stages = app.create_stages(&["Inquiry"]).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let refused = app
        .inbound(token, SINGLE, single_update(&lead, "Inquiry"))
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.body,
        json!({"success": false, "error": "Invalid or inactive webhook import token"})
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{lead}")).await.body["funnel_stage"],
        json!(null)
    );
    let _ = stages;

    let (digest_rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_imports WHERE token_digest = $1")
            .bind(token)
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(digest_rows, 0, "the token must not be stored in plain text");
}

async fn rename_list_and_delete(app: TestApp) {
    let (id, token) = app.create_active_import("Pipedrive").await;
    app.create_active_import("Zapier").await;

    let renamed = app
        .patch(
            &format!("/api/v1/webhook-imports/{id}"),
            json!({"name": " Pipedrive EU "}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Pipedrive EU");
    let blank = app
        .patch(
            &format!("/api/v1/webhook-imports/{id}"),
            json!({"name": " "}),
        )
        .await;
    assert_eq!(blank.status, 422);

    let list = app.get("/api/v1/webhook-imports").await;
    let names: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Pipedrive EU", "Zapier"]);

    assert_eq!(
        app.delete(&format!("/api/v1/webhook-imports/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/webhook-imports/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete(&format!("/api/v1/webhook-imports/{id}"))
            .await
            .status,
        404
    );
    let refused = app
        .inbound(&token, SINGLE, single_update("lead_x", "Inquiry"))
        .await;
    assert_eq!(refused.status, 401);

    let other = app.new_account_key("other").await;
    let list_other = app
        .send_as(
            Some(&other),
            reqwest::Method::GET,
            "/api/v1/webhook-imports",
            None,
        )
        .await;
    assert_eq!(list_other.body["data"], json!([]));
}

async fn deactivating_keeps_every_setting(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Enrolled"]).await;
    let (id, token) = app.create_active_import("CRM").await;
    let mapped = app
        .put(
            &format!("/api/v1/webhook-imports/{id}/mappings"),
            json!({"mappings": [{"external_name": "won", "funnel_stage_id": stages[1]}]}),
        )
        .await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;

    let deactivated = app
        .post(
            &format!("/api/v1/webhook-imports/{id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(
        app.inbound(&token, SINGLE, single_update(&lead, "won"))
            .await
            .status,
        401
    );

    let activated = app
        .post(&format!("/api/v1/webhook-imports/{id}/activate"), json!({}))
        .await;
    assert_eq!(activated.body["active"], true);
    assert_eq!(activated.body["name"], "CRM");
    let applied = app
        .inbound(&token, SINGLE, single_update(&lead, "won"))
        .await;
    assert_eq!(applied.status, 200, "{}", applied.text);
    assert_eq!(applied.body["funnel_stage"], "Enrolled");
}

async fn regenerating_the_token_stops_the_old_one_at_once(app: TestApp) {
    app.create_stages(&["Inquiry", "Enrolled"]).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (id, old_token) = app.create_active_import("CRM").await;

    // Requests with the old token race the regeneration; whatever they got
    // before it, every request sent after it is refused.
    let racing: Vec<_> = (0..10)
        .map(|n| {
            let stage = if n % 2 == 0 { "Inquiry" } else { "Enrolled" };
            app.inbound(&old_token, SINGLE, single_update(&lead, stage))
        })
        .collect();
    let regenerate_path = format!("/api/v1/webhook-imports/{id}/regenerate-token");
    let regenerate = app.post(&regenerate_path, json!({}));
    let (racing, regenerated) = tokio::join!(futures::future::join_all(racing), regenerate);
    for response in racing {
        assert!(
            response.status == 200 || response.status == 401,
            "{}",
            response.text
        );
    }
    assert_eq!(regenerated.status, 200, "{}", regenerated.text);
    let new_token = regenerated.body["token"].as_str().unwrap();
    assert_ne!(new_token, old_token);

    let old = app
        .inbound(&old_token, SINGLE, single_update(&lead, "Inquiry"))
        .await;
    assert_eq!(old.status, 401);
    assert_eq!(old.error(), "Invalid or inactive webhook import token");
    let new = app
        .inbound(new_token, SINGLE, single_update(&lead, "Enrolled"))
        .await;
    assert_eq!(new.status, 200, "{}", new.text);
}

async fn mappings_are_replaced_whole_and_validated(app: TestApp) {
    let stages = app
        .create_stages(&["Inquiry", "Application Started", "Enrolled"])
        .await;
    let (id, _) = app.create_active_import("CRM").await;
    let path = format!("/api/v1/webhook-imports/{id}/mappings");

    let first = app
        .put(
            &path,
            json!({"mappings": [
                {"external_name": "new_lead", "funnel_stage_id": stages[0]},
                {"external_name": "applied", "funnel_stage_id": stages[1]},
            ]}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.body["data"][1]["funnel_stage_title"],
        "Application Started"
    );

    let replaced = app
        .put(
            &path,
            json!({"mappings": [{"external_name": "won", "funnel_stage_id": stages[2]}]}),
        )
        .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(
        app.get(&path).await.body["data"],
        json!([{"external_name": "won", "funnel_stage_id": stages[2], "funnel_stage_title": "Enrolled"}])
    );

    let duplicate = app
        .put(
            &path,
            json!({"mappings": [
                {"external_name": "Closed Won", "funnel_stage_id": stages[2]},
                {"external_name": "closed_won", "funnel_stage_id": stages[1]},
            ]}),
        )
        .await;
    assert_eq!(duplicate.status, 422);
    assert!(
        duplicate.error().contains("duplicates mappings[0]"),
        "{}",
        duplicate.text
    );

    let unknown = app
        .put(
            &path,
            json!({"mappings": [{"external_name": "x", "funnel_stage_id": "stage_nope"}]}),
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.error().contains("stage_nope"));
    assert_eq!(
        app.get(&path).await.body["data"][0]["external_name"],
        "won",
        "refused replacements change nothing"
    );

    assert_eq!(
        app.get("/api/v1/webhook-imports/imp_nope/mappings")
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_urls_use_the_configured_public_url() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.public_url = Some("https://hooks.example.com/".into());
    })
    .await;
    let created = app
        .post("/api/v1/webhook-imports", json!({"name": "CRM"}))
        .await;
    assert_eq!(
        created.body["endpoints"]["batch_update"],
        "https://hooks.example.com/api/v1/webhook-import/batch-update"
    );
}
