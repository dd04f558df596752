//! What the server logs, read from the real binary's standard error (a
//! pipe, not a terminal): one access-log line per request at the default
//! level, with the route's template instead of the ids in the path, no ANSI
//! colour codes, and a 413 that says the limit and the flag that raises it.

use tokio::io::AsyncReadExt;

use crate::cli::{printed_key, start_serve};
use crate::helpers::{Backend, TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_logged_one_plain_line_each_and_a_413_names_the_limit() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut server = start_serve(&database.url, &["--max-body-bytes", "2000"]).await;
    let key = printed_key(&server.printed).expect("a first start prints a key");
    let client = reqwest::Client::new();
    let base = &server.address;

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

    let pid = server.child.id().expect("pid").to_string();
    let mut stderr = server.child.stderr.take().expect("stderr");
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let mut log = String::new();
    stderr.read_to_string(&mut log).await.expect("read stderr");
    assert!(server.child.wait().await.expect("wait").success());

    assert!(!log.contains('\u{1b}'), "ANSI codes in a piped log:\n{log}");
    let access: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("switchyard::access"))
        .collect();
    for expected in [
        "method=POST route=/api/v1/leads status=201",
        "method=GET route=/api/v1/leads/{lead_profile_uid} status=200",
        "method=GET route=(no route) status=404",
        "method=POST route=/api/v1/leads status=413",
    ] {
        assert_eq!(
            access.iter().filter(|line| line.contains(expected)).count(),
            1,
            "one line with {expected:?} in:\n{log}"
        );
    }
    assert!(
        access.iter().all(|line| line.contains("duration_ms=")),
        "{log}"
    );
    assert!(!log.contains(&uid), "ids in paths are not logged:\n{log}");
}
