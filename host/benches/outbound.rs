//! Outbound benchmark: deliveries per second from committed lead changes
//! to a local receiver that answers 200 at once, through real `switchyard`
//! processes, on SQLite and PostgreSQL. Every delivery is signed (Standard
//! Webhooks) and uses the built-in `small` payload plugin. Beside it, in the
//! same run, the receiver's own request rate measured with a keep-alive
//! client: the ceiling of this machine.
//!
//! An API-only process (`--role api`) commits `BENCH_EVENTS` stage moves
//! (default 20000) with 100-record inbound batches while nothing sends;
//! then a `--role worker` process starts and drains that queue, measured
//! from the first arrival to the last. Then one process doing both takes
//! changes paced at `BENCH_PACED_RATE` per second (default 1000, in bursts
//! of 100) for `BENCH_SECONDS`, and the receiver measures enqueue-to-receive
//! latency from each payload's event `timestamp`.
//!
//! Then, unless `BENCH_SCALE` says otherwise (default `processes,batching`):
//! the same queue drained by one, two and three worker processes on one
//! PostgreSQL, and with the webhook batching (`any_event`, 100 per request,
//! counted per message) on both engines.
//!
//! Settings (environment): `BENCH_EVENTS`, `BENCH_SECONDS` (also the
//! baseline's duration, default 5), `BENCH_CONCURRENCY` (baseline client
//! connections, default 32), `BENCH_BACKENDS` (default `sqlite,postgres`),
//! `BENCH_PACED_RATE`, `BENCH_SCALE`, `BENCH_POSTGRES_URL`,
//! `BENCH_SQLITE_SYNCHRONOUS`, `BENCH_MAX_IN_FLIGHT` (the webhook's cap on
//! deliveries in flight; unset: the default, 16).

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use common::{
    Request, Route, ScratchDatabase, Server, Target, create_active_import, env_or, measure, served,
};
use serde_json::{Value, json};

const LEADS: usize = 1_000;
const STAGES: [&str; 2] = ["Inquiry", "Enrolled"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = env_or("BENCH_EVENTS", 20_000);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let paced_rate: usize = env_or("BENCH_PACED_RATE", 1_000);

    let receiver = Receiver::start().await?;
    println!("# Outbound benchmark: {events} signed `small` deliveries per backend\n");
    let baseline = {
        let target = Target::new(&receiver.base);
        let route = Route::json("POST", &target, "/baseline", None);
        let body: Arc<str> = sample_body().into();
        let duration = Duration::from_secs(seconds);
        measure(
            &target,
            concurrency,
            duration,
            move |request: &mut Request, _, _| {
                request.body(&route, &*body);
                served
            },
        )
        .await
    };
    common::Stats::print_header("per second");
    baseline.print(
        "-",
        &format!("baseline: the receiver's own rate ({concurrency} keep-alive connections)"),
        None,
    );

    let rounds = events.div_ceil(LEADS);
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let (api, fixture, database) = queue_up(backend, &receiver, false, rounds).await?;
        let (drained, workers) = drain(&database, 1, &receiver, rounds * LEADS).await?;
        drained.print(
            backend,
            "deliveries, queue drained by one worker process",
            &baseline,
        );

        // Latency with one process doing both, as most installations run:
        // its commits wake its worker at once.
        stop_all(api, workers).await;
        let server =
            Server::start(&database.url, &["--outbound-allow-cidr", "127.0.0.0/8"]).await?;
        receiver.reset();
        let paced_rounds = (paced_rate * usize::try_from(seconds).unwrap_or(5)).div_ceil(LEADS);
        let paced_events = paced_rounds * LEADS;
        produce_paced(&server, &fixture, rounds, paced_rounds, paced_rate).await?;
        receiver
            .wait_for(paced_events, Duration::from_secs(120))
            .await;
        let paced = Burst::measured(&receiver, paced_events);
        paced.print(
            backend,
            &format!("deliveries paced at {paced_rate}/s, enqueue to receive, one process"),
            &baseline,
        );
        server.stop().await;
    }

    // Scale-out: one to three worker processes on one PostgreSQL draining
    // the same queue; and batching, against one worker without it.
    let scale = std::env::var("BENCH_SCALE").unwrap_or_else(|_| "processes,batching".into());
    if scale.contains("processes") {
        for processes in 1..=3 {
            let (api, _, database) = queue_up("postgres", &receiver, false, rounds).await?;
            let (drained, workers) = drain(&database, processes, &receiver, rounds * LEADS).await?;
            drained.print(
                "postgres",
                &format!("deliveries, queue drained by {processes} worker process(es)"),
                &baseline,
            );
            stop_all(api, workers).await;
        }
    }
    if scale.contains("batching") {
        for backend in ["sqlite", "postgres"] {
            let (api, _, database) = queue_up(backend, &receiver, true, rounds).await?;
            let (drained, workers) = drain(&database, 1, &receiver, rounds * LEADS).await?;
            drained.print(
                backend,
                "messages batched (any_event, 100 per request), queue drained by one worker",
                &baseline,
            );
            stop_all(api, workers).await;
        }
    }
    Ok(())
}

