//! End-to-end benchmark, in the shape of Svix's: lead changes per second
//! through the API, counted only once every webhook delivery they produce
//! has reached a real receiver. One `switchyard serve` process doing both
//! API and delivery (the default role) runs on a scratch database, with one
//! active webhook (built-in `small` payload format, signed with Standard
//! Webhooks headers, subscribed to `lead.created` and `lead.stage_changed`)
//! pointing at an axum receiver in this process. The receiver verifies
//! every request's `webhook-signature` with the `standardwebhooks` crate
//! and counts distinct `webhook-id`s, so a message delivered twice counts
//! once (and is reported as a duplicate).
//!
//! `BENCH_CONCURRENCY` keep-alive connections (default 20, driven by the
//! lean load generator of `common/load.rs`) change leads for
//! `BENCH_SECONDS` (default 6), all of it measured (no warm-up):
//!
//! - **creates**: `POST /api/v1/leads` with new emails; each `201` is a
//!   `lead.created` delivery to expect;
//! - **inbound moves**: `POST /api/v1/webhook-import/update`, each moving a
//!   lead (of 2,000 made before the webhook, one worker per lead) to
//!   another stage, alternately forward and backward; each `updated` is a
//!   `lead.stage_changed` delivery to expect.
//!
//! The figure is changes ÷ the time from the first request until the
//! receiver holds every delivery the committed changes should produce.
//! Beside it, in the same run, the same load generator posting a
//! `small`-sized JSON body straight to the receiver: the ratio says how
//! far the whole path is from what this machine's client and receiver
//! alone can do. The server's peak resident memory (`VmRSS`, sampled every
//! 20 ms) over the load and the drain is printed too. A row is INVALID
//! (no rate) when fewer than 99% of requests made their change, when not
//! every expected delivery arrived within `BENCH_DRAIN_TIMEOUT` seconds
//! (default 120) of the load's end, or when a signature did not verify.
//!
//! Settings (environment): `BENCH_SECONDS`, `BENCH_CONCURRENCY`,
//! `BENCH_DRAIN_TIMEOUT`, `BENCH_BACKENDS` (default `sqlite,postgres`),
//! `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`,
//! used to create a scratch database), `BENCH_SQLITE_SYNCHRONOUS` (`full`,
//! the default, or `normal`).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use common::{
    Answer, FUNNEL, Moves, Quoted, Request, Route, RssSampler, ScratchDatabase, Server, Stats,
    Target, create_active_import, create_funnel, create_leads, env_or, inbound_outcomes,
    lead_created, measure, measure_after, owned_lead, served,
};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

