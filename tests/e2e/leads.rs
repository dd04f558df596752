//! Leads: create with every field, validation with named fields, unique
//! emails, paging, partial updates, deletion.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    a_lead_is_created_with_every_field_and_read_back,
    invalid_leads_are_refused_naming_the_field_and_nothing_is_written,
    emails_are_unique_per_account_ignoring_case,
    leads_are_listed_a_page_at_a_time,
    patch_changes_only_what_is_sent,
    deleted_leads_are_gone,
    oversized_bodies_are_refused_with_413,
);

fn full_lead() -> Value {
    json!({
        "email": "ada@example.com",
        "company": "Analytical Engines Ltd",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+44 20 7946 0000",
        "website": "https://example.com",
        "position": "Programmer",
        "twitter": "@ada",
        "linkedin": "https://linkedin.com/in/ada",
        "notes": "Met at the \"Difference\" meetup.\nLikes ünïcödé.",
        "score": 42
    })
}

async fn a_lead_is_created_with_every_field_and_read_back(app: TestApp) {
    let created = app.post("/api/v1/leads", full_lead()).await;

    assert_eq!(created.status, 201, "{}", created.text);
    let uid = created.body["lead_profile_uid"].as_str().unwrap();
    assert!(uid.starts_with("lead_"));
    for (field, value) in full_lead().as_object().unwrap() {
        assert_eq!(&created.body[field], value, "field {field}");
    }
    assert_eq!(created.body["funnel_stage"], json!(null));
    assert_eq!(created.body["created_at"], created.body["updated_at"]);

    let read = app.get(&format!("/api/v1/leads/{uid}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);

    let minimal = app
        .post("/api/v1/leads", json!({"email": "  grace@example.com "}))
        .await;
    assert_eq!(minimal.status, 201, "{}", minimal.text);
    assert_eq!(minimal.body["email"], "grace@example.com");
    assert_eq!(minimal.body["score"], 0);
    assert_eq!(minimal.body["company"], json!(null));

    assert_eq!(app.get("/api/v1/leads/lead_unknown").await.status, 404);
}

async fn invalid_leads_are_refused_naming_the_field_and_nothing_is_written(app: TestApp) {
    let cases = [
        (json!({"first_name": "Ada"}), 400, "missing field `email`"),
        (
            json!({"email": "ada@example.com", "score": "high"}),
            400,
            "score",
        ),
        (
            json!({"email": "ada@example.com", "score": 1.5}),
            400,
            "score",
        ),
        (json!({"email": 7}), 400, "email"),
        (
            json!({"email": "ada@example.com", "nickname": "A"}),
            400,
            "unknown field `nickname`",
        ),
        (
            json!({"email": "not-an-email"}),
            422,
            "email `not-an-email` is not valid",
        ),
        (
            json!({"email": "ada@example.com", "phone": "1".repeat(501)}),
            422,
            "phone must be at most 500 characters",
        ),
        (
            json!({"email": "ada@example.com", "funnel_stage_id": "stage_missing"}),
            422,
            "funnel_stage_id stage_missing",
        ),
        (
            json!({"email": "ada@example.com", "first_name": "A\u{0}da"}),
            422,
            "first_name must not contain NUL",
        ),
        (json!([1, 2]), 400, "Invalid JSON body"),
    ];
    for (body, status, message) in cases {
        let response = app.post("/api/v1/leads", body.clone()).await;
        assert_eq!(response.status, status, "{body}: {}", response.text);
        assert!(
            response.error().contains(message),
            "{body}: {}",
            response.text
        );
    }

    let malformed = app
        .send_raw(
            Method::POST,
            "/api/v1/leads",
            "application/json",
            "{\"email\": \"a@b.co\",}",
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.error().starts_with("Malformed JSON body"));

    let list = app.get("/api/v1/leads").await;
    assert_eq!(
        list.body["data"],
        json!([]),
        "a refused request wrote a lead"
    );
}

async fn emails_are_unique_per_account_ignoring_case(app: TestApp) {
    let first = app.create_lead(json!({"email": "ada@example.com"})).await;

    let duplicate = app
        .post("/api/v1/leads", json!({"email": "ADA@Example.com"}))
        .await;
    assert_eq!(duplicate.status, 409);
    assert!(duplicate.error().contains(&first), "{}", duplicate.text);

    let second = app.create_lead(json!({"email": "grace@example.com"})).await;
    let taken = app
        .patch(
            &format!("/api/v1/leads/{second}"),
            json!({"email": "Ada@example.com"}),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert_eq!(
        app.get(&format!("/api/v1/leads/{second}")).await.body["email"],
        "grace@example.com"
    );
}

async fn leads_are_listed_a_page_at_a_time(app: TestApp) {
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(
            app.create_lead(json!({"email": format!("lead{n}@example.com")}))
                .await,
        );
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/leads?limit=2&cursor={cursor}"),
            None => "/api/v1/leads?limit=2".to_owned(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        pages += 1;
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|lead| lead["lead_profile_uid"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every lead once, oldest first");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5);

    for bad in ["limit=0", "limit=201", "limit=abc", "page=2"] {
        let refused = app.get(&format!("/api/v1/leads?{bad}")).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.text);
    }
}

async fn patch_changes_only_what_is_sent(app: TestApp) {
    let uid = app.create_lead(full_lead()).await;
    let before = app.get(&format!("/api/v1/leads/{uid}")).await.body;

    let patched = app
        .patch(
            &format!("/api/v1/leads/{uid}"),
            json!({"first_name": "Augusta", "company": null, "score": -3}),
        )
        .await;

    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["first_name"], "Augusta");
    assert_eq!(patched.body["company"], json!(null));
    assert_eq!(patched.body["score"], -3);
    for untouched in [
        "email",
        "last_name",
        "phone",
        "website",
        "position",
        "twitter",
        "linkedin",
        "notes",
        "created_at",
    ] {
        assert_eq!(
            patched.body[untouched], before[untouched],
            "{untouched} changed"
        );
    }
    assert_ne!(patched.body["updated_at"], before["updated_at"]);

    for (body, message) in [
        (json!({"email": null}), "email cannot be null"),
        (json!({"score": null}), "score cannot be null"),
        (json!({"email": "broken"}), "email `broken` is not valid"),
    ] {
        let refused = app
            .patch(&format!("/api/v1/leads/{uid}"), body.clone())
            .await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert!(refused.error().contains(message));
    }
    let wrong_type = app
        .patch(&format!("/api/v1/leads/{uid}"), json!({"notes": 5}))
        .await;
    assert_eq!(wrong_type.status, 400);
    assert!(wrong_type.error().contains("notes"));

    let after = app.get(&format!("/api/v1/leads/{uid}")).await.body;
    assert_eq!(after, patched.body, "refused patches changed the lead");
    assert_eq!(
        app.patch("/api/v1/leads/lead_nope", json!({"first_name": "X"}))
            .await
            .status,
        404
    );
}

async fn deleted_leads_are_gone(app: TestApp) {
    let stages = app.create_stages(&["Inquiry"]).await;
    let uid = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[0]}))
        .await;

    let deleted = app.delete(&format!("/api/v1/leads/{uid}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    assert_eq!(app.get(&format!("/api/v1/leads/{uid}")).await.status, 404);
    assert_eq!(
        app.get(&format!("/api/v1/leads/{uid}/funnel-history"))
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete(&format!("/api/v1/leads/{uid}")).await.status,
        404
    );
    // The email is free again.
    app.create_lead(json!({"email": "ada@example.com"})).await;
}

async fn oversized_bodies_are_refused_with_413(app: TestApp) {
    let huge_notes = "x".repeat(crate::helpers::TEST_MAX_BODY_BYTES + 1024);
    let response = app
        .post(
            "/api/v1/leads",
            json!({"email": "ada@example.com", "notes": huge_notes}),
        )
        .await;

    assert_eq!(response.status, 413, "{}", response.text);
    assert!(response.error().contains("larger than"));
    assert_eq!(app.get("/api/v1/leads").await.body["data"], json!([]));
}