/// An API-only server on a scratch database with the fixture, and
/// `rounds` moves of every lead committed: a queue of deliveries no one
/// sends yet.
async fn queue_up(
    backend: &str,
    receiver: &Receiver,
    batching: bool,
    rounds: usize,
) -> anyhow::Result<(Server, Arc<Fixture>, ScratchDatabase)> {
    let database = ScratchDatabase::create(backend).await?;
    let api = Server::start(
        &database.url,
        &["--outbound-allow-cidr", "127.0.0.0/8", "--role", "api"],
    )
    .await?;
    let fixture = Arc::new(Fixture::create(&api, &receiver.url("/hook"), batching).await?);
    receiver.reset();
    produce(&api, &fixture, 0, rounds).await?;
    Ok((api, fixture, database))
}

/// Starts `workers` worker processes and measures how fast they deliver
/// the `expected` queued messages (first arrival to last). Returns the
/// workers, still running.
async fn drain(
    database: &ScratchDatabase,
    workers: usize,
    receiver: &Receiver,
    expected: usize,
) -> anyhow::Result<(Burst, Vec<Server>)> {
    let mut started = Vec::new();
    for _ in 0..workers {
        let args = ["--outbound-allow-cidr", "127.0.0.0/8", "--role", "worker"];
        started.push(Server::start(&database.url, &args).await?);
    }
    receiver.wait_for(expected, Duration::from_secs(300)).await;
    Ok((Burst::measured(receiver, expected), started))
}

async fn stop_all(api: Server, workers: Vec<Server>) {
    for worker in workers {
        worker.stop().await;
    }
    api.stop().await;
}

/// What one measurement saw at the receiver.
struct Burst {
    received: usize,
    expected: usize,
    /// Messages per second from the first arrival to the last.
    rate: f64,
    p50: Duration,
    p99: Duration,
    duplicates: usize,
}

impl Burst {
    fn measured(receiver: &Receiver, expected: usize) -> Self {
        let seen = receiver.lock();
        let received = seen.ids.len();
        let span = match (seen.first_arrival, seen.last_arrival) {
            (Some(first), Some(last)) => last - first,
            _ => Duration::ZERO,
        };
        drop(seen);
        let (p50, p99, duplicates) = receiver.latencies();
        Self {
            received,
            expected,
            rate: received.saturating_sub(1) as f64 / span.as_secs_f64().max(1e-9),
            p50,
            p99,
            duplicates,
        }
    }

    fn print(&self, backend: &str, name: &str, baseline: &common::Stats) {
        let duplicates = if self.duplicates > 0 {
            format!("; {} duplicates", self.duplicates)
        } else {
            String::new()
        };
        println!(
            "| {backend} | {name} ({} of {}{duplicates}) | {:.0} | {:.1} | {:.1} | {:.2} | |",
            self.received,
            self.expected,
            self.rate,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.rate / baseline.rate,
        );
    }
}

/// A payload about the size of a `small` one.
fn sample_body() -> String {
    json!({
        "id": "msg_01JDQ4W0Y3R7K2M8N6P5T9V1XZ", "event": "lead.stage_changed",
        "webhook_id": "wh_01JDQ4W0Y3R7K2M8N6P5T9V1XZ", "object_id": "lead_01JDQ4W0Y3R7K2M8N6P5T9V1XZ",
        "timestamp": "2026-11-23T14:00:00.123456Z",
        "actor": {"type": "webhook_import", "id": "imp_01JDQ4W0Y3R7K2M8N6P5T9V1XZ", "name": "bench"},
        "data": {"lead_profile_uid": "lead_01JDQ4W0Y3R7K2M8N6P5T9V1XZ", "email": "lead1@example.com",
                 "first_name": null, "last_name": null, "funnel_stage": "Enrolled",
                 "funnel_stage_id": "stage_01JDQ4W0Y3R7K2M8N6P5T9V1XZ"}
    })
    .to_string()
}

/// Groups of 100 leads, each moved by one batch request.
const GROUPS: usize = LEADS / 100;

/// The batch request that moves `group` in `round`: every round moves each
/// group to the other stage, so every record is a change.
fn batch_body(fixture: &Fixture, group: usize, round: usize) -> Value {
    let stage = STAGES[(round + 1) % 2];
    let records: Vec<Value> = fixture.leads[group * 100..group * 100 + 100]
        .iter()
        .map(|lead| json!({"lead_profile_uid": lead, "funnel_stage": stage}))
        .collect();
    json!({ "records": records })
}

async fn send_batch(
    client: &reqwest::Client,
    url: &str,
    fixture: &Fixture,
    group: usize,
    round: usize,
) -> anyhow::Result<()> {
    let response = client
        .post(url)
        .bearer_auth(&fixture.token)
        .json(&batch_body(fixture, group, round))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "batch failed: {}",
        response.status()
    );
    Ok(())
}

