//! Admin authentication and account isolation, plus the unauthenticated
//! probes and the OpenAPI document.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    missing_key_is_refused_with_instructions,
    wrong_or_malformed_keys_are_refused,
    another_accounts_key_sees_and_changes_nothing,
    probes_and_openapi_need_no_key,
    unknown_routes_and_methods_get_json_errors,
);

async fn missing_key_is_refused_with_instructions(app: TestApp) {
    let response = app.send_as(None, Method::GET, "/api/v1/leads", None).await;

    assert_eq!(response.status, 401);
    assert!(
        response.error().contains("Authorization: Bearer"),
        "{}",
        response.text
    );
    assert_eq!(response.headers["www-authenticate"], "Bearer");
}

async fn wrong_or_malformed_keys_are_refused(app: TestApp) {
    let wrong = app
        .send_as(
            Some("sy_admin_not-a-real-key"),
            Method::GET,
            "/api/v1/leads",
            None,
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error(), "Invalid admin API key");

    let basic = app
        .client
        .get(app.url("/api/v1/funnel-stages"))
        .basic_auth("admin", Some(&app.api_key))
        .send()
        .await
        .expect("send");
    assert_eq!(basic.status(), 401);
}

async fn another_accounts_key_sees_and_changes_nothing(app: TestApp) {
    let stages = app.create_stages(&["Inquiry", "Enrolled"]).await;
    let lead = app
        .create_lead(json!({"email": "ada@example.com", "funnel_stage_id": stages[1]}))
        .await;
    let other = app.new_account_key("other").await;

    let listed = app
        .send_as(Some(&other), Method::GET, "/api/v1/leads", None)
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"], json!([]));
    let stage_list = app
        .send_as(Some(&other), Method::GET, "/api/v1/funnel-stages", None)
        .await;
    assert_eq!(stage_list.body["data"], json!([]));

    for (method, path, body) in [
        (Method::GET, format!("/api/v1/leads/{lead}"), None),
        (
            Method::PATCH,
            format!("/api/v1/leads/{lead}"),
            Some(json!({"first_name": "Mallory"})),
        ),
        (Method::DELETE, format!("/api/v1/leads/{lead}"), None),
        (
            Method::GET,
            format!("/api/v1/leads/{lead}/funnel-history"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/funnel-stages/{}", stages[0]),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/funnel-stages/{}", stages[0]),
            Some(json!({"title": "Hacked"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/funnel-stages/{}", stages[0]),
            None,
        ),
    ] {
        let response = app.send_as(Some(&other), method.clone(), &path, body).await;
        assert_eq!(response.status, 404, "{method} {path}: {}", response.text);
    }

    // The other account cannot place its own lead at this account's stage.
    let cross_stage = app
        .send_as(
            Some(&other),
            Method::POST,
            "/api/v1/leads",
            Some(json!({"email": "eve@example.com", "funnel_stage_id": stages[0]})),
        )
        .await;
    assert_eq!(cross_stage.status, 422, "{}", cross_stage.text);

    // Nothing of the first account changed, and emails are per account.
    let lead_now = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(lead_now.status, 200);
    assert_eq!(lead_now.body["first_name"], json!(null));
    assert_eq!(
        app.get("/api/v1/funnel-stages").await.body["data"][0]["title"],
        "Inquiry"
    );
    let same_email = app
        .send_as(
            Some(&other),
            Method::POST,
            "/api/v1/leads",
            Some(json!({"email": "ada@example.com"})),
        )
        .await;
    assert_eq!(same_email.status, 201, "{}", same_email.text);
}

async fn probes_and_openapi_need_no_key(app: TestApp) {
    let health = app.send_as(None, Method::GET, "/healthz", None).await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app.send_as(None, Method::GET, "/readyz", None).await;
    assert_eq!(
        (ready.status, ready.body["status"].as_str()),
        (200, Some("ok"))
    );

    let openapi = app
        .send_as(None, Method::GET, "/api/openapi.json", None)
        .await;
    assert_eq!(openapi.status, 200);
    let paths = openapi.body["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/leads",
        "/api/v1/leads/{lead_profile_uid}",
        "/api/v1/leads/{lead_profile_uid}/funnel-history",
        "/api/v1/funnel-stages",
        "/api/v1/funnel-stages/{stage_id}",
        "/api/v1/funnel-stages/order",
    ] {
        assert!(paths.contains_key(path), "OpenAPI lacks {path}");
    }
    assert!(openapi.body["components"]["schemas"]["LeadView"].is_object());
}

async fn unknown_routes_and_methods_get_json_errors(app: TestApp) {
    let missing = app.get("/api/v1/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("/api/v1/nothing-here"));

    let wrong_method = app
        .send(Method::PUT, "/api/v1/leads", Some(json!({})))
        .await;
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.error().contains("PUT"));
}
