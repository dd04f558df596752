//! The inbound funnel import contract, word for word: single and batch
//! updates, stage matching, backfill and archive rules, error messages,
//! durability of what was answered 200, concurrency on one lead.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, events, history};
use crate::on_both_backends;

on_both_backends!(
    single_update_moves_the_lead_and_repeating_it_is_a_no_op,
    stage_names_match_after_normalising_and_mappings_come_first,
    forward_backfills_and_backward_archives,
    a_backward_move_to_a_stage_without_an_active_event_gives_it_one,
    auth_errors_use_the_contract_messages,
    bad_single_requests_get_named_errors_and_write_nothing,
    batch_applies_each_record_on_its_own,
    bad_batches_are_refused_whole,
    stage_changes_are_recorded_for_outbound_delivery,
    concurrent_updates_to_one_lead_leave_a_serial_history,
    funnel_and_mapping_changes_apply_at_once_on_every_server,
);

const SINGLE: &str = "/api/v1/webhook-import/update";
const BATCH: &str = "/api/v1/webhook-import/batch-update";
const FUNNEL: [&str; 4] = [
    "Inquiry",
    "Application Started",
    "Application Complete",
    "Enrolled",
];

fn update(lead: &str, stage: &str) -> Value {
    json!({"lead_profile_uid": lead, "funnel_stage": stage})
}

async fn single_update_moves_the_lead_and_repeating_it_is_a_no_op(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import_id, token) = app.create_active_import("HubSpot").await;

    let first = app
        .inbound(&token, SINGLE, update(&lead, "Application Started"))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.body,
        json!({"success": true, "status": "updated", "lead_profile_uid": lead, "funnel_stage": "Application Started"})
    );

    let again = app
        .send_as(
            Some(&token),
            Method::PATCH,
            SINGLE,
            Some(update(&lead, "application_started")),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["status"], "unchanged");
    assert_eq!(again.body["funnel_stage"], "Application Started");
    assert_eq!(
        history(&app, &lead, true).await.len(),
        2,
        "a no-op writes no event"
    );

    let events = app
        .get(&format!("/api/v1/leads/{lead}/funnel-history"))
        .await
        .body;
    assert_eq!(
        events["data"][1]["source"],
        json!({"type": "webhook_import", "id": import_id, "name": "HubSpot"})
    );
    let lead_now = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(
        lead_now.body["funnel_stage"]["title"],
        "Application Started"
    );
}

async fn stage_names_match_after_normalising_and_mappings_come_first(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import_id, token) = app.create_active_import("CRM").await;
    let mapped = app
        .put(
            &format!("/api/v1/webhook-imports/{import_id}/mappings"),
            json!({"mappings": [
                // Points at the same stage a title already names.
                {"external_name": "applied", "funnel_stage_id": stages[1]},
                // A mapping named like another stage's title wins over it.
                {"external_name": "Enrolled", "funnel_stage_id": stages[2]},
            ]}),
        )
        .await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);

    for (sent, expected) in [
        ("Application_Started", "Application Started"),
        (" application-started ", "Application Started"),
        ("APPLICATION STARTED", "Application Started"),
        ("APPLIED", "Application Started"),
        ("enrolled", "Application Complete"),
        ("inquiry", "Inquiry"),
    ] {
        let response = app.inbound(&token, SINGLE, update(&lead, sent)).await;
        assert_eq!(response.status, 200, "{sent}: {}", response.text);
        assert_eq!(response.body["funnel_stage"], expected, "{sent}");
    }
    let unknown = app
        .inbound(&token, SINGLE, update(&lead, "Applicationstarted"))
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.body,
        json!({"success": false, "error": "Invalid funnel stage"})
    );
}

async fn forward_backfills_and_backward_archives(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    app.inbound(&token, SINGLE, update(&lead, "Application Complete"))
        .await;
    assert_eq!(
        history(&app, &lead, true).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, false),
            ("Application Complete", false, false)
        ])
    );

    let back = app.inbound(&token, SINGLE, update(&lead, "Inquiry")).await;
    assert_eq!(back.body["status"], "updated");
    assert_eq!(
        history(&app, &lead, true).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, true),
            ("Application Complete", false, true)
        ])
    );

    app.inbound(&token, SINGLE, update(&lead, "Enrolled")).await;
    assert_eq!(
        history(&app, &lead, true).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, true),
            ("Application Complete", false, true),
            ("Application Started", true, false),
            ("Application Complete", true, false),
            ("Enrolled", false, false),
        ])
    );
}