/// Commits `rounds` moves of every lead as fast as the server takes them,
/// from 4 concurrent clients, each owning some groups (so the moves of one
/// lead stay in order).
async fn produce(
    server: &Server,
    fixture: &Arc<Fixture>,
    first_round: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/webhook-import/batch-update", server.address);
    let mut producers = Vec::new();
    for producer in 0..4 {
        let url = url.clone();
        let fixture = Arc::clone(fixture);
        producers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for round in first_round..first_round + rounds {
                for group in (producer..GROUPS).step_by(4) {
                    send_batch(&client, &url, &fixture, group, round).await?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for producer in producers {
        producer.await??;
    }
    Ok(())
}

/// Commits `rounds` more moves of every lead (after `first_round` rounds),
/// one batch every `100 / rate` seconds.
async fn produce_paced(
    server: &Server,
    fixture: &Fixture,
    first_round: usize,
    rounds: usize,
    rate: usize,
) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/webhook-import/batch-update", server.address);
    let client = reqwest::Client::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(100.0 / rate.max(1) as f64));
    for round in first_round..first_round + rounds {
        for group in 0..GROUPS {
            ticker.tick().await;
            send_batch(&client, &url, fixture, group, round).await?;
        }
    }
    Ok(())
}

/// A funnel, the leads (all at the first stage), an active import, and one
/// webhook listening to stage changes.
struct Fixture {
    token: String,
    leads: Vec<String>,
}

impl Fixture {
    async fn create(server: &Server, hook_url: &str, batching: bool) -> anyhow::Result<Self> {
        let admin = |path: &'static str, body: Value| async move {
            server.admin(reqwest::Method::POST, path, &body).await
        };
        let mut stage_ids = Vec::new();
        for title in STAGES {
            let stage = admin("/api/v1/funnel-stages", json!({ "title": title })).await?;
            stage_ids.push(stage["id"].as_str().unwrap_or_default().to_owned());
        }
        let mut leads = Vec::with_capacity(LEADS);
        for n in 0..LEADS {
            let lead = admin(
                "/api/v1/leads",
                json!({"email": format!("lead{n}@example.com"), "funnel_stage_id": stage_ids[0]}),
            )
            .await?;
            leads.push(
                lead["lead_profile_uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        let (_, token) = create_active_import(server, "bench").await?;
        // Created after the leads, so only the measured changes are sent.
        let mut webhook = if batching {
            json!({"name": "bench", "url": hook_url, "events": ["lead.stage_changed"], "payload_format": "small",
                   "batch_mode": "any_event", "max_items_per_batch": 100, "batch_wait_seconds": 1})
        } else {
            json!({"name": "bench", "url": hook_url, "events": ["lead.stage_changed"], "payload_format": "small"})
        };
        // The webhook's cap on deliveries in flight (default 64): a higher
        // one measures the engine rather than the cap.
        if let Ok(cap) = std::env::var("BENCH_MAX_IN_FLIGHT") {
            webhook["max_in_flight"] = json!(cap.parse::<u32>()?);
        }
        admin("/api/v1/webhooks", webhook).await?;
        Ok(Self { token, leads })
    }
}

/// The receiver: answers 200 at once and notes, per webhook message, when
/// it arrived and how long after its event was committed.
#[derive(Clone)]
struct Receiver {
    base: String,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    duplicates: usize,
    latencies: Vec<Duration>,
    first_arrival: Option<Instant>,
    last_arrival: Option<Instant>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let router = Router::new()
            .route("/baseline", axum::routing::post(|| async { "ok" }))
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::clone(&seen));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { base, seen })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reset(&self) {
        *self.lock() = Seen::default();
    }

    /// Waits until `count` distinct messages have arrived, or the timeout;
    /// returns how many did.
    async fn wait_for(&self, count: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.lock().ids.len();
            if arrived >= count || Instant::now() > deadline {
                return arrived;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// p50, p99 of enqueue-to-receive, and duplicate arrivals.
    fn latencies(&self) -> (Duration, Duration, usize) {
        let mut seen = self.lock();
        seen.latencies.sort();
        let at = |p: f64| {
            seen.latencies
                .get(
                    ((seen.latencies.len() as f64 * p) as usize)
                        .min(seen.latencies.len().saturating_sub(1)),
                )
                .copied()
                .unwrap_or_default()
        };
        (at(0.5), at(0.99), seen.duplicates)
    }
}

async fn hook(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let arrived = Instant::now();
    let latency_of = |payload: &Value| {
        payload["timestamp"]
            .as_str()
            .and_then(|timestamp| DateTime::parse_from_rfc3339(timestamp).ok())
            .and_then(|at| (Utc::now() - at.with_timezone(&Utc)).to_std().ok())
            .unwrap_or_default()
    };
    // A batch is an array of payloads, each with its own message id.
    let messages: Vec<(String, Duration)> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let id = item["id"].as_str().unwrap_or_default().to_owned();
                (id, latency_of(item))
            })
            .collect(),
        Ok(payload) => {
            let id = headers
                .get("webhook-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            vec![(id, latency_of(&payload))]
        }
        Err(_) => Vec::new(),
    };
    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    for (id, latency) in messages {
        if seen.ids.insert(id) {
            seen.latencies.push(latency);
        } else {
            seen.duplicates += 1;
        }
    }
    seen.first_arrival.get_or_insert(arrived);
    seen.last_arrival = Some(arrived);
    "ok"
}
