//! The delivery engine under real processes: several `switchyard serve`
//! processes sharing one PostgreSQL deliver every message exactly once, and
//! a process killed with SIGKILL at random moments loses nothing: every
//! acknowledged update is in the history, every committed event reaches the
//! receiver (duplicates keep their `webhook-id`), nothing stays claimed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::cli::{ServeProcess, printed_key, start_serve};
use crate::helpers::{Backend, TestDatabase};
use crate::receiver::Receiver;

/// Settings every process of these tests runs with: loopback receivers, and
/// a short lease so that a killed process's claims come back quickly.
pub(crate) const SERVE_ARGS: [&str; 4] = [
    "--outbound-allow-cidr",
    "127.0.0.0/8",
    "--delivery-lease-seconds",
    "2",
];

pub(crate) struct Admin {
    pub(crate) client: reqwest::Client,
    pub(crate) address: String,
    pub(crate) key: String,
}

impl Admin {
    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .expect("admin request");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// Two stages, `leads` leads at the first, an active import and a
    /// webhook for stage changes to `hook`; returns the leads and the token.
    pub(crate) async fn set_up(&self, leads: usize, hook: &str) -> (Vec<String>, String) {
        let first = self
            .post("/api/v1/funnel-stages", json!({"title": "Inquiry"}))
            .await;
        self.post("/api/v1/funnel-stages", json!({"title": "Enrolled"}))
            .await;
        let mut ids = Vec::with_capacity(leads);
        for n in 0..leads {
            let lead = self
                .post(
                    "/api/v1/leads",
                    json!({"email": format!("lead{n}@example.com"), "funnel_stage_id": first["id"]}),
                )
                .await;
            ids.push(lead["lead_profile_uid"].as_str().unwrap().to_owned());
        }
        let import = self
            .post("/api/v1/webhook-imports", json!({"name": "crm"}))
            .await;
        let import_id = import["id"].as_str().unwrap();
        self.post(
            &format!("/api/v1/webhook-imports/{import_id}/activate"),
            json!({}),
        )
        .await;
        self.post(
            "/api/v1/webhooks",
            json!({"name": "sink", "url": hook, "events": ["lead.stage_changed"],
                   "retry_schedule_seconds": [0, 1, 1, 1, 1, 1]}),
        )
        .await;
        (ids, import["token"].as_str().unwrap().to_owned())
    }
}

async fn start(database: &TestDatabase) -> ServeProcess {
    start_serve(&database.url, &SERVE_ARGS).await
}

/// With the default lease: no delivery in normal operation takes longer
/// than it, so none may be sent twice.
pub(crate) async fn start_with_default_lease(database: &TestDatabase) -> ServeProcess {
    start_serve(&database.url, &SERVE_ARGS[..2]).await
}

/// The first process on `database`, serving the API only, and its admin.
async fn start_api_process(database: &TestDatabase) -> (ServeProcess, Admin) {
    let mut args = SERVE_ARGS.to_vec();
    args.extend(["--role", "api"]);
    let api = start_serve(&database.url, &args).await;
    let admin = Admin {
        client: reqwest::Client::new(),
        address: api.address.clone(),
        key: printed_key(&api.printed).expect("the first start prints a key"),
    };
    (api, admin)
}

/// Counts every arrival per `webhook-id`.
pub(crate) fn arrivals(receiver: &Receiver) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in receiver.received() {
        *counts
            .entry(request.header("webhook-id").to_owned())
            .or_default() += 1;
    }
    counts
}

