//! The admin web UI over HTTP, without a browser: sign-in sessions (stored
//! hashed, shared by processes, ended by sign-out and expiry), the
//! cross-site request check, security headers, escaping, and account
//! isolation. The browser journeys are in `tests/ui/`.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;
use switchyard::domain::secrets;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::receiver::{Receiver, Reply};

on_both_backends!(
    sign_in_opens_a_hashed_session_that_another_process_accepts,
    wrong_keys_and_missing_sessions_are_sent_to_sign_in,
    sign_out_and_expiry_end_the_session,
    cross_site_posts_are_refused_and_same_origin_posts_pass,
    pages_carry_security_headers_and_escape_every_value,
    a_session_sees_only_its_own_account,
    forms_change_data_through_the_same_rules_as_the_api,
    webhook_pages_show_health_deliveries_attempts_and_resend,
    failed_deliveries_are_counted_and_recovered_and_the_secret_regenerated,
    send_test_opens_the_logged_test_with_its_request_and_answer,
    an_import_transform_is_attached_and_tried_through_the_apis_rules,
    plugins_are_uploaded_dry_run_and_deleted_only_when_unused,
);

/// A client that shows redirects instead of following them.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build an HTTP client")
}

pub(crate) fn location(headers: &HeaderMap) -> &str {
    headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The `Set-Cookie` header that sets `name`.
fn set_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
}