/// A reordered funnel can leave the target of a backward move without an
/// active event; the move then adds one, in the same grouped statement as
/// another lead's forward move.
async fn a_backward_move_to_a_stage_without_an_active_event_gives_it_one(app: TestApp) {
    let stages = app.create_stages(&["A", "B", "C"]).await;
    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let grace = app.create_lead(json!({"email": "grace@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;
    app.inbound(&token, SINGLE, update(&ada, "A")).await;
    let reordered = app
        .put(
            "/api/v1/funnel-stages/order",
            json!({"stage_ids": [stages[1], stages[0], stages[2]]}),
        )
        .await;
    assert_eq!(reordered.status, 200, "{}", reordered.text);
    // The funnel is now B, A, C: Ada has A and reaches C with nothing
    // between; Grace starts at B.
    app.inbound(&token, SINGLE, update(&ada, "C")).await;
    app.inbound(&token, SINGLE, update(&grace, "B")).await;

    let response = app
        .inbound(
            &token,
            BATCH,
            json!({"records": [update(&ada, "B"), update(&grace, "C")]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let statuses: Vec<&Value> = response.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| &result["status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!("updated"), &json!("updated")],
        "{}",
        response.text
    );
    assert_eq!(
        history(&app, &ada, true).await,
        events(&[("A", false, true), ("C", false, true), ("B", false, false)])
    );
    assert_eq!(
        history(&app, &grace, true).await,
        events(&[("B", false, false), ("A", true, false), ("C", false, false)])
    );

    // Moving back to a stage that has its event adds none.
    app.inbound(&token, SINGLE, update(&grace, "A")).await;
    assert_eq!(
        history(&app, &grace, false).await,
        events(&[("B", false, false), ("A", true, false)])
    );
}

async fn auth_errors_use_the_contract_messages(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    for path in [SINGLE, BATCH] {
        let missing = app
            .send_as(None, Method::POST, path, Some(update(&lead, "Inquiry")))
            .await;
        assert_eq!(missing.status, 401);
        assert_eq!(
            missing.body,
            json!({"success": false, "error": "Authorization token required"})
        );

        let wrong = app
            .inbound("sy_import_wrong", path, update(&lead, "Inquiry"))
            .await;
        assert_eq!(wrong.status, 401);
        assert_eq!(
            wrong.body,
            json!({"success": false, "error": "Invalid or inactive webhook import token"})
        );

        let wrong_method = app.send_as(Some(&token), Method::GET, path, None).await;
        assert_eq!(wrong_method.status, 405);
        assert_eq!(wrong_method.body["success"], false, "{}", wrong_method.text);

        // An admin key is not an import token.
        let admin = app
            .inbound(&app.api_key, path, update(&lead, "Inquiry"))
            .await;
        assert_eq!(admin.status, 401);
    }

    // A lead of another account is not found, whatever the token.
    let other_key = app.new_account_key("other").await;
    let other_lead = app
        .send_as(
            Some(&other_key),
            Method::POST,
            "/api/v1/leads",
            Some(json!({"email": "eve@example.com"})),
        )
        .await;
    let other_uid = other_lead.body["lead_profile_uid"].as_str().unwrap();
    let cross = app
        .inbound(&token, SINGLE, update(other_uid, "Inquiry"))
        .await;
    assert_eq!(cross.status, 404);
    assert_eq!(
        cross.body,
        json!({"success": false, "error": "Lead profile not found"})
    );
    let other_view = app
        .send_as(
            Some(&other_key),
            Method::GET,
            &format!("/api/v1/leads/{other_uid}"),
            None,
        )
        .await;
    assert_eq!(other_view.body["funnel_stage"], json!(null));
}

async fn bad_single_requests_get_named_errors_and_write_nothing(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    let cases = [
        (
            json!({"funnel_stage": "Inquiry"}),
            400,
            "missing field `lead_profile_uid`",
        ),
        (
            json!({"lead_profile_uid": lead}),
            400,
            "missing field `funnel_stage`",
        ),
        (
            json!({"lead_profile_uid": 12, "funnel_stage": "Inquiry"}),
            400,
            "lead_profile_uid: invalid type",
        ),
        (
            json!({"lead_profile_uid": lead, "funnel_stage": ["Inquiry"]}),
            400,
            "funnel_stage: invalid type",
        ),
        (json!("just a string"), 400, "Invalid JSON body"),
        (
            update("lead_unknown", "Inquiry"),
            404,
            "Lead profile not found",
        ),
        (update(&lead, "Nowhere"), 422, "Invalid funnel stage"),
    ];
    for (body, status, message) in cases {
        let response = app.inbound(&token, SINGLE, body.clone()).await;
        assert_eq!(response.status, status, "{body}: {}", response.text);
        assert_eq!(response.body["success"], false, "{body}");
        assert!(
            response.body["error"].as_str().unwrap().contains(message),
            "{body}: {}",
            response.text
        );
    }

    let raw = |content_type: &'static str, body: &'static str| {
        app.client
            .post(app.url(SINGLE))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let malformed = raw("application/json", "{\"lead_profile_uid\": ")
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON body"),
        "{body}"
    );
    assert_eq!(body["success"], false);

    // The body decides, not the Content-Type: JSON sent as text/plain works,
    // a form body is malformed JSON.
    let form = raw(
        "application/x-www-form-urlencoded",
        "lead_profile_uid=x&funnel_stage=y",
    )
    .await
    .unwrap();
    assert_eq!(form.status(), 400);
    let as_text = raw(
        "text/plain",
        r#"{"lead_profile_uid": "lead_unknown", "funnel_stage": "Inquiry"}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        as_text.status(),
        404,
        "a JSON body is read whatever its Content-Type"
    );

    let huge = app
        .client
        .post(app.url(SINGLE))
        .bearer_auth(&token)
        .json(&json!({"lead_profile_uid": lead, "funnel_stage": "Inquiry", "padding": "x".repeat(crate::helpers::TEST_MAX_BODY_BYTES + 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let body: Value = huge.json().await.unwrap();
    assert_eq!(body["success"], false);

    assert_eq!(
        history(&app, &lead, true).await,
        events(&[]),
        "a refused request wrote history"
    );
}

async fn batch_applies_each_record_on_its_own(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let ada = app.create_lead(json!({"email": "ada@example.com"})).await;
    let grace = app.create_lead(json!({"email": "grace@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    let response = app
        .inbound(
            &token,
            BATCH,
            json!({"records": [
                update(&ada, "Application Started"),
                update("lead_missing", "Inquiry"),
                update(&grace, "No Such Stage"),
                {"lead_profile_uid": grace},
                update(&ada, "application started"),
                update(&grace, "Enrolled"),
                update(&ada, "Inquiry"),
                update("lead_\u{0}nul", "Inquiry"),
            ]}),
        )
        .await;

    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        response.body,
        json!({
            "success": true,
            "results": [
                {"index": 0, "lead_profile_uid": ada, "status": "updated", "funnel_stage": "Application Started"},
                {"index": 1, "lead_profile_uid": "lead_missing", "status": "failed", "error": "Lead profile not found"},
                {"index": 2, "lead_profile_uid": grace, "status": "failed", "error": "Invalid funnel stage"},
                {"index": 3, "lead_profile_uid": grace, "status": "failed", "error": "missing field `funnel_stage`"},
                {"index": 4, "lead_profile_uid": ada, "status": "unchanged", "funnel_stage": "Application Started"},
                {"index": 5, "lead_profile_uid": grace, "status": "updated", "funnel_stage": "Enrolled"},
                {"index": 6, "lead_profile_uid": ada, "status": "updated", "funnel_stage": "Inquiry"},
                {"index": 7, "lead_profile_uid": "lead_\u{0}nul", "status": "failed", "error": "Lead profile not found"},
            ],
            "updated": 3,
            "unchanged": 1,
            "failed": 4,
        })
    );
    assert_eq!(
        history(&app, &ada, true).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", false, true)
        ])
    );
    assert_eq!(history(&app, &grace, true).await.len(), 4);
}

async fn bad_batches_are_refused_whole(app: TestApp) {
    app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    let too_many: Vec<Value> = (0..101).map(|_| update(&lead, "Enrolled")).collect();
    let over = app
        .inbound(&token, BATCH, json!({"records": too_many}))
        .await;
    assert_eq!(over.status, 413, "{}", over.text);
    assert!(over.error().contains("at most 100"));
    assert_eq!(over.body["success"], false);

    let exactly_100: Vec<Value> = (0..100).map(|_| update(&lead, "Inquiry")).collect();
    let full = app
        .inbound(&token, BATCH, json!({"records": exactly_100}))
        .await;
    assert_eq!(full.status, 200, "{}", full.text);
    assert_eq!(
        (
            full.body["updated"].as_i64(),
            full.body["unchanged"].as_i64()
        ),
        (Some(1), Some(99))
    );

    for (body, message) in [
        (json!({"records": []}), "at least one record"),
        (json!({"records": "nope"}), "records: invalid type"),
        (json!({"rows": []}), "missing field `records`"),
    ] {
        let refused = app.inbound(&token, BATCH, body.clone()).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text);
        assert!(
            refused.error().contains(message),
            "{body}: {}",
            refused.text
        );
    }
    assert_eq!(
        history(&app, &lead, true).await,
        events(&[("Inquiry", false, false)])
    );
}

async fn stage_changes_are_recorded_for_outbound_delivery(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import_id, token) = app.create_active_import("CRM").await;

    app.inbound(&token, SINGLE, update(&lead, "Enrolled")).await;
    app.inbound(&token, SINGLE, update(&lead, "Enrolled")).await;
    app.inbound(
        &token,
        BATCH,
        json!({"records": [update(&lead, "Inquiry"), update(&lead, "Inquiry")]}),
    )
    .await;

    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT event_type, actor_type, actor_id, data FROM lead_events \
         WHERE lead_id = $1 AND event_type = 'lead.stage_changed' ORDER BY id",
    )
    .bind(&lead)
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        rows.len(),
        2,
        "one event per change, none for no-ops: {rows:?}"
    );
    for (event_type, actor_type, actor_id, _) in &rows {
        assert_eq!(event_type, "lead.stage_changed");
        assert_eq!(actor_type, "webhook_import");
        assert_eq!(actor_id, &import_id);
    }
    let first: Value = serde_json::from_str(&rows[0].3).unwrap();
    assert_eq!(
        first,
        json!({"previous_funnel_stage_id": null, "funnel_stage_id": stages[3]})
    );
    let second: Value = serde_json::from_str(&rows[1].3).unwrap();
    assert_eq!(
        second,
        json!({"previous_funnel_stage_id": stages[3], "funnel_stage_id": stages[0]})
    );
}

async fn concurrent_updates_to_one_lead_leave_a_serial_history(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (_, token) = app.create_active_import("CRM").await;

    let requests =
        (0..50).map(|n| app.inbound(&token, SINGLE, update(&lead, FUNNEL[(n * 7 + n / 3) % 4])));
    let responses = futures::future::join_all(requests).await;
    let mut updated = 0;
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text);
        if response.body["status"] == "updated" {
            updated += 1;
        }
    }

    // Whatever order the updates ran in, the active history is exactly one
    // event for each stage up to the current one, in funnel order.
    let current = app.get(&format!("/api/v1/leads/{lead}")).await.body;
    let position = current["funnel_stage"]["position"].as_i64().unwrap() as usize;
    let active: Vec<String> = history(&app, &lead, true)
        .await
        .into_iter()
        .filter(|(_, _, archived)| !archived)
        .map(|(title, _, _)| title)
        .collect();
    assert_eq!(
        active,
        FUNNEL[..position]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    let (changes,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND event_type = 'lead.stage_changed'",
    )
    .bind(&lead)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(changes, updated, "one recorded change per `updated` answer");
    assert!(updated > 1);
    let _ = stages;
}

async fn funnel_and_mapping_changes_apply_at_once_on_every_server(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Enrolled"]).await;
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    let (import_id, token) = app.create_active_import("CRM").await;
    let second = app.spawn_second_server().await;
    let on_second = |stage: &str| {
        app.client
            .post(format!("{second}{SINGLE}"))
            .bearer_auth(&token)
            .json(&update(&lead, stage))
            .send()
    };
    let status = |response: reqwest::Response| response.status().as_u16();

    // Both servers have resolved (and may have cached) the current funnel.
    assert_eq!(
        app.inbound(&token, SINGLE, update(&lead, "Inquiry"))
            .await
            .status,
        200
    );
    assert_eq!(status(on_second("Inquiry").await.unwrap()), 200);

    let renamed = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", stages[0]),
            json!({"title": "New Lead"}),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(
        status(on_second("Inquiry").await.unwrap()),
        422,
        "the old title still resolved"
    );
    assert_eq!(status(on_second("new lead").await.unwrap()), 200);
    assert_eq!(
        app.inbound(&token, SINGLE, update(&lead, "Inquiry"))
            .await
            .status,
        422
    );

    let mapped = app
        .put(
            &format!("/api/v1/webhook-imports/{import_id}/mappings"),
            json!({"mappings": [{"external_name": "won", "funnel_stage_id": stages[1]}]}),
        )
        .await;
    assert_eq!(mapped.status, 200);
    assert_eq!(
        status(on_second("won").await.unwrap()),
        200,
        "the new mapping did not apply"
    );

    app.create_stages(&["Alumni"]).await;
    assert_eq!(
        status(on_second("alumni").await.unwrap()),
        200,
        "the new stage did not apply"
    );

    let deactivated = app
        .post(
            &format!("/api/v1/webhook-imports/{import_id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(deactivated.status, 200);
    assert_eq!(
        status(on_second("won").await.unwrap()),
        401,
        "a deactivated import still worked"
    );
}
