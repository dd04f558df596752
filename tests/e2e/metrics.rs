//! `GET /metrics` after real traffic: a `switchyard serve` process of its
//! own (the counters are per process, so no other test's traffic mixes
//! in) takes inbound updates, renders deliveries with a payload plugin,
//! runs a transform, and delivers to a real receiver that first asks for a
//! retry; the counters then moved by exactly what was sent. Also: the
//! endpoint's settings (token, off, its own listener).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{printed_key, start_serve, terminate};
use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::receiver::{Receiver, Reply};

crate::on_both_backends!(
    backend: the_metrics_count_exactly_the_traffic_sent,
    the_endpoint_follows_its_settings,
);

/// One scrape: each sample's value by its name and labels as written
/// (`name{a="x",b="y"}`).
#[derive(Debug, Default)]
struct Scrape(HashMap<String, f64>);

impl Scrape {
    fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line
                    .rsplit_once(' ')
                    .unwrap_or_else(|| panic!("not a sample line: {line}"));
                let value = match value {
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    value => value
                        .parse()
                        .unwrap_or_else(|_| panic!("not a number in: {line}")),
                };
                (series.to_owned(), value)
            })
            .collect();
        Self(samples)
    }

    /// A sample's value; 0 for a series not exposed yet.
    fn get(&self, series: &str) -> f64 {
        self.0.get(series).copied().unwrap_or(0.0)
    }

    fn has(&self, series: &str) -> bool {
        self.0.contains_key(series)
    }
}

async fn scrape(client: &reqwest::Client, url: &str) -> Scrape {
    let response = client.get(url).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.expect("metrics body"))
}

struct Client {
    http: reqwest::Client,
    address: String,
}

