//! Funnel history through the admin API: backfilled skipped stages,
//! archived (not deleted) events on backward moves, no-op on the same stage.

use serde_json::{Value, json};

use crate::helpers::{TestApp, events, history};
use crate::on_both_backends;

on_both_backends!(
    first_stage_backfills_from_the_start_and_forward_backfills_the_gap,
    backward_archives_and_forward_again_writes_new_events,
    the_same_stage_writes_nothing,
    leaving_the_funnel_archives_everything,
);

const FUNNEL: [&str; 4] = [
    "Inquiry",
    "Application Started",
    "Application Complete",
    "Enrolled",
];

async fn move_to(app: &TestApp, uid: &str, stage: &str) -> Value {
    let response = app
        .patch(
            &format!("/api/v1/leads/{uid}"),
            json!({"funnel_stage_id": stage}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

async fn first_stage_backfills_from_the_start_and_forward_backfills_the_gap(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let uid = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[1]}))
        .await;

    assert_eq!(
        history(&app, &uid, false).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", false, false)
        ])
    );

    let lead = move_to(&app, &uid, &stages[3]).await;
    assert_eq!(lead["funnel_stage"]["title"], "Enrolled");
    assert_eq!(lead["funnel_stage"]["position"], 4);
    assert_eq!(
        history(&app, &uid, false).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", false, false),
            ("Application Complete", true, false),
            ("Enrolled", false, false),
        ])
    );

    let raw = app
        .get(&format!("/api/v1/leads/{uid}/funnel-history"))
        .await
        .body;
    let source = &raw["data"][0]["source"];
    assert_eq!(source["type"], "admin_api_key");
    assert!(source["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(source["name"], "initial key");
    assert_eq!(
        app.get("/api/v1/leads/lead_nope/funnel-history")
            .await
            .status,
        404
    );
}

async fn backward_archives_and_forward_again_writes_new_events(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let uid = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[3]}))
        .await;

    let lead = move_to(&app, &uid, &stages[1]).await;
    assert_eq!(lead["funnel_stage"]["title"], "Application Started");
    assert_eq!(
        history(&app, &uid, false).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, false)
        ])
    );
    assert_eq!(
        history(&app, &uid, true).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, false),
            ("Application Complete", true, true),
            ("Enrolled", false, true),
        ])
    );

    move_to(&app, &uid, &stages[3]).await;
    let all = history(&app, &uid, true).await;
    assert_eq!(all.len(), 6, "{all:?}");
    assert_eq!(
        all.iter().filter(|(_, _, archived)| *archived).count(),
        2,
        "archived events stay archived"
    );
    assert_eq!(
        history(&app, &uid, false).await,
        events(&[
            ("Inquiry", true, false),
            ("Application Started", true, false),
            ("Application Complete", true, false),
            ("Enrolled", false, false),
        ])
    );
}

async fn the_same_stage_writes_nothing(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let uid = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[2]}))
        .await;
    let before = history(&app, &uid, true).await;
    let lead_before = app.get(&format!("/api/v1/leads/{uid}")).await.body;

    let lead_after = move_to(&app, &uid, &stages[2]).await;

    assert_eq!(history(&app, &uid, true).await, before);
    assert_eq!(lead_after["updated_at"], lead_before["updated_at"]);
}

async fn leaving_the_funnel_archives_everything(app: TestApp) {
    let stages = app.create_stages(&FUNNEL).await;
    let uid = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[1]}))
        .await;

    let cleared = app
        .patch(
            &format!("/api/v1/leads/{uid}"),
            json!({"funnel_stage_id": null}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.body["funnel_stage"], json!(null));
    assert_eq!(history(&app, &uid, false).await, events(&[]));
    assert_eq!(history(&app, &uid, true).await.len(), 2);

    move_to(&app, &uid, &stages[0]).await;
    assert_eq!(
        history(&app, &uid, false).await,
        events(&[("Inquiry", false, false)])
    );
}