const LEADS: usize = 2_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("BENCH_SECONDS", 6);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 20).clamp(1, LEADS);
    let drain_timeout = Duration::from_secs(env_or("BENCH_DRAIN_TIMEOUT", 120));
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let duration = Duration::from_secs(seconds);

    let receiver = Receiver::start().await?;
    println!(
        "# End-to-end benchmark: {concurrency} keep-alive clients change leads for {seconds} s; \
         every signed `small` delivery they produce must reach the receiver\n"
    );
    let baseline = {
        let target = Target::new(&receiver.base);
        let route = Route::json("POST", &target, "/baseline", None);
        let body: Arc<str> = sample_body().into();
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
    Stats::print_header("requests/s");
    baseline.print(
        "-",
        &format!(
            "baseline: {concurrency} clients posting a `small`-sized body straight to the receiver"
        ),
        None,
    );
    println!();
    println!(
        "| backend | changes through | changes made (answers) | deliveries expected | received | duplicates | time to all delivered s | of which after the load s | changes/s | ratio to baseline | server peak RSS MiB |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");

    let next_email = Arc::new(AtomicUsize::new(0));
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server =
            Server::start(&database.url, &["--outbound-allow-cidr", "127.0.0.0/8"]).await?;
        let fixture = Arc::new(Fixture::create(&server, &receiver).await?);
        database.refresh_statistics().await?;
        let target = Target::new(&server.address);
        let creates = {
            let route = Route::json("POST", &target, "/api/v1/leads", Some(&server.admin_key));
            let next_email = Arc::clone(&next_email);
            move |request: &mut Request, _worker, _n| {
                let n = next_email.fetch_add(1, Ordering::Relaxed);
                request.body(
                    &route,
                    format_args!(r#"{{"email":"e2e{n}@example.com","first_name":"New"}}"#),
                );
                lead_created
            }
        };
        let row = Phase::run(
            &server,
            &receiver,
            "lead.created",
            drain_timeout,
            measure_after(Duration::ZERO, &target, concurrency, duration, creates),
        )
        .await;
        row.print(backend, "POST /api/v1/leads (lead.created)", &baseline);

        let moves = {
            let fixture = Arc::clone(&fixture);
            let route = Route::json(
                "POST",
                &target,
                "/api/v1/webhook-import/update",
                Some(&fixture.token),
            );
            move |request: &mut Request, worker: usize, n: usize| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                request.body(
                    &route,
                    format_args!(
                        r#"{{"lead_profile_uid":{},"funnel_stage":{}}}"#,
                        Quoted(&fixture.leads[index]),
                        Quoted(FUNNEL[fixture.moves.next(index)]),
                    ),
                );
                let fixture = Arc::clone(&fixture);
                move |answer: Answer<'_>| {
                    let outcomes = inbound_outcomes(answer);
                    if outcomes.updated + outcomes.unchanged == 1 {
                        fixture.moves.arrived(index);
                    }
                    outcomes
                }
            }
        };
        let row = Phase::run(
            &server,
            &receiver,
            "lead.stage_changed",
            drain_timeout,
            measure_after(Duration::ZERO, &target, concurrency, duration, moves),
        )
        .await;
        row.print(
            backend,
            "inbound single updates (lead.stage_changed)",
            &baseline,
        );
        server.stop().await;
    }
    Ok(())
}

/// One measured load and its drain.
struct Phase {
    load: Stats,
    expected: usize,
    received: usize,
    /// Distinct deliveries of another event than the one expected.
    other: usize,
    duplicates: usize,
    bad_requests: usize,
    /// From the first request until the last expected delivery arrived.
    to_all_delivered: Option<Duration>,
    peak_rss_mib: f64,
    drain_timeout: Duration,
}

impl Phase {
    async fn run(
        server: &Server,
        receiver: &Receiver,
        event: &str,
        drain_timeout: Duration,
        load: impl std::future::Future<Output = Stats>,
    ) -> Phase {
        receiver.reset(event);
        let rss = RssSampler::start(server.pid());
        let load = load.await;
        let expected = load.outcomes.changes();
        let received = receiver.wait_for(expected, drain_timeout).await;
        let peak_rss_mib = rss.stop();
        let seen = receiver.lock();
        let to_all_delivered = (expected > 0 && received >= expected)
            .then_some(seen.last_new)
            .flatten()
            .map(|last| last.duration_since(load.started));
        Phase {
            expected,
            received,
            other: seen.other,
            duplicates: seen.duplicates,
            bad_requests: seen.bad_requests,
            to_all_delivered,
            peak_rss_mib,
            drain_timeout,
            load,
        }
    }

