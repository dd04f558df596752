//! What the server logs, read from the real binary's standard error (a
//! pipe, not a terminal): one access-log line per request at the default
//! level, with the route's template instead of the ids in the path, no ANSI
//! colour codes, a 413 that says the limit and the flag that raises it,
//! and one warning when a webhook starts failing.

use crate::cli::{printed_key, start_serve};
use crate::helpers::{Backend, TestDatabase};
use crate::receiver::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_logged_one_plain_line_each_and_a_413_names_the_limit() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let server = start_serve(
        &database.url,
        &[
            "--max-body-bytes",
            "2000",
            "--outbound-allow-cidr",
            "127.0.0.0/8",
        ],
    )
    .await;
    let key = printed_key(&server.printed).expect("a first start prints a key");
    let client = reqwest::Client::new();
    let base = &server.address;

    let receiver = Receiver::start().await;
    receiver.script([Reply::status(500), Reply::status(500)]);
    let webhook = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"name": "Failing CRM", "url": receiver.url("/hook"),
                                  "events": ["lead.created"], "retry_schedule_seconds": []}),
        )
        .send()
        .await
        .expect("create a webhook");
    assert_eq!(webhook.status(), 201);
    let webhook: serde_json::Value = webhook.json().await.expect("JSON");
    let webhook_id = webhook["id"].as_str().expect("id").to_owned();
    let second = client
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"email": "second@example.com"}))
        .send()
        .await
        .expect("create a lead");
    assert_eq!(second.status(), 201);

    let lead = client
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"email": "ada@example.com"}))
        .send()
        .await
        .expect("create a lead");
    assert_eq!(lead.status(), 201);
    let lead: serde_json::Value = lead.json().await.expect("JSON");
    let uid = lead["lead_profile_uid"].as_str().expect("uid").to_owned();
    let read = client
        .get(format!("{base}/api/v1/leads/{uid}"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("read the lead");
    assert_eq!(read.status(), 200);
    let unknown = client
        .get(format!("{base}/api/v1/nothing-here"))
        .send()
        .await
        .expect("an unknown path");
    assert_eq!(unknown.status(), 404);

    let too_large = client
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"email": "b@example.com", "notes": "x".repeat(4_000)}))
        .send()
        .await
        .expect("an oversized body");
    assert_eq!(too_large.status(), 413);
    let body: serde_json::Value = too_large.json().await.expect("a JSON error");
    let message = body["error"].as_str().expect("an error message");
    assert!(
        message.contains("2000 bytes") && message.contains("--max-body-bytes"),
        "{message}"
    );

    // Both deliveries failed (a run of failures that starts once).
    receiver.wait_for(2).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let failed: serde_json::Value = client
            .get(format!(
                "{base}/api/v1/webhooks/{webhook_id}/deliveries?status=failed"
            ))
            .bearer_auth(&key)
            .send()
            .await
            .expect("list deliveries")
            .json()
            .await
            .expect("JSON");
        if failed["data"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{failed}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (stopped, log) = server.stop().await;
    assert!(stopped, "SIGTERM exit was not clean");

    assert!(!log.contains('\u{1b}'), "ANSI codes in a piped log:\n{log}");
    let access: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("switchyard::access"))
        .collect();
    for (expected, times) in [
        ("method=POST route=/api/v1/leads status=201", 2),
        (
            "method=GET route=/api/v1/leads/{lead_profile_uid} status=200",
            1,
        ),
        ("method=GET route=(no route) status=404", 1),
        ("method=POST route=/api/v1/leads status=413", 1),
    ] {
        assert_eq!(
            access.iter().filter(|line| line.contains(expected)).count(),
            times,
            "{times} line(s) with {expected:?} in:\n{log}"
        );
    }
    assert!(
        access.iter().all(|line| line.contains("duration_ms=")),
        "{log}"
    );
    assert!(!log.contains(&uid), "ids in paths are not logged:\n{log}");
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("webhook started failing"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per run of failures:\n{log}");
    assert!(
        warnings[0].contains(&webhook_id) && warnings[0].contains("Failing CRM"),
        "{log}"
    );
}
