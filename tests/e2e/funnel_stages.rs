//! Funnel stage CRUD: positions stay 1..n, ids survive rename and reorder,
//! titles are unique after normalisation, deletion is refused while leads
//! are at the stage.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    stages_are_appended_in_order_or_inserted_at_a_position,
    titles_must_be_present_valid_and_unique_after_normalising,
    malformed_requests_name_what_is_wrong,
    rename_and_move_keep_the_id,
    reorder_needs_every_stage_exactly_once,
    delete_is_refused_while_leads_are_at_the_stage,
);

fn titles_and_positions(list: &Value) -> Vec<(String, i64)> {
    list["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|stage| {
            (
                stage["title"].as_str().expect("title").to_owned(),
                stage["position"].as_i64().expect("position"),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs
        .iter()
        .map(|(title, position)| (title.to_string(), *position))
        .collect()
}

async fn stages_are_appended_in_order_or_inserted_at_a_position(app: TestApp) {
    app.create_stages(&["Inquiry", "Enrolled"]).await;

    let inserted = app
        .post(
            "/api/v1/funnel-stages",
            json!({"title": "Application Started", "position": 2}),
        )
        .await;
    assert_eq!(inserted.status, 201, "{}", inserted.text);
    assert_eq!(inserted.body["position"], 2);
    assert!(inserted.body["id"].as_str().unwrap().starts_with("stage_"));

    let list = app.get("/api/v1/funnel-stages").await;
    assert_eq!(
        titles_and_positions(&list.body),
        owned(&[("Inquiry", 1), ("Application Started", 2), ("Enrolled", 3)])
    );

    for bad_position in [0, -1] {
        let refused = app
            .post(
                "/api/v1/funnel-stages",
                json!({"title": "Elsewhere", "position": bad_position}),
            )
            .await;
        assert_eq!(
            refused.status, 422,
            "position {bad_position}: {}",
            refused.text
        );
        assert_eq!(
            refused.error(),
            "position must be at least 1 (one past the end, or more, puts the stage last, at 4)"
        );
    }
    assert_eq!(
        app.get("/api/v1/funnel-stages").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Past the end is the end (issue 18: what the document allows is
    // accepted), and a whole number may be written as 99.0.
    let appended = app
        .post(
            "/api/v1/funnel-stages",
            json!({"title": "Alumni", "position": 99.0}),
        )
        .await;
    assert_eq!(appended.status, 201, "{}", appended.text);
    assert_eq!(appended.body["position"], 4);
}

async fn titles_must_be_present_valid_and_unique_after_normalising(app: TestApp) {
    app.create_stages(&["Application Started"]).await;

    for variant in [
        "application_started",
        " APPLICATION-STARTED ",
        "Application   Started",
    ] {
        let duplicate = app
            .post("/api/v1/funnel-stages", json!({"title": variant}))
            .await;
        assert_eq!(duplicate.status, 409, "{variant}: {}", duplicate.text);
        assert!(duplicate.error().contains("already exists"));
    }

    let blank = app
        .post("/api/v1/funnel-stages", json!({"title": "   "}))
        .await;
    assert_eq!(blank.status, 422);
    assert_eq!(blank.error(), "title must not be empty");

    let trimmed = app
        .post("/api/v1/funnel-stages", json!({"title": "  Enrolled  "}))
        .await;
    assert_eq!(trimmed.status, 201);
    assert_eq!(trimmed.body["title"], "Enrolled");
}

async fn malformed_requests_name_what_is_wrong(app: TestApp) {
    let missing = app.post("/api/v1/funnel-stages", json!({})).await;
    assert_eq!(missing.status, 400);
    assert!(
        missing.error().contains("missing field `title`"),
        "{}",
        missing.text
    );

    let wrong_type = app
        .post("/api/v1/funnel-stages", json!({"title": 42}))
        .await;
    assert_eq!(wrong_type.status, 400);
    assert!(wrong_type.error().contains("title"), "{}", wrong_type.text);

    let typo = app
        .post("/api/v1/funnel-stages", json!({"title": "A", "postion": 1}))
        .await;
    assert_eq!(typo.status, 400);
    assert!(
        typo.error().contains("unknown field `postion`"),
        "{}",
        typo.text
    );

    let malformed = app
        .send_raw(
            Method::POST,
            "/api/v1/funnel-stages",
            "application/json",
            "{\"title\": ",
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.error().starts_with("Malformed JSON body"),
        "{}",
        malformed.text
    );

    let not_json = app
        .send_raw(
            Method::POST,
            "/api/v1/funnel-stages",
            "text/plain",
            "title=A",
        )
        .await;
    assert_eq!(not_json.status, 415);
    assert!(not_json.error().contains("application/json"));

    assert_eq!(
        app.get("/api/v1/funnel-stages").await.body["data"],
        json!([])
    );
}

async fn rename_and_move_keep_the_id(app: TestApp) {
    let ids = app.create_stages(&["Inquiry", "Applied", "Enrolled"]).await;

    let renamed = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[1]),
            json!({"title": "Application Started"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["id"], ids[1].as_str());
    assert_eq!(renamed.body["position"], 2);

    // Changing only the case of its own title is not a conflict with itself.
    let recased = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[1]),
            json!({"title": "application started"}),
        )
        .await;
    assert_eq!(recased.status, 200, "{}", recased.text);

    let taken = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[1]),
            json!({"title": "inquiry"}),
        )
        .await;
    assert_eq!(taken.status, 409);

    let moved = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[2]),
            json!({"position": 1}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let list = app.get("/api/v1/funnel-stages").await;
    let listed_ids: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stage| stage["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed_ids,
        vec![ids[2].as_str(), ids[0].as_str(), ids[1].as_str()]
    );
    assert_eq!(
        titles_and_positions(&list.body),
        owned(&[("Enrolled", 1), ("Inquiry", 2), ("application started", 3)])
    );

    let past_the_end = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[0]),
            json!({"position": 4}),
        )
        .await;
    assert_eq!(past_the_end.status, 200, "{}", past_the_end.text);
    assert_eq!(past_the_end.body["position"], 3);
    let moved_back = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[0]),
            json!({"position": 2}),
        )
        .await;
    assert_eq!(moved_back.status, 200, "{}", moved_back.text);
    let out_of_range = app
        .patch(
            &format!("/api/v1/funnel-stages/{}", ids[0]),
            json!({"position": 0}),
        )
        .await;
    assert_eq!(out_of_range.status, 422);

    let unknown = app
        .patch("/api/v1/funnel-stages/stage_nope", json!({"title": "X"}))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        app.get("/api/v1/funnel-stages/stage_nope").await.status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/funnel-stages/{}", ids[0]))
            .await
            .body["position"],
        2
    );
}

