//! Inbound benchmark: drives a real `switchyard serve` process over loopback
//! with keep-alive HTTP/1.1 connections (the lean load generator of
//! `common/load.rs`) and reports, in one run, single-update
//! throughput and latency beside a baseline route that does no database
//! work (`/healthz`), single updates through the built-in `json-mapper`
//! transform, 100-record batch updates, and lead sync through the
//! json-mapper (records that create leads, and records that update a field
//! and the stage of leads found by email; one record per request at
//! `BENCH_CONCURRENCY` connections, and batches of 100 on one connection),
//! on SQLite and PostgreSQL. See BENCHMARKS.md for how to run it and what
//! it measured.
//!
//! Every update is a real change: lead `i` belongs to client worker
//! `i % BENCH_CONCURRENCY` alone, which knows the lead's stage and sends it
//! to another one each time, alternately forward (the stages between are
//! backfilled) and backward (the later ones archived); a batch carries 100
//! distinct leads. Each answer is read: a row reports how many updates the
//! server answered `updated`, `unchanged` and `failed` (per record for
//! batches and transformed requests) and how many requests failed at the
//! HTTP level, and a row where fewer than 99% of requests made their whole
//! change is printed INVALID, without a rate; so is a lead-sync row whose
//! records did another change than its label says (an update in a row of
//! creates, a creation in a row of updates).
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
        lead_sync_rows(
            backend,
            &target,
            &fixture,
            concurrency,
            duration,
            &transformed,
            &batch,
        )
        .await;
        server.stop().await;
    }
    Ok(())
}

/// What a lead-sync row sends: new contacts, or changes to the fixture's
/// leads found by email (their first name and their stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncKind {
    Create,
    Update,
}

/// The lead-sync rows: records per second through the json-mapper with
/// lead records, creating and updating, single and in batches, beside the
/// plain funnel updates measured in the same run.
async fn lead_sync_rows(
    backend: &str,
    target: &Target,
    fixture: &Arc<Fixture>,
    concurrency: usize,
    duration: Duration,
    transformed: &Stats,
    plain_batch: &Stats,
) {
    let route = Route::json(
        "POST",
        target,
        "/api/v1/webhook-import/batch-update",
        Some(&fixture.sync_token),
    );
    let mut rows = Vec::new();
    for (kind, batch) in [
        (SyncKind::Create, 1),
        (SyncKind::Update, 1),
        (SyncKind::Create, BATCH),
        (SyncKind::Update, BATCH),
    ] {
        let connections = if batch == 1 { concurrency } else { 1 };
        let mut stats = measure(target, connections, duration, {
            let (fixture, route) = (Arc::clone(fixture), route.clone());
            move |request: &mut Request, worker, n| {
                // Updates: a worker's own leads one at a time, or 100
                // distinct leads per batch, as the plain rows move them.
                let first = if batch == 1 {
                    owned_lead(worker, connections, n, fixture.leads.len())
                } else {
                    (n % (fixture.leads.len() / BATCH)) * BATCH
                };
                let contacts = Contacts {
                    fixture: &fixture,
                    kind,
                    first,
                    count: batch,
                    tag: (worker, n),
                };
                request.body(&route, contacts);
                let fixture = Arc::clone(&fixture);
                move |answer: Answer<'_>| {
                    if kind == SyncKind::Update {
                        note_sync_moves(&fixture.moves, first, batch, answer);
                    }
                    inbound_outcomes(answer)
                }
            }
        })
        .await;
        // A row measures what its label says, or it is not a result.
        let (wanted, other) = match kind {
            SyncKind::Create => (stats.outcomes.created, stats.outcomes.updated),
            SyncKind::Update => (stats.outcomes.updated, stats.outcomes.created),
        };
        if stats.invalid.is_none() && other > 0 {
            stats.invalid = Some(format!(
                "{other} records did the other change ({wanted} as labelled)"
            ));
        }
        let what = match kind {
            SyncKind::Create => "new contacts (created)",
            SyncKind::Update => "contacts found by email (first name and stage updated)",
        };
        let name = if batch == 1 {
            format!("lead sync, 1 record per request: {what}, requests/s")
        } else {
            format!("lead sync, batch of {batch} records, 1 connection: {what}, batches/s")
        };
        stats.print(backend, &name, None);
        rows.push((kind, batch, stats));
    }
    // Records per second against the plain funnel update of the same shape
    // (single: through the same transform; batches: the plain batch row).
    for (kind, batch, stats) in &rows {
        let plain = if *batch == 1 {
            transformed
        } else {
            plain_batch
        };
        let name = format!(
            "lead sync {} / funnel update, {}: records per second",
            if *kind == SyncKind::Create {
                "creates"
            } else {
                "updates"
            },
            if *batch == 1 {
                "single, through the transform"
            } else {
                "batches of 100"
            },
        );
        if stats.invalid.is_some() || plain.invalid.is_some() {
            println!("| {backend} | {name} | INVALID | | | | a side of it is INVALID |");
        } else {
            println!(
                "| {backend} | {name} | {:.2} ({:.0} / {:.0}) | | | | |",
                stats.rate / plain.rate,
                stats.rate * *batch as f64,
                plain.rate * *batch as f64
            );
        }
    }
}

