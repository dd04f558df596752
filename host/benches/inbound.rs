//! Inbound benchmark: drives a real `switchyard serve` process over loopback
//! with keep-alive HTTP/1.1 connections (the lean load generator of
//! `common/load.rs`) and reports, in one run, single-update
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
    Answer, BatchResults, FUNNEL, Moves, Quoted, Request, Route, ScratchDatabase, Server, Stats,
    Target, create_active_import, create_funnel, create_leads, env_or, inbound_outcomes, measure,
    measure_healthz, owned_lead,
};
use serde_json::json;

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
        database.refresh_statistics().await?;

        let target = Target::new(&server.address);
        let baseline = measure_healthz(&target, concurrency, duration).await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        // Plain and transformed updates alternate for `rounds` rounds, so
        // that the machine's drift during the run weighs on both alike; the
        // transform's cost is the median of the rounds' ratios. Both move
        // the same leads, one worker per lead.
        let single_path = "/api/v1/webhook-import/update";
        let plain_route = Route::json("POST", &target, single_path, Some(&fixture.token));
        let transform_route =
            Route::json("POST", &target, single_path, Some(&fixture.transform_token));
        let single_update = |transformed: bool| {
            let fixture = Arc::clone(&fixture);
            let plain_route = plain_route.clone();
            let transform_route = transform_route.clone();
            move |request: &mut Request, worker: usize, n: usize| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let lead = Quoted(&fixture.leads[index]);
                let stage = Quoted(FUNNEL[fixture.moves.next(index)]);
                if transformed {
                    request.body(
                        &transform_route,
                        format_args!(
                            r#"{{"objectId":{lead},"propertyValue":{stage},"portalId":62515}}"#
                        ),
                    );
                } else {
                    request.body(
                        &plain_route,
                        format_args!(r#"{{"lead_profile_uid":{lead},"funnel_stage":{stage}}}"#),
                    );
                }
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
        let mut plain_rounds = Vec::with_capacity(rounds);
        let mut transformed_rounds = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            plain_rounds.push(measure(&target, concurrency, duration, single_update(false)).await);
            transformed_rounds
                .push(measure(&target, concurrency, duration, single_update(true)).await);
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

        let batch_route = Route::json(
            "POST",
            &target,
            "/api/v1/webhook-import/batch-update",
            Some(&fixture.token),
        );
        let batch = measure(&target, 1, duration, {
            let fixture = Arc::clone(&fixture);
            move |request: &mut Request, _worker, n| {
                // 100 distinct leads, each sent to another stage than its own.
                let groups = fixture.leads.len() / BATCH;
                let first = (n % groups) * BATCH;
                request.body(
                    &batch_route,
                    Records {
                        fixture: &fixture,
                        first,
                    },
                );
                let fixture = Arc::clone(&fixture);
                move |answer: Answer<'_>| {
                    note_batch_moves(&fixture.moves, first, answer);
                    inbound_outcomes(answer)
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

/// A batch's body: `{"records":[...]}`, record `i` moving lead
/// `first + i` to another stage than its own.
struct Records<'a> {
    fixture: &'a Fixture,
    first: usize,
}

impl std::fmt::Display for Records<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(r#"{"records":["#)?;
        for index in self.first..self.first + BATCH {
            if index > self.first {
                f.write_str(",")?;
            }
            write!(
                f,
                r#"{{"lead_profile_uid":{},"funnel_stage":{}}}"#,
                Quoted(&self.fixture.leads[index]),
                Quoted(FUNNEL[self.fixture.moves.next(index)]),
            )?;
        }
        f.write_str("]}")
    }
}

/// Notes the moves a batch answer reports made (or already made), record
/// `i` being lead `first + i`.
fn note_batch_moves(moves: &Moves, first: usize, answer: Answer<'_>) {
    for result in BatchResults::of(answer).results {
        let arrived = matches!(result.status.as_deref(), Some("updated" | "unchanged"));
        if let (true, Some(index)) = (arrived, result.index.filter(|&i| i < BATCH)) {
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