async fn reorder_needs_every_stage_exactly_once(app: TestApp) {
    let ids = app.create_stages(&["A", "B", "C"]).await;

    let reordered = app
        .put(
            "/api/v1/funnel-stages/order",
            json!({"stage_ids": [ids[2], ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(reordered.status, 200, "{}", reordered.text);
    assert_eq!(
        titles_and_positions(&reordered.body),
        owned(&[("C", 1), ("A", 2), ("B", 3)])
    );

    let missing = app
        .put(
            "/api/v1/funnel-stages/order",
            json!({"stage_ids": [ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(
        missing
            .error()
            .contains(&format!("missing ids: {}", ids[2])),
        "{}",
        missing.text
    );

    let unknown = app
        .put(
            "/api/v1/funnel-stages/order",
            json!({"stage_ids": [ids[0], ids[1], ids[2], "stage_x"]}),
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.error().contains("unknown ids: stage_x"));

    let duplicated = app
        .put(
            "/api/v1/funnel-stages/order",
            json!({"stage_ids": [ids[0], ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(duplicated.status, 422);

    let unchanged = app.get("/api/v1/funnel-stages").await;
    assert_eq!(
        titles_and_positions(&unchanged.body),
        owned(&[("C", 1), ("A", 2), ("B", 3)])
    );
}

async fn delete_is_refused_while_leads_are_at_the_stage(app: TestApp) {
    let ids = app.create_stages(&["Inquiry", "Applied", "Enrolled"]).await;
    let lead = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": ids[1]}))
        .await;

    let refused = app
        .delete(&format!("/api/v1/funnel-stages/{}", ids[1]))
        .await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.error().contains("1 lead is at this stage"),
        "{}",
        refused.text
    );

    let moved = app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            json!({"funnel_stage_id": ids[2]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let deleted = app
        .delete(&format!("/api/v1/funnel-stages/{}", ids[1]))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    let list = app.get("/api/v1/funnel-stages").await;
    assert_eq!(
        titles_and_positions(&list.body),
        owned(&[("Inquiry", 1), ("Enrolled", 2)])
    );
    assert_eq!(
        app.delete(&format!("/api/v1/funnel-stages/{}", ids[1]))
            .await
            .status,
        404
    );

    // The history that reached the deleted stage still names it.
    let history = app
        .get(&format!("/api/v1/leads/{lead}/funnel-history"))
        .await;
    let titles: Vec<&str> = history.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["funnel_stage"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Inquiry", "Applied", "Enrolled"]);
    assert_eq!(
        history.body["data"][1]["funnel_stage"]["position"],
        json!(null)
    );

    // A new stage may reuse the deleted stage's title.
    let reused = app
        .post("/api/v1/funnel-stages", json!({"title": "Applied"}))
        .await;
    assert_eq!(reused.status, 201, "{}", reused.text);
}