/// Signs in with `key` as a browser would; returns the session secret.
pub(crate) async fn sign_in(base: &str, key: &str) -> String {
    let response = client()
        .post(format!("{base}/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("api_key", key)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/stages");
    let cookie = set_cookie(response.headers(), "switchyard_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_owned())
        .expect("a cookie value")
}

pub(crate) async fn get_page(base: &str, path: &str, secret: &str) -> reqwest::Response {
    client()
        .get(format!("{base}{path}"))
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("get a page")
}

async fn sign_in_opens_a_hashed_session_that_another_process_accepts(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;

    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_digest FROM ui_sessions")
        .fetch_all(app.db.reader())
        .await
        .expect("read sessions");
    assert_eq!(stored, vec![(secrets::digest(&secret),)]);
    assert_ne!(stored[0].0, secret);

    let page = get_page(&app.address, "/stages", &secret).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("body");
    assert!(html.contains("<h1>Funnel stages</h1>"), "{html}");
    assert!(html.contains("initial key"), "the key's name is shown");
    assert!(
        !html.contains(&app.api_key),
        "the key never reaches the page"
    );

    let second = app.spawn_second_server().await;
    let elsewhere = get_page(&second, "/stages", &secret).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
}

async fn wrong_keys_and_missing_sessions_are_sent_to_sign_in(app: TestApp) {
    let refused = client()
        .post(app.url("/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("api_key", "sy_admin_wrong")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(refused.headers(), "switchyard_session").is_none());
    let html = refused.text().await.expect("body");
    assert!(html.contains("not a valid admin API key"), "{html}");

    for cookie in [None, Some("switchyard_session=sy_session_forged")] {
        let mut request = client().get(app.url("/leads"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("get");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(response.headers()), "/sign-in");
    }
    let home = client().get(app.url("/")).send().await.expect("get /");
    assert_eq!(location(home.headers()), "/sign-in");
}

async fn sign_out_and_expiry_end_the_session(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let signed_out = client()
        .post(app.url("/sign-out"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let cleared = set_cookie(signed_out.headers(), "switchyard_session").expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = get_page(&app.address, "/stages", &secret).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ui_sessions")
        .fetch_one(app.db.reader())
        .await
        .expect("count");
    assert_eq!(left, 0);

    let expiring = sign_in(&app.address, &app.api_key).await;
    sqlx::query("UPDATE ui_sessions SET expires_at = 1")
        .execute(app.db.reader())
        .await
        .expect("expire the session");
    let expired = get_page(&app.address, "/stages", &expiring).await;
    assert_eq!(expired.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(expired.headers()), "/sign-in");
}

async fn cross_site_posts_are_refused_and_same_origin_posts_pass(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let post = |headers: Vec<(&'static str, String)>, title: &'static str| {
        let mut request = client()
            .post(app.url("/stages"))
            .header("cookie", format!("switchyard_session={secret}"))
            .form(&[("title", title)]);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    for (headers, title) in [
        (vec![("sec-fetch-site", "cross-site".to_owned())], "Cross"),
        (vec![("sec-fetch-site", "same-site".to_owned())], "Sibling"),
        (vec![("origin", "http://evil.example".to_owned())], "Evil"),
        (vec![("origin", "null".to_owned())], "Null"),
        (vec![], "Bare"),
    ] {
        let response = post(headers, title).await.expect("post");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{title}");
        let html = response.text().await.expect("body");
        assert!(html.contains("refused"), "{html}");
    }
    let stages = app.get("/api/v1/funnel-stages").await;
    assert_eq!(stages.body["data"], json!([]), "nothing was created");

    let same_origin = post(
        vec![("sec-fetch-site", "same-origin".to_owned())],
        "Inquiry",
    )
    .await
    .expect("post");
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);
    let by_origin = post(
        vec![("origin", app.address.clone()), ("host", host)],
        "Enrolled",
    )
    .await
    .expect("post");
    assert_eq!(by_origin.status(), StatusCode::SEE_OTHER);
    let stages = app.get("/api/v1/funnel-stages").await;
    let titles: Vec<&str> = stages.body["data"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|stage| stage["title"].as_str())
        .collect();
    assert_eq!(titles, ["Inquiry", "Enrolled"]);
}

async fn pages_carry_security_headers_and_escape_every_value(app: TestApp) {
    let sign_in_page = client().get(app.url("/sign-in")).send().await.expect("get");
    let headers = sign_in_page.headers();
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let html = sign_in_page.text().await.expect("body");
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains(" style="), "no inline style");

    // Assets are served from the binary under a versioned path.
    let stylesheet = html
        .split("href=\"")
        .find_map(|rest| {
            rest.split('"')
                .next()
                .filter(|href| href.ends_with("/app.css"))
        })
        .expect("a stylesheet link")
        .to_owned();
    let css = client()
        .get(app.url(&stylesheet))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .expect("cache")
            .contains("immutable")
    );
    let htmx = client()
        .get(app.url(&stylesheet.replace("app.css", "htmx-2.0.11.min.js")))
        .send()
        .await
        .expect("htmx");
    assert_eq!(htmx.status(), StatusCode::OK);

    let lead = app
        .create_lead(
            json!({"email": "x@example.com", "first_name": "<script>alert(1)</script>",
                            "company": "\"><img src=x onerror=alert(2)>"}),
        )
        .await;
    let secret = sign_in(&app.address, &app.api_key).await;
    for path in [
        format!("/leads/{lead}"),
        "/leads".to_owned(),
        "/leads?q=alert".to_owned(),
    ] {
        let html = get_page(&app.address, &path, &secret)
            .await
            .text()
            .await
            .expect("body");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}: {html}"
        );
        assert!(!html.contains("<script>alert(1)"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
    }
}

async fn a_session_sees_only_its_own_account(app: TestApp) {
    let stages = app.create_stages(&["Private Stage"]).await;
    let lead = app
        .create_lead(json!({"email": "private@example.com", "funnel_stage_id": stages[0]}))
        .await;
    let (import, _) = app.create_active_import("Private CRM").await;
    let other_key = app.new_account_key("other").await;
    let other = sign_in(&app.address, &other_key).await;

    for path in ["/leads", "/stages", "/imports", "/leads?q=private"] {
        let html = get_page(&app.address, path, &other)
            .await
            .text()
            .await
            .expect("body");
        assert!(!html.contains("private@example.com"), "{path}");
        assert!(
            !html.contains("Private Stage") && !html.contains("Private CRM"),
            "{path}"
        );
    }
    for path in [
        format!("/leads/{lead}"),
        format!("/leads/{lead}/edit"),
        format!("/imports/{import}"),
        format!("/stages/{}/delete", stages[0]),
    ] {
        let response = get_page(&app.address, &path, &other).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let delete = client()
        .post(app.url(&format!("/leads/{lead}/delete")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={other}"))
        .send()
        .await
        .expect("post");
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/leads/{lead}")).await.status, 200);
}

async fn forms_change_data_through_the_same_rules_as_the_api(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        client()
            .post(app.url(&path))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", format!("switchyard_session={secret}"))
            .form(&form)
            .send()
    };
    let stages = app
        .create_stages(&["Inquiry", "Qualified", "Enrolled"])
        .await;

    // A title equal to another once normalised is refused with the API's reason.
    let duplicate = post("/stages".into(), vec![("title", "  inquiry ".into())])
        .await
        .expect("post");
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let html = duplicate.text().await.expect("body");
    assert!(html.contains("already"), "{html}");

    // An invalid email is refused as the API refuses it; the form keeps its values.
    let invalid = post(
        "/leads".into(),
        vec![
            ("email", "not-an-email".into()),
            ("first_name", "Ada".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = invalid.text().await.expect("body");
    assert!(html.contains("value=\"Ada\""), "{html}");

    let created = post(
        "/leads".into(),
        vec![
            ("email", "ada@example.com".into()),
            ("first_name", "Ada".into()),
            ("score", "7".into()),
            ("funnel_stage_id", stages[2].clone()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let lead = location(created.headers())
        .trim_start_matches("/leads/")
        .to_owned();
    let history = crate::helpers::history(&app, &lead, false).await;
    assert_eq!(
        history,
        crate::helpers::events(&[
            ("Inquiry", true, false),
            ("Qualified", true, false),
            ("Enrolled", false, false)
        ])
    );
    let read = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert_eq!(read.body["score"], 7);

    // A stage with a lead at it cannot be deleted; the reason is shown.
    let refused = post(format!("/stages/{}/delete", stages[2]), vec![])
        .await
        .expect("post");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("body");
    assert!(html.contains("1 lead is at this stage"), "{html}");

    // Moving down the last stage is a message, not an error.
    let edge = post(
        format!("/stages/{}/move", stages[2]),
        vec![("direction", "down".into())],
    )
    .await
    .expect("post");
    assert_eq!(edge.status(), StatusCode::SEE_OTHER);
    let up = post(
        format!("/stages/{}/move", stages[2]),
        vec![("direction", "up".into())],
    )
    .await
    .expect("post");
    assert_eq!(up.status(), StatusCode::SEE_OTHER);
    let order = app.get("/api/v1/funnel-stages").await;
    assert_eq!(order.body["data"][1]["title"], "Enrolled");

    // Mappings: rows by index; the API's duplicate rule names the form's row.
    let (import, _) = app.create_active_import("CRM").await;
    let refused = post(
        format!("/imports/{import}/mappings"),
        vec![
            ("name_0", "Won Deal".into()),
            ("stage_0", stages[0].clone()),
            ("name_1", "won_deal".into()),
            ("stage_1", stages[1].clone()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(html.contains("duplicates row 1"), "{html}");
    let saved = post(
        format!("/imports/{import}/mappings"),
        vec![
            ("name_0", "Won Deal".into()),
            ("stage_0", stages[2].clone()),
            ("name_1", "".into()),
            ("stage_1", "".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let mappings = app
        .get(&format!("/api/v1/webhook-imports/{import}/mappings"))
        .await;
    assert_eq!(mappings.body["data"][0]["external_name"], "Won Deal");
    assert_eq!(
        mappings.body["data"][0]["funnel_stage_id"],
        stages[2].as_str()
    );
}

/// Reads a page until `wanted` shows in it (at most 20 s); returns it.
async fn page_showing(base: &str, path: &str, secret: &str, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let html = get_page(base, path, secret)
            .await
            .text()
            .await
            .expect("body");
        if html.contains(wanted) {
            return html;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never showed {wanted}: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn webhook_pages_show_health_deliveries_attempts_and_resend(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500)]);
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "CRM sync", "url": receiver.url("/hook"), "events": ["lead.created"],
                   "retry_schedule_seconds": [], "auth": {"type": "bearer", "token": "very-secret"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let webhook = created.body["id"].as_str().expect("id").to_owned();
    let lead = app.create_lead(json!({"email": "ada@example.com"})).await;
    receiver.wait_for(1).await;
    let secret = sign_in(&app.address, &app.api_key).await;

    let list = page_showing(&app.address, "/webhooks", &secret, "HTTP 500").await;
    assert!(
        list.contains("CRM sync") && list.contains("lead.created"),
        "{list}"
    );
    let page = page_showing(
        &app.address,
        &format!("/webhooks/{webhook}?status=failed"),
        &secret,
        "lead.created",
    )
    .await;
    let delivery = page
        .split("/deliveries/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a delivery link")
        .to_owned();
    assert!(page.contains(&format!("/leads/{lead}")), "{page}");
    let succeeded = get_page(
        &app.address,
        &format!("/webhooks/{webhook}?status=succeeded"),
        &secret,
    )
    .await
    .text()
    .await
    .expect("body");
    assert!(!succeeded.contains(&delivery), "the filter applies");

    let detail_path = format!("/webhooks/{webhook}/deliveries/{delivery}");
    let detail = get_page(&app.address, &detail_path, &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(detail.contains("HTTP 500"), "{detail}");
    assert!(detail.contains("curl -X POST"), "{detail}");
    assert!(
        detail.contains("ada@example.com"),
        "the payload is shown: {detail}"
    );
    assert!(!detail.contains("very-secret"), "credentials are redacted");

    let resent = client()
        .post(app.url(&format!("{detail_path}/resend")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("resend");
    assert_eq!(resent.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(resent.headers()), detail_path);
    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    let detail = page_showing(&app.address, &detail_path, &secret, "Attempt 2").await;
    assert!(detail.contains("HTTP 200"), "{detail}");

    // The log across webhooks, with its filters.
    let all = page_showing(&app.address, "/deliveries", &secret, &delivery).await;
    assert!(all.contains("CRM sync"), "{all}");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    for (query, shown) in [
        (format!("?lead={lead}"), true),
        ("?lead=lead_other".to_owned(), false),
        ("?status=succeeded&event=lead.created".to_owned(), true),
        ("?status=failed".to_owned(), false),
        (format!("?from={tomorrow}"), false),
        (format!("?to={tomorrow}&webhook={webhook}"), true),
    ] {
        let html = get_page(&app.address, &format!("/deliveries{query}"), &secret)
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(html.contains(&delivery), shown, "{query}: {html}");
    }
    let bad = get_page(&app.address, "/deliveries?from=yesterday", &secret).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The API's rules apply: an inactive webhook's deliveries are not resent.
    let deactivated = client()
        .post(app.url(&format!("/webhooks/{webhook}/deactivate")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("deactivate");
    assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
    let refused = client()
        .post(app.url(&format!("{detail_path}/resend")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("resend");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("body");
    assert!(html.contains("activate it before resending"), "{html}");
}

async fn failed_deliveries_are_counted_and_recovered_and_the_secret_regenerated(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500), Reply::status(500)]);
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "CRM sync", "url": receiver.url("/hook"), "events": ["lead.created"],
                   "retry_schedule_seconds": []}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let webhook = created.body["id"].as_str().expect("id").to_owned();
    let old_secret = created.body["signing_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    app.create_lead(json!({"email": "ada@example.com"})).await;
    app.create_lead(json!({"email": "grace@example.com"})).await;
    let secret = sign_in(&app.address, &app.api_key).await;
    page_showing(
        &app.address,
        &format!("/webhooks/{webhook}?status=failed"),
        &secret,
        "HTTP 500",
    )
    .await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        client()
            .post(app.url(&path))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", format!("switchyard_session={secret}"))
            .form(&form)
            .send()
    };

    let recover_path = format!("/webhooks/{webhook}/recover");
    let form = get_page(&app.address, &recover_path, &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(form.contains("Failed since (UTC)"), "{form}");
    let since = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let counted = page_showing(
        &app.address,
        &format!("{recover_path}?since={since}"),
        &secret,
        "2 failed deliveries since",
    )
    .await;
    assert!(counted.contains("Send 2 again"), "{counted}");
    assert_eq!(receiver.received().len(), 2, "counting sends nothing");

    let recovered = post(recover_path.clone(), vec![("since", since.clone())])
        .await
        .expect("recover");
    assert_eq!(recovered.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(recovered.headers()),
        format!("/webhooks/{webhook}")
    );
    // The counts after, in the message the redirect leaves for the page.
    let flash = set_cookie(recovered.headers(), "switchyard_flash")
        .and_then(|cookie| cookie.split(';').next())
        .expect("a message for the next page")
        .to_owned();
    let page = client()
        .get(app.url(&format!("/webhooks/{webhook}")))
        .header("cookie", format!("switchyard_session={secret}; {flash}"))
        .send()
        .await
        .expect("the webhook's page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("2 of 2 failed deliveries since") && page.contains("queued to be sent again"),
        "{page}"
    );
    let received = receiver.wait_for(4).await;
    assert_eq!(received.len(), 4);
    let nothing_left = page_showing(
        &app.address,
        &format!("{recover_path}?since={since}"),
        &secret,
        "Nothing to recover",
    )
    .await;
    assert!(!nothing_left.contains("again</button>"), "{nothing_left}");
    let unreadable = get_page(&app.address, &format!("{recover_path}?since=soon"), &secret).await;
    assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);

    // The API's refusal is explained on the page.
    let light = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "light", "url": receiver.url("/light"), "events": ["lead.deleted"],
                   "lightweight_logs": true}),
        )
        .await;
    let light = light.body["id"].as_str().expect("id");
    let refused = get_page(
        &app.address,
        &format!("/webhooks/{light}/recover?since={since}"),
        &secret,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("body");
    assert!(html.contains("keeps lightweight logs"), "{html}");

    // Regenerating the secret asks first, then shows the new one.
    let confirm = get_page(
        &app.address,
        &format!("/webhooks/{webhook}/regenerate-secret"),
        &secret,
    )
    .await
    .text()
    .await
    .expect("body");
    assert!(
        confirm.contains("The old secret stops working now"),
        "{confirm}"
    );
    let regenerated = post(format!("/webhooks/{webhook}/regenerate-secret"), vec![])
        .await
        .expect("regenerate");
    assert_eq!(regenerated.status(), StatusCode::SEE_OTHER);
    let shown = location(regenerated.headers()).to_owned();
    let page = get_page(&app.address, &shown, &secret)
        .await
        .text()
        .await
        .expect("body");
    let new_secret = app.get(&format!("/api/v1/webhooks/{webhook}")).await.body["signing_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(new_secret, old_secret);
    assert!(page.contains(&new_secret), "{page}");
    assert!(page.contains("<details class=\"reveal\" open>"), "{page}");
}

async fn send_test_opens_the_logged_test_with_its_request_and_answer(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::status(202)]);
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"name": "CRM sync", "url": receiver.url("/hook"), "events": ["lead.created"],
                   "active": false}),
        )
        .await;
    let webhook = created.body["id"].as_str().expect("id").to_owned();
    let secret = sign_in(&app.address, &app.api_key).await;
    let sent = client()
        .post(app.url(&format!("/webhooks/{webhook}/test")))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("switchyard_session={secret}"))
        .send()
        .await
        .expect("send a test");
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let received = receiver.wait_for(1).await;
    let message = received[0].header("webhook-id").to_owned();
    assert_eq!(
        location(sent.headers()),
        format!("/webhooks/{webhook}/deliveries/{message}"),
        "an inactive webhook can be tested too"
    );
    let flash = set_cookie(sent.headers(), "switchyard_flash")
        .and_then(|cookie| cookie.split(';').next())
        .expect("a message for the next page")
        .to_owned();
    let page = client()
        .get(app.url(location(sent.headers())))
        .header("cookie", format!("switchyard_session={secret}; {flash}"))
        .send()
        .await
        .expect("the test's page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("the receiver answered HTTP 202"), "{page}");
    assert!(
        page.contains("Attempt 1") && page.contains("HTTP 202"),
        "{page}"
    );
    assert!(
        page.contains("ada.lovelace@example.com"),
        "the request body: {page}"
    );
    let log = get_page(&app.address, "/deliveries?event=test", &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(log.contains(&message), "the log filters tests: {log}");
}

async fn an_import_transform_is_attached_and_tried_through_the_apis_rules(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        client()
            .post(app.url(&path))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", format!("switchyard_session={secret}"))
            .form(&form)
            .send()
    };
    let (import, _) = app.create_active_import("HubSpot").await;
    let lead = app.create_lead(json!({"email": "t@example.com"})).await;

    // Payload builders are refused as transforms, with the API's reason.
    let refused = post(
        format!("/imports/{import}/transform"),
        vec![
            ("plugin_id", "builtin:template".into()),
            ("config", "{}".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_json = post(
        format!("/imports/{import}/transform"),
        vec![
            ("plugin_id", "builtin:json-mapper".into()),
            ("config", "{".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(bad_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_json
            .text()
            .await
            .expect("body")
            .contains("not valid JSON")
    );

    let attached = post(
        format!("/imports/{import}/transform"),
        vec![
            ("plugin_id", "builtin:json-mapper".into()),
            (
                "config",
                r#"{"records_pointer": "", "uid_pointer": "/id", "stage_pointer": "/stage"}"#
                    .into(),
            ),
        ],
    )
    .await
    .expect("post");
    assert_eq!(attached.status(), StatusCode::SEE_OTHER);
    let read = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert_eq!(read.body["transform"]["plugin_id"], "builtin:json-mapper");
    assert_eq!(read.body["transform"]["config"]["uid_pointer"], "/id");

    let tried = post(
        format!("/imports/{import}/try"),
        vec![("input", format!(r#"[{{"id": "{lead}", "stage": "won"}}]"#))],
    )
    .await
    .expect("post");
    assert_eq!(tried.status(), StatusCode::OK);
    let html = tried.text().await.expect("body");
    assert!(html.contains(&lead) && html.contains("fuel"), "{html}");
    let lead_now = app.get(&format!("/api/v1/leads/{lead}")).await;
    assert!(
        lead_now.body["funnel_stage"].is_null(),
        "a dry run writes nothing"
    );

    let removed = post(
        format!("/imports/{import}/transform"),
        vec![("plugin_id", String::new()), ("config", String::new())],
    )
    .await
    .expect("post");
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let read = app.get(&format!("/api/v1/webhook-imports/{import}")).await;
    assert!(read.body["transform"].is_null(), "{}", read.text);
}

/// A `multipart/form-data` body of text fields and one file.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "switchyard-test-boundary-7d1c";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"plugin.wasm\"\r\n\
             Content-Type: application/wasm\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn plugins_are_uploaded_dry_run_and_deleted_only_when_unused(app: TestApp) {
    let secret = sign_in(&app.address, &app.api_key).await;
    let module = switchyard::plugins::builtin::example("pipedrive-deal-stage")
        .expect("the example plugin")
        .to_vec();
    let send = |content_type: String, body: Vec<u8>| {
        client()
            .post(app.url("/plugins"))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", format!("switchyard_session={secret}"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let (content_type, body) = multipart(
        &[("name", "broken"), ("kind", "inbound-transform")],
        ("module", b"not wasm"),
    );
    let refused = send(content_type, body).await.expect("upload");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(html.contains("Invalid plugin"), "{html}");

    let (content_type, body) = multipart(
        &[("name", "pipedrive"), ("kind", "inbound-transform")],
        ("module", &module),
    );
    let uploaded = send(content_type, body).await.expect("upload");
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let path = location(uploaded.headers()).to_owned();
    let plugin = path.trim_start_matches("/plugins/").to_owned();
    assert!(plugin.starts_with("plg_"), "{path}");
    let html = get_page(&app.address, &path, &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains(&switchyard::domain::secrets::sha256_hex(&module)));

    let post = |path: String, form: Vec<(&'static str, String)>| {
        client()
            .post(app.url(&path))
            .header("sec-fetch-site", "same-origin")
            .header("cookie", format!("switchyard_session={secret}"))
            .form(&form)
            .send()
    };
    let ran = post(
        format!("/plugins/{plugin}/run"),
        vec![
            (
                "config",
                r#"{"lead_uid_field": "switchyard_uid", "stages": {"3": "Enrolled"}}"#.into(),
            ),
            (
                "input",
                r#"{"event": "updated.deal", "current": {"stage_id": 3, "switchyard_uid": "lead_x"}, "previous": {"stage_id": 1}}"#.into(),
            ),
        ],
    )
    .await
    .expect("run");
    assert_eq!(ran.status(), StatusCode::OK);
    let html = ran.text().await.expect("body");
    assert!(
        html.contains("lead_x") && html.contains("Enrolled"),
        "{html}"
    );

    let (import, _) = app.create_active_import("Pipedrive").await;
    let attached = app
        .put(
            &format!("/api/v1/webhook-imports/{import}/transform"),
            json!({"plugin_id": plugin, "config": {"lead_uid_field": "switchyard_uid", "stages": {}}}),
        )
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let html = get_page(&app.address, &path, &secret)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        html.contains(&format!("/imports/{import}")),
        "where it is used"
    );
    let refused = post(format!("/plugins/{plugin}/delete"), vec![])
        .await
        .expect("delete");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.expect("body");
    assert!(html.contains("remove it there first"), "{html}");

    app.delete(&format!("/api/v1/webhook-imports/{import}/transform"))
        .await;
    let deleted = post(format!("/plugins/{plugin}/delete"), vec![])
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/plugins/{plugin}")).await.status,
        404
    );
}