/// A lead-sync body, `{"contacts":[...]}` for the json-mapper's list
/// mapping: `count` new contacts (emails unique to the row, the request's
/// worker and its number), or fixture leads `first..first + count` found by email,
/// each given a new first name and sent to another stage than its own.
struct Contacts<'a> {
    fixture: &'a Fixture,
    kind: SyncKind,
    first: usize,
    count: usize,
    /// (worker, request number): what makes a new contact new.
    tag: (usize, usize),
}

impl std::fmt::Display for Contacts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (worker, n) = self.tag;
        f.write_str(r#"{"contacts":["#)?;
        for i in 0..self.count {
            if i > 0 {
                f.write_str(",")?;
            }
            match self.kind {
                SyncKind::Create => write!(
                    f,
                    r#"{{"id":"{count}-{worker}-{n}-{i}","email":"new-{count}-{worker}-{n}-{i}@example.com","first":"New","stage":{}}}"#,
                    Quoted(FUNNEL[1]),
                    count = self.count,
                )?,
                SyncKind::Update => {
                    let lead = self.first + i;
                    write!(
                        f,
                        r#"{{"email":"lead{lead}@example.com","first":"w{worker}-{n}","stage":{}}}"#,
                        Quoted(FUNNEL[self.fixture.moves.next(lead)]),
                    )?;
                }
            }
        }
        f.write_str("]}")
    }
}

/// Notes the moves a lead-sync answer reports made, record `i` being lead
/// `first + i`.
fn note_sync_moves(moves: &Moves, first: usize, count: usize, answer: Answer<'_>) {
    for result in BatchResults::of(answer).results {
        let updated = result.status.as_deref() == Some("updated");
        if let (true, Some(index)) = (updated, result.index.filter(|&i| i < count)) {
            moves.arrived(first + index);
        }
    }
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
    /// An import with the json-mapper mapping lead records, allowed to
    /// create leads.
    sync_token: String,
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
        let (sync_id, sync_token) = create_active_import(server, "bench lead sync").await?;
        server
            .admin(
                reqwest::Method::PUT,
                &format!("/api/v1/webhook-imports/{sync_id}/transform"),
                &json!({"plugin_id": "builtin:json-mapper", "config": {
                    "records_pointer": "/contacts",
                    "lead": {
                        "external_id": "/id",
                        "fields": {"email": "/email", "first_name": "/first"},
                        "funnel_stage": "/stage"
                    }
                }}),
            )
            .await?;
        server
            .admin(
                reqwest::Method::PATCH,
                &format!("/api/v1/webhook-imports/{sync_id}"),
                &json!({"create_leads": true}),
            )
            .await?;
        let leads = create_leads(server, "lead", LEADS, Some(&stage_ids[0])).await?;
        Ok(Self {
            token,
            transform_token,
            sync_token,
            moves: Moves::new(leads.len()),
            leads,
        })
    }
}