impl Client {
    async fn send(&self, token: &str, method: Method, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn admin(&self, key: &str, method: Method, path: &str, body: Value) -> Value {
        let (status, body) = self.send(key, method, path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }
}

const UPDATE: &str = "/api/v1/webhook-import/update";
const BATCH: &str = "/api/v1/webhook-import/batch-update";

async fn the_metrics_count_exactly_the_traffic_sent(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let receiver = Receiver::start().await;
    // The first delivery is asked to come back in a second: one retry.
    receiver.script([Reply::status(503).header("retry-after", "1")]);
    let server = start_serve(
        &database.url,
        &[
            "--outbound-allow-cidr",
            "127.0.0.0/8",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    )
    .await;
    let key = printed_key(&server.printed).expect("the first start prints a key");
    let metrics_url = server
        .printed
        .iter()
        .find_map(|line| line.strip_prefix("Switchyard metrics on "))
        .expect("the metrics address is printed")
        .to_owned();
    let client = Client {
        http: reqwest::Client::new(),
        address: server.address.clone(),
    };
    // /metrics is on its own listener, not on the API's.
    let on_api = client
        .http
        .get(format!("{}/metrics", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), 404);

    for title in ["Inquiry", "Application", "Enrolled"] {
        client
            .admin(
                &key,
                Method::POST,
                "/api/v1/funnel-stages",
                json!({"title": title}),
            )
            .await;
    }
    let mut leads = Vec::new();
    for email in ["ada@example.com", "grace@example.com"] {
        let lead = client
            .admin(&key, Method::POST, "/api/v1/leads", json!({"email": email}))
            .await;
        leads.push(lead["lead_profile_uid"].as_str().unwrap().to_owned());
    }
    let (ada, grace) = (&leads[0], &leads[1]);
    let mut tokens = Vec::new();
    for name in ["plain", "mapped"] {
        let import = client
            .admin(
                &key,
                Method::POST,
                "/api/v1/webhook-imports",
                json!({"name": name}),
            )
            .await;
        let id = import["id"].as_str().unwrap();
        client
            .admin(
                &key,
                Method::POST,
                &format!("/api/v1/webhook-imports/{id}/activate"),
                json!({}),
            )
            .await;
        if name == "mapped" {
            client
                .admin(
                    &key,
                    Method::PUT,
                    &format!("/api/v1/webhook-imports/{id}/transform"),
                    json!({"plugin_id": "builtin:json-mapper", "config": {
                        "records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/stage"}}),
                )
                .await;
        }
        tokens.push(import["token"].as_str().unwrap().to_owned());
    }
    let (plain, mapped) = (&tokens[0], &tokens[1]);
    client
        .admin(
            &key,
            Method::POST,
            "/api/v1/webhooks",
            json!({"name": "sink", "url": receiver.url("/hook"), "events": ["lead.stage_changed"],
                   "payload_format": "small", "retry_schedule_seconds": [1, 1, 1]}),
        )
        .await;

    let before = scrape(&client.http, &metrics_url).await;

    // Single updates: updated, unchanged, a stage that does not exist, a
    // lead that does not exist.
    let post = Method::POST;
    let moved = client
        .send(
            plain,
            post.clone(),
            UPDATE,
            json!({"lead_profile_uid": ada, "funnel_stage": "Inquiry"}),
        )
        .await;
    assert_eq!(
        (moved.0, moved.1["status"].as_str()),
        (200, Some("updated"))
    );
    let again = client
        .send(
            plain,
            post.clone(),
            UPDATE,
            json!({"lead_profile_uid": ada, "funnel_stage": "inquiry"}),
        )
        .await;
    assert_eq!(
        (again.0, again.1["status"].as_str()),
        (200, Some("unchanged"))
    );
    let bad_stage = client
        .send(
            plain,
            post.clone(),
            UPDATE,
            json!({"lead_profile_uid": ada, "funnel_stage": "Nope"}),
        )
        .await;
    assert_eq!(bad_stage.0, 422);
    let no_lead = client
        .send(
            plain,
            post.clone(),
            UPDATE,
            json!({"lead_profile_uid": "lead_none", "funnel_stage": "Inquiry"}),
        )
        .await;
    assert_eq!(no_lead.0, 404);
    // A batch: one of each, and a record that is not a record.
    let batch = client
        .send(
            plain,
            Method::PATCH,
            BATCH,
            json!({"records": [
                {"lead_profile_uid": grace, "funnel_stage": "Application"},
                {"lead_profile_uid": ada, "funnel_stage": "Inquiry"},
                {"lead_profile_uid": grace, "funnel_stage": "Nope"},
                {"lead_profile_uid": 7},
            ]}),
        )
        .await;
    assert_eq!(batch.0, 200, "{}", batch.1);
    assert_eq!(
        (
            &batch.1["updated"],
            &batch.1["unchanged"],
            &batch.1["failed"]
        ),
        (&json!(1), &json!(1), &json!(2))
    );
    // Through the transform (one plugin call): one more update.
    let transformed = client
        .send(
            mapped,
            post.clone(),
            UPDATE,
            json!([{"objectId": ada, "stage": "Enrolled"}]),
        )
        .await;
    assert_eq!(
        (transformed.0, &transformed.1["updated"]),
        (200, &json!(1)),
        "{}",
        transformed.1
    );

    // Three stage changes: three deliveries, the first sent twice.
    receiver.wait_for(4).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let after = scrape(&client.http, &metrics_url).await;
        let delivered = r#"switchyard_delivery_attempts_total{outcome="delivered"}"#;
        // An attempt is counted when its answer arrives; the delivery
        // leaves the queue when the recorder commits its result, a moment
        // later: wait for both before reading either.
        let queued = after.get(r#"switchyard_delivery_queue_depth{state="due"}"#)
            + after.get(r#"switchyard_delivery_queue_depth{state="later"}"#);
        let settled = after.get(delivered) - before.get(delivered) >= 3.0 && queued == 0.0;
        if settled || Instant::now() > deadline {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let delta = |series: &str| after.get(series) - before.get(series);

    let inbound = |outcome: &str, reason: &str| {
        delta(&format!(
            r#"switchyard_inbound_updates_total{{outcome="{outcome}",reason="{reason}"}}"#
        ))
    };
    assert_eq!(inbound("updated", ""), 3.0);
    assert_eq!(inbound("unchanged", ""), 2.0);
    assert_eq!(inbound("failed", "invalid_stage"), 2.0);
    assert_eq!(inbound("failed", "lead_not_found"), 1.0);
    assert_eq!(inbound("failed", "invalid_record"), 1.0);
    assert_eq!(inbound("failed", "transform_failed"), 0.0);

    let requests = |route: &str, method: &str, status: u16| {
        delta(&format!(
            r#"switchyard_http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#
        ))
    };
    assert_eq!(requests(UPDATE, "POST", 200), 3.0);
    assert_eq!(requests(UPDATE, "POST", 422), 1.0);
    assert_eq!(requests(UPDATE, "POST", 404), 1.0);
    assert_eq!(requests(BATCH, "PATCH", 200), 1.0);
    assert_eq!(
        delta(&format!(
            r#"switchyard_http_request_duration_seconds_count{{method="POST",route="{UPDATE}"}}"#
        )),
        5.0
    );
    // Labels name route templates, never what a request carried.
    assert!(!after.0.keys().any(|series| series.contains("lead_none")));

    let deliveries = |outcome: &str| {
        delta(&format!(
            r#"switchyard_delivery_attempts_total{{outcome="{outcome}"}}"#
        ))
    };
    assert_eq!(deliveries("delivered"), 3.0);
    assert_eq!(deliveries("retrying"), 1.0);
    assert_eq!(deliveries("failed"), 0.0);
    assert_eq!(deliveries("parked"), 0.0);
    assert_eq!(
        delta("switchyard_delivery_attempt_duration_seconds_count"),
        4.0
    );
    assert!(delta("switchyard_delivery_attempt_duration_seconds_sum") > 0.0);

    // The payload builder renders each message once (the retry reuses the
    // stored payload); the transform ran once.
    assert_eq!(
        delta(
            r#"switchyard_plugin_calls_total{plugin="builtin:small",kind="payload-builder",outcome="ok"}"#
        ),
        3.0
    );
    assert_eq!(
        delta(
            r#"switchyard_plugin_calls_total{plugin="builtin:json-mapper",kind="inbound-transform",outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        delta(r#"switchyard_plugin_fuel_count{plugin="builtin:small"}"#),
        3.0
    );
    assert!(delta(r#"switchyard_plugin_fuel_sum{plugin="builtin:json-mapper"}"#) > 0.0);
    assert_eq!(
        delta(r#"switchyard_plugin_call_duration_seconds_count{plugin="builtin:json-mapper"}"#),
        1.0
    );

    // Everything was delivered: the queue is empty.
    assert_eq!(
        after.get(r#"switchyard_delivery_queue_depth{state="due"}"#),
        0.0
    );
    assert_eq!(
        after.get(r#"switchyard_delivery_queue_depth{state="later"}"#),
        0.0
    );
    assert!(after.has("switchyard_delivery_oldest_due_age_seconds"));
    assert!(after.get("switchyard_db_pool_connections_max") >= 1.0);
    assert!(after.get("switchyard_db_pool_connections_open") >= 1.0);
    assert!(after.has("switchyard_db_pool_connections_in_use"));
    assert!(after.get("process_resident_memory_bytes") > 1e6);
    assert!(after.get("process_cpu_seconds_total") > 0.0);
    assert!(after.get("process_start_time_seconds") > 1.7e9);
    assert!(terminate(server).await, "the server stops cleanly");
}

async fn the_endpoint_follows_its_settings(backend: Backend) {
    // On the API's listener by default, open.
    let app = TestApp::spawn(backend).await;
    let open = app.send_as(None, Method::GET, "/metrics", None).await;
    assert_eq!(open.status, 200, "{}", open.text);
    assert!(
        open.text
            .contains("# TYPE switchyard_inbound_updates_total counter\n")
    );
    assert!(
        open.text
            .contains("# TYPE switchyard_delivery_queue_depth gauge\n")
    );
    drop(app);

    // Behind a token.
    let app = TestApp::spawn_with(backend, |config| {
        config.metrics.metrics_token = Some("scrape-s3cret".into());
    })
    .await;
    let without = app.send_as(None, Method::GET, "/metrics", None).await;
    assert_eq!(without.status, 401);
    assert!(without.text.contains("--metrics-token"), "{}", without.text);
    let wrong = app
        .send_as(Some("scrape-s3creT"), Method::GET, "/metrics", None)
        .await;
    assert_eq!(wrong.status, 401);
    // An admin key is not the metrics token.
    let admin = app.get("/metrics").await;
    assert_eq!(admin.status, 401);
    let right = app
        .send_as(Some("scrape-s3cret"), Method::GET, "/metrics", None)
        .await;
    assert_eq!(right.status, 200);
    drop(app);

    // Off.
    let app = TestApp::spawn_with(backend, |config| {
        config.metrics.mode = switchyard::config::MetricsMode::Off;
    })
    .await;
    assert_eq!(
        app.send_as(None, Method::GET, "/metrics", None)
            .await
            .status,
        404
    );
    drop(app);

    // Off and a listener of its own contradict each other.
    let database = TestDatabase::create(backend).await;
    let mut config = switchyard::config::ServeConfig::for_database(database.url.clone());
    config.metrics.mode = switchyard::config::MetricsMode::Off;
    config.metrics.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let refused = match switchyard::startup::Application::build(&config).await {
        Ok(_) => panic!("--metrics off with --metrics-listen must be refused"),
        Err(error) => format!("{error:#}"),
    };
    assert!(refused.contains("--metrics-listen"), "{refused}");
}
