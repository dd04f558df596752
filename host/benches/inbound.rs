//! Inbound benchmark: drives a real `switchyard serve` process over loopback
//! with keep-alive HTTP clients and reports, in one run, single-update
//! throughput and latency beside a baseline route that does no database
//! work (`/healthz`), and the latency of 100-record batch updates, on SQLite
//! and PostgreSQL. See BENCHMARKS.md for how to run it and what it measured.
//!
//! Settings (environment): `BENCH_SECONDS` (per measurement, default 5),
//! `BENCH_CONCURRENCY` (default 32), `BENCH_BACKENDS` (default
//! `sqlite,postgres`), `BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`, used to create a scratch
//! database), `BENCH_SQLITE_SYNCHRONOUS` (`full`, the default, or `normal`),
//! `BENCH_ROUNDS` (rounds of plain and transformed single updates, which
//! alternate; default 5: single rounds of this pair vary by up to 0.2 on a
//! shared two-core machine).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ScratchDatabase, Server, Stats, create_active_import, env_or, measure};
use serde_json::{Value, json};

const FUNNEL: [&str; 4] = [
    "Inquiry",
    "Application Started",
    "Application Complete",
    "Enrolled",
];
const LEADS: usize = 2_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let rounds: usize = env_or("BENCH_ROUNDS", 5).max(1);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let duration = Duration::from_secs(seconds);
    println!("# Inbound benchmark: {concurrency} connections, {seconds} s per measurement\n");
    println!("| backend | measurement | requests/s | p50 ms | p99 ms | ratio to baseline |");
    println!("|---|---|---:|---:|---:|---:|");
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server = Server::start(&database.url, &[]).await?;
        let fixture = Fixture::create(&server).await?;

        let baseline = measure(concurrency, duration, {
            let url = format!("{}/healthz", server.address);
            move |client: &reqwest::Client, _worker, _n| client.get(&url).send()
        })
        .await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        // Plain and transformed updates alternate for `rounds` rounds, so
        // that the machine's drift during the run weighs on both alike; the
        // transform's cost is the median of the rounds' ratios.
        let single_url = format!("{}/api/v1/webhook-import/update", server.address);
        let fixture = Arc::new(fixture);
        let plain_update = {
            let fixture = Arc::clone(&fixture);
            let single_url = single_url.clone();
            move |client: &reqwest::Client, worker: usize, n: usize| {
                let lead = &fixture.leads[(worker * 7919 + n * 31) % fixture.leads.len()];
                let stage = FUNNEL[(worker + n) % FUNNEL.len()];
                client
                    .post(&single_url)
                    .bearer_auth(&fixture.token)
                    .json(&json!({"lead_profile_uid": lead, "funnel_stage": stage}))
                    .send()
            }
        };
        let transformed_update = {
            let fixture = Arc::clone(&fixture);
            let url = single_url.clone();
            move |client: &reqwest::Client, worker: usize, n: usize| {
                let lead = &fixture.leads[(worker * 7919 + n * 31) % fixture.leads.len()];
                let stage = FUNNEL[(worker + n) % FUNNEL.len()];
                client
                    .post(&url)
                    .bearer_auth(&fixture.transform_token)
                    .json(&json!({"objectId": lead, "propertyValue": stage, "portalId": 62515}))
                    .send()
            }
        };
        let mut plain_rounds = Vec::with_capacity(rounds);
        let mut transformed_rounds = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            plain_rounds.push(measure(concurrency, duration, plain_update.clone()).await);
            transformed_rounds
                .push(measure(concurrency, duration, transformed_update.clone()).await);
        }
        let single = Stats::median_of(&plain_rounds);
        let transformed = Stats::median_of(&transformed_rounds);
        single.print(backend, "single update (durable)", Some(&baseline));
        transformed.print(
            backend,
            "single update through the json-mapper transform",
            Some(&baseline),
        );
        let mut ratios: Vec<f64> = plain_rounds
            .iter()
            .zip(&transformed_rounds)
            .map(|(plain, transformed)| transformed.rate / plain.rate)
            .collect();
        let each: Vec<String> = ratios.iter().map(|ratio| format!("{ratio:.2}")).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "| {backend} | transform cost: throughput with it / without it, median of {rounds} alternating rounds ({}) | {:.2} | | | |",
            each.join(", "),
            ratios[ratios.len() / 2]
        );

        let batch_url = format!("{}/api/v1/webhook-import/batch-update", server.address);
        let batch = measure(1, duration, {
            let fixture = Arc::clone(&fixture);
            move |client: &reqwest::Client, _worker, n| {
                let records: Vec<Value> = (0..100)
                    .map(|i| {
                        json!({
                            "lead_profile_uid": fixture.leads[(n * 100 + i) % fixture.leads.len()],
                            "funnel_stage": FUNNEL[(n + i) % FUNNEL.len()],
                        })
                    })
                    .collect();
                client
                    .post(&batch_url)
                    .bearer_auth(&fixture.token)
                    .json(&json!({ "records": records }))
                    .send()
            }
        })
        .await;
        batch.print(backend, "batch of 100 records, 1 connection", None);
        server.stop().await;
    }
    Ok(())
}

/// A funnel, an active import and many leads, made through the admin API.
struct Fixture {
    token: String,
    /// An import with the built-in json-mapper attached.
    transform_token: String,
    leads: Vec<String>,
}

impl Fixture {
    async fn create(server: &Server) -> anyhow::Result<Self> {
        let admin = |path: &'static str, body: Value| async move {
            server.admin(reqwest::Method::POST, path, &body).await
        };
        for title in FUNNEL {
            admin("/api/v1/funnel-stages", json!({ "title": title })).await?;
        }
        let (_, token) = create_active_import(server, "bench").await?;
        let (mapped_id, transform_token) = create_active_import(server, "bench transform").await?;
        server
            .admin(
                reqwest::Method::PUT,
                &format!("/api/v1/webhook-imports/{mapped_id}/transform"),
                &json!({"plugin_id": "builtin:json-mapper", "config": {"uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}}),
            )
            .await?;
        let mut leads = Vec::with_capacity(LEADS);
        for n in 0..LEADS {
            let lead = admin(
                "/api/v1/leads",
                json!({"email": format!("lead{n}@example.com")}),
            )
            .await?;
            leads.push(
                lead["lead_profile_uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        Ok(Self {
            token,
            transform_token,
            leads,
        })
    }
}