    /// Why the row is not a result, if it is not.
    fn invalid(&self) -> Option<String> {
        let mut why = Vec::new();
        if let Some(load) = &self.load.invalid {
            why.push(load.clone());
        }
        if self.received < self.expected || self.to_all_delivered.is_none() {
            why.push(format!(
                "{} of {} deliveries arrived within {} s of the load's end",
                self.received,
                self.expected,
                self.drain_timeout.as_secs()
            ));
        }
        if self.bad_requests > 0 {
            why.push(format!(
                "{} requests with a signature that did not verify or without a matching message id",
                self.bad_requests
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    fn print(&self, backend: &str, name: &str, baseline: &Stats) {
        let mut answers = self.load.outcomes.describe();
        if self.other > 0 {
            answers.push_str(&format!("; {} deliveries of other events", self.other));
        }
        let common = format!(
            "| {backend} | {name} | {} ({answers}) | {} | {} | {} |",
            self.load.outcomes.changes(),
            self.expected,
            self.received,
            self.duplicates,
        );
        match (self.invalid(), self.to_all_delivered) {
            (None, Some(elapsed)) => {
                let rate = self.load.outcomes.changes() as f64 / elapsed.as_secs_f64();
                let ratio = if baseline.invalid.is_some() {
                    "INVALID baseline".to_owned()
                } else {
                    format!("{:.3}", rate / baseline.rate)
                };
                let load = self.load.ended.duration_since(self.load.started);
                println!(
                    "{common} {:.2} | {:.2} | {rate:.0} | {ratio} | {:.0} |",
                    elapsed.as_secs_f64(),
                    elapsed.saturating_sub(load).as_secs_f64(),
                    self.peak_rss_mib
                );
            }
            (why, _) => println!(
                "{common} | | INVALID: {} | | {:.0} |",
                why.unwrap_or_default(),
                self.peak_rss_mib
            ),
        }
    }
}

/// A `small` payload's size and shape.
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

/// A funnel, an active import, leads at the first stage, then the webhook
/// (after the leads, so only the measured changes are delivered).
struct Fixture {
    token: String,
    leads: Vec<String>,
    moves: Moves,
}

impl Fixture {
    async fn create(server: &Server, receiver: &Receiver) -> anyhow::Result<Self> {
        let stage_ids = create_funnel(server, &FUNNEL).await?;
        let (_, token) = create_active_import(server, "bench").await?;
        let leads = create_leads(server, "lead", LEADS, Some(&stage_ids[0])).await?;
        let webhook = server
            .admin(
                reqwest::Method::POST,
                "/api/v1/webhooks",
                &json!({"name": "bench", "url": receiver.url("/hook"),
                        "events": ["lead.created", "lead.stage_changed"], "payload_format": "small"}),
            )
            .await?;
        let secret = webhook["signing_secret"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no signing_secret in {webhook}"))?;
        receiver.verify_with(Webhook::new(secret)?);
        Ok(Self {
            token,
            moves: Moves::new(leads.len()),
            leads,
        })
    }
}

/// The receiver: verifies each request's signature, answers 200 at once,
/// and counts distinct messages by `webhook-id`.
#[derive(Clone)]
struct Receiver {
    base: String,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    verifier: Mutex<Option<Arc<Webhook>>>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// The event whose deliveries are counted.
    event: String,
    ids: HashSet<String>,
    /// Distinct messages of `event`.
    received: usize,
    other: usize,
    duplicates: usize,
    bad_requests: usize,
    /// When the last new message of `event` arrived.
    last_new: Option<Instant>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let router = Router::new()
            .route(
                "/baseline",
                axum::routing::post(|body: Bytes| async move {
                    let _ = serde_json::from_slice::<Value>(&body);
                    "ok"
                }),
            )
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { base, shared })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn verify_with(&self, webhook: Webhook) {
        *self
            .shared
            .verifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(webhook));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets what arrived; counts deliveries of `event` from now on.
    fn reset(&self, event: &str) {
        *self.lock() = Seen {
            event: event.to_owned(),
            ..Seen::default()
        };
    }

    /// Waits until `count` distinct messages of the counted event have
    /// arrived, or the timeout; returns how many did.
    async fn wait_for(&self, count: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.lock().received;
            if arrived >= count || Instant::now() > deadline {
                return arrived;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn hook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> &'static str {
    let arrived = Instant::now();
    let verifier = shared
        .verifier
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let signed = verifier.is_some_and(|webhook| webhook.verify(&body, &headers).is_ok());
    let id = headers
        .get("webhook-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut seen = shared.seen.lock().unwrap_or_else(PoisonError::into_inner);
    // A request that does not verify, or whose body is not the message its
    // `webhook-id` names, is counted as bad (and answered 200 all the same,
    // so that it is not retried).
    if !signed || id.is_empty() || payload["id"].as_str() != Some(id.as_str()) {
        seen.bad_requests += 1;
        return "ok";
    }
    if !seen.ids.insert(id) {
        seen.duplicates += 1;
    } else if payload["event"].as_str() == Some(seen.event.as_str()) {
        seen.received += 1;
        seen.last_new = Some(arrived);
    } else {
        seen.other += 1;
    }
    "ok"
}
