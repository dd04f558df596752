//! Inbound benchmark: drives a real `switchyard serve` process over loopback
//! with keep-alive HTTP clients and reports, in one run, single-update
//! throughput and latency beside a baseline route that does no database
//! work (`/healthz`), single updates through the built-in `json-mapper`
//! transform, and 100-record batch updates, on SQLite and PostgreSQL. See
//! BENCHMARKS.md for how to run it and what it measured.
//!
//! Every update is a real change: lead `i` belongs to client worker
//! `i % BENCH_CONCURRENCY` alone, which knows the lead's stage and sends it
//! to another one each time, alternately forward (the stages between are
//! backfilled) and backward (the later ones archived); a batch carries 100
//! distinct leads. Each answer is read: a row reports how many updates the
//! server answered `updated`, `unchanged` and `failed` (per record for
//! batches and transformed requests) and how many requests failed at the
//! HTTP level, and a row where fewer than 99% of requests made their whole
//! change is printed INVALID, without a rate.
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

use common::{
    Moves, ScratchDatabase, Server, Stats, create_active_import, create_funnel, create_leads,
    env_or, inbound_outcomes, measure, owned_lead, served,
};
use serde_json::{Value, json};

const FUNNEL: [&str; 4] = [
    "Inquiry",
    "Application Started",
    "Application Complete",
    "Enrolled",
];
const LEADS: usize = 2_000;
const BATCH: usize = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32).clamp(1, LEADS);
    let rounds: usize = env_or("BENCH_ROUNDS", 5).max(1);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let duration = Duration::from_secs(seconds);
    println!("# Inbound benchmark: {concurrency} connections, {seconds} s per measurement\n");
    Stats::print_header("requests/s");
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server = Server::start(&database.url, &[]).await?;
        let fixture = Arc::new(Fixture::create(&server).await?);

        let baseline = measure(concurrency, duration, {
            let url = format!("{}/healthz", server.address);
            move |client: reqwest::Client, _worker, _n| {
                let request = client.get(&url).send();
                async move { served(request.await).await }
            }
        })
        .await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        // Plain and transformed updates alternate for `rounds` rounds, so
        // that the machine's drift during the run weighs on both alike; the
        // transform's cost is the median of the rounds' ratios. Both move
        // the same leads, one worker per lead.
        let single_url = format!("{}/api/v1/webhook-import/update", server.address);
        let single_update = |transformed: bool| {
            let fixture = Arc::clone(&fixture);
            let url = single_url.clone();
            move |client: reqwest::Client, worker: usize, n: usize| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let lead = &fixture.leads[index];
                let stage = FUNNEL[fixture.moves.next(index)];
                let (token, body) = if transformed {
                    let body = json!({"objectId": lead, "propertyValue": stage, "portalId": 62515});
                    (&fixture.transform_token, body)
                } else {
                    let body = json!({"lead_profile_uid": lead, "funnel_stage": stage});
                    (&fixture.token, body)
                };
                let request = client.post(&url).bearer_auth(token).json(&body).send();
                let fixture = Arc::clone(&fixture);
                async move {
                    let (outcomes, _) = inbound_outcomes(request.await).await;
                    if outcomes.updated + outcomes.unchanged == 1 {
                        fixture.moves.arrived(index);
                    }
                    outcomes
                }
            }
        };
        let mut plain_rounds = Vec::with_capacity(rounds);
        let mut transformed_rounds = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            plain_rounds.push(measure(concurrency, duration, single_update(false)).await);
            transformed_rounds.push(measure(concurrency, duration, single_update(true)).await);
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
        let name = format!(
            "transform cost: throughput with it / without it, median of {rounds} alternating rounds ({})",
            each.join(", ")
        );
        if single.invalid.is_some() || transformed.invalid.is_some() {
            println!("| {backend} | {name} | INVALID | | | | a side of it is INVALID |");
        } else {
            println!(
                "| {backend} | {name} | {:.2} | | | | |",
                ratios[ratios.len() / 2]
            );
        }

        let batch_url = format!("{}/api/v1/webhook-import/batch-update", server.address);
        let batch = measure(1, duration, {
            let fixture = Arc::clone(&fixture);
            move |client: reqwest::Client, _worker, n| {
                // 100 distinct leads, each sent to another stage than its own.
                let groups = fixture.leads.len() / BATCH;
                let first = (n % groups) * BATCH;
                let records: Vec<Value> = (first..first + BATCH)
                    .map(|index| {
                        json!({
                            "lead_profile_uid": fixture.leads[index],
                            "funnel_stage": FUNNEL[fixture.moves.next(index)],
                        })
                    })
                    .collect();
                let request = client
                    .post(&batch_url)
                    .bearer_auth(&fixture.token)
                    .json(&json!({ "records": records }))
                    .send();
                let fixture = Arc::clone(&fixture);
                async move {
                    let (outcomes, body) = inbound_outcomes(request.await).await;
                    note_batch_moves(&fixture.moves, first, body.as_ref());
                    outcomes
                }
            }
        })
        .await;
        batch.print(
            backend,
            "batch of 100 records, 1 connection (answers per record)",
            None,
        );
        server.stop().await;
    }
    Ok(())
}

/// Notes the moves a batch answer reports made (or already made), record
/// `i` being lead `first + i`.
fn note_batch_moves(moves: &Moves, first: usize, body: Option<&Value>) {
    let Some(results) = body.and_then(|body| body["results"].as_array()) else {
        return;
    };
    for result in results {
        let arrived = matches!(result["status"].as_str(), Some("updated" | "unchanged"));
        let index = result["index"]
            .as_u64()
            .and_then(|i| usize::try_from(i).ok());
        if let (true, Some(index)) = (arrived, index.filter(|&i| i < BATCH)) {
            moves.arrived(first + index);
        }
    }
}

/// A funnel, two active imports and many leads (all at the first stage),
/// made through the admin API, and where each lead is.
struct Fixture {
    token: String,
    /// An import with the built-in json-mapper attached.
    transform_token: String,
    leads: Vec<String>,
    moves: Moves,
}

impl Fixture {
    async fn create(server: &Server) -> anyhow::Result<Self> {
        let stage_ids = create_funnel(server, &FUNNEL).await?;
        let (_, token) = create_active_import(server, "bench").await?;
        let (mapped_id, transform_token) = create_active_import(server, "bench transform").await?;
        server
            .admin(
                reqwest::Method::PUT,
                &format!("/api/v1/webhook-imports/{mapped_id}/transform"),
                &json!({"plugin_id": "builtin:json-mapper", "config": {"uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}}),
            )
            .await?;
        let leads = create_leads(server, "lead", LEADS, Some(&stage_ids[0])).await?;
        Ok(Self {
            token,
            transform_token,
            moves: Moves::new(leads.len()),
            leads,
        })
    }
}