/// Waits until no delivery is pending (at most `limit`).
pub(crate) async fn drained(url: &str, limit: Duration) {
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to the test database");
    let deadline = Instant::now() + limit;
    loop {
        let (pending,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
                .fetch_one(&pool)
                .await
                .expect("count pending deliveries");
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_one_postgres_send_each_message_once() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let first = start_with_default_lease(&database).await;
    let key = printed_key(&first.printed).expect("the first start prints a key");
    let others = [
        start_with_default_lease(&database).await,
        start_with_default_lease(&database).await,
    ];
    let admin = Admin {
        client: reqwest::Client::new(),
        address: first.address.clone(),
        key,
    };
    let (leads, token) = admin.set_up(1_000, &receiver.url("/hook")).await;

    // 2,000 stage changes, sent to the three processes in turn.
    let addresses = [
        first.address.clone(),
        others[0].address.clone(),
        others[1].address.clone(),
    ];
    let client = reqwest::Client::new();
    for round in 0..2 {
        let stage = ["Enrolled", "Inquiry"][round];
        for (batch, chunk) in leads.chunks(100).enumerate() {
            let records: Vec<Value> = chunk
                .iter()
                .map(|lead| json!({"lead_profile_uid": lead, "funnel_stage": stage}))
                .collect();
            let address = &addresses[(round * 10 + batch) % 3];
            let response = client
                .post(format!("{address}/api/v1/webhook-import/batch-update"))
                .bearer_auth(&token)
                .json(&json!({ "records": records }))
                .send()
                .await
                .expect("batch update");
            assert!(response.status().is_success());
        }
    }
    receiver.wait_for(2_000).await;
    drained(&database.url, Duration::from_secs(60)).await;
    // Give any stray second send time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = arrivals(&receiver);
    assert_eq!(counts.len(), 2_000, "every message arrived");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_process_killed_at_random_moments_loses_nothing() {
    a_process_killed_at_random_moments_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_process_killed_at_random_moments_loses_nothing() {
    a_process_killed_at_random_moments_loses_nothing(Backend::Postgres).await;
}

async fn a_process_killed_at_random_moments_loses_nothing(backend: Backend) {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(backend).await;
    let receiver = Receiver::start().await;
    let mut server = start(&database).await;
    let key = printed_key(&server.printed).expect("the first start prints a key");
    let admin = Admin {
        client: reqwest::Client::new(),
        address: server.address.clone(),
        key,
    };
    let (leads, token) = admin.set_up(50, &receiver.url("/hook")).await;

    // A steady stream of single updates; only answered ones are counted.
    let address = Arc::new(Mutex::new(server.address.clone()));
    let acknowledged: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stream = tokio::spawn({
        let address = Arc::clone(&address);
        let acknowledged = Arc::clone(&acknowledged);
        async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut n = 0usize;
            while !*stop_rx.borrow() {
                let lead = &leads[n % leads.len()];
                let stage = ["Enrolled", "Inquiry"][(n / leads.len()) % 2];
                let target = address
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let answer = client
                    .post(format!("{target}/api/v1/webhook-import/update"))
                    .bearer_auth(&token)
                    .json(&json!({"lead_profile_uid": lead, "funnel_stage": stage}))
                    .send()
                    .await;
                if let Ok(response) = answer
                    && response.status().is_success()
                    && let Ok(body) = response.json::<Value>().await
                    && body["status"] == "updated"
                {
                    *acknowledged
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(lead.clone())
                        .or_default() += 1;
                }
                n += 1;
            }
        }
    });

    for _ in 0..3 {
        let pause = rand::rng().random_range(300..1_200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.child.start_kill().expect("SIGKILL");
        let _ = server.child.wait().await;
        server = start(&database).await;
        *address.lock().unwrap_or_else(PoisonError::into_inner) = server.address.clone();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(true);
    stream.await.expect("the update stream");
    drained(&database.url, Duration::from_secs(60)).await;

    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await
        .unwrap();
    // Every acknowledged update is in the history (an unacknowledged one
    // may be too: the answer can be lost after the commit).
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert!(!acknowledged.is_empty(), "the stream made updates");
    for (lead, count) in &acknowledged {
        let (recorded,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND event_type = 'lead.stage_changed'",
        )
        .bind(lead)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            recorded as usize >= *count,
            "{lead}: {count} acknowledged, {recorded} recorded"
        );
    }
    // Every committed event reached the receiver, under its delivery's id.
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM deliveries")
        .fetch_all(&pool)
        .await
        .unwrap();
    let total: usize = acknowledged.values().sum();
    assert!(
        ids.len() >= total,
        "{} deliveries for {total} acknowledged changes",
        ids.len()
    );
    let counts = arrivals(&receiver);
    let missing: Vec<&String> = ids
        .iter()
        .map(|(id,)| id)
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    let (claimed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE claimed_until IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(claimed, 0, "nothing is left claimed");
    let (succeeded,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(succeeded as usize, ids.len(), "every delivery succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_worker_roles_split_the_work() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let (api, admin) = start_api_process(&database).await;
    let (leads, token) = admin.set_up(1, &receiver.url("/hook")).await;
    let moved = admin
        .client
        .post(format!("{}/api/v1/webhook-import/update", api.address))
        .bearer_auth(&token)
        .json(&json!({"lead_profile_uid": leads[0], "funnel_stage": "Enrolled"}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    receiver
        .assert_no_more_than(0, Duration::from_millis(1_500))
        .await;

    let mut args = SERVE_ARGS.to_vec();
    args.extend(["--role", "worker"]);
    let worker = start_serve(&database.url, &args).await;
    receiver.wait_for(1).await;
    let health = reqwest::get(format!("{}/healthz", worker.address))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let refused = admin
        .client
        .get(format!("{}/api/v1/leads", worker.address))
        .bearer_auth(&admin.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("--role worker"),
        "{body}"
    );
}

/// A worker-only process that would poll only once a minute still sends a
/// delivery another process committed at once: PostgreSQL `NOTIFY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_hears_of_other_processes_commits_at_once() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let (api, admin) = start_api_process(&database).await;
    let (leads, token) = admin.set_up(2, &receiver.url("/hook")).await;
    let mut args = SERVE_ARGS.to_vec();
    args.extend(["--role", "worker", "--delivery-poll-interval-ms", "60000"]);
    let _worker = start_serve(&database.url, &args).await;
    // Give the worker its first (empty) look and time to listen.
    tokio::time::sleep(Duration::from_millis(500)).await;

    for (n, lead) in leads.iter().enumerate() {
        let committed = Instant::now();
        let moved = admin
            .client
            .post(format!("{}/api/v1/webhook-import/update", api.address))
            .bearer_auth(&token)
            .json(&json!({"lead_profile_uid": lead, "funnel_stage": "Enrolled"}))
            .send()
            .await
            .unwrap();
        assert!(moved.status().is_success());
        let arrived = tokio::time::timeout(Duration::from_secs(10), receiver.wait_for(n + 1)).await;
        assert!(
            arrived.is_ok(),
            "delivery {n} did not arrive within 10 s of its commit (the worker polls once a minute)"
        );
        assert!(committed.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_deliveries_in_flight_and_exits() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::create(Backend::Sqlite).await;
    let receiver = Receiver::start().await;
    receiver.script([crate::receiver::Reply::status(200).after(Duration::from_millis(1_500))]);
    let server = start(&database).await;
    let admin = Admin {
        client: reqwest::Client::new(),
        address: server.address.clone(),
        key: printed_key(&server.printed).expect("the first start prints a key"),
    };
    admin.set_up(0, &receiver.url("/hook")).await;
    admin
        .post(
            "/api/v1/webhooks",
            json!({"name": "created", "url": receiver.url("/slow"), "events": ["lead.created"]}),
        )
        .await;
    admin
        .post("/api/v1/leads", json!({"email": "a@example.com"}))
        .await;
    receiver.wait_for(1).await;
    // The receiver is still answering: the delivery is in flight.
    let started = Instant::now();
    assert!(
        crate::cli::terminate(server).await,
        "exits with success after SIGTERM"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await
        .unwrap();
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT status, claimed_until FROM deliveries")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![("succeeded".to_owned(), None)],
        "the delivery in flight was finished and recorded before exiting"
    );
}
