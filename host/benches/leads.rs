//! Admin API lead benchmark: drives a real `switchyard serve` process over
//! loopback with keep-alive HTTP/1.1 connections (the lean load generator
//! of `common/load.rs`) and reports, in one run, lead
//! creates and updates through the admin API beside a baseline route that
//! does no database work (`/healthz`), on SQLite and PostgreSQL. No webhook
//! is configured (as in the inbound benchmark): the figures are the API's
//! and its storage's.
//!
//! - **create**: `POST /api/v1/leads`, each with an email never used before
//!   (counted `created` on a `201` carrying the new lead);
//! - **update fields**: `PATCH /api/v1/leads/{uid}` with a `first_name` the
//!   lead has never had; counted `updated` when the answer shows that name
//!   and an `updated_at` other than the lead's previous one;
//! - **move**: `PATCH /api/v1/leads/{uid}` with a `funnel_stage_id` other
//!   than the lead's, alternately forward (backfills) and backward
//!   (archives); counted `updated` when the answer shows the lead there.
//!
//! Lead `i` of the 2,000 the fixture creates belongs to client worker
//! `i % BENCH_CONCURRENCY` alone, which knows its state. A row where fewer
//! than 99% of requests made their change is printed INVALID, without a
//! rate.
//!
//! Settings (environment): `BENCH_SECONDS` (per measurement, default 5),
//! `BENCH_CONCURRENCY` (default 32), `BENCH_BACKENDS` (default
//! `sqlite,postgres`), `BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`, used to create a scratch
//! database), `BENCH_SQLITE_SYNCHRONOUS` (`full`, the default, or `normal`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::{
    Answer, FUNNEL, Moves, Outcomes, Quoted, Request, Route, ScratchDatabase, Server, Stats,
    Target, create_funnel, create_leads, env_or, find, lead_created, measure, measure_healthz,
    owned_lead, string_at,
};

const LEADS: usize = 2_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32).clamp(1, LEADS);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let duration = Duration::from_secs(seconds);
    println!(
        "# Admin API lead benchmark: {concurrency} connections, {seconds} s per measurement\n"
    );
    Stats::print_header("requests/s");
    // Emails of created leads, distinct across the whole run.
    let next_email = Arc::new(AtomicUsize::new(0));
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server = Server::start(&database.url, &[]).await?;
        let fixture = Arc::new(Fixture::create(&server).await?);
        database.refresh_statistics().await?;

        let target = Target::new(&server.address);
        let baseline = measure_healthz(&target, concurrency, duration).await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        let key = Some(server.admin_key.as_str());
        let created = measure(&target, concurrency, duration, {
            let route = Route::json("POST", &target, "/api/v1/leads", key);
            let next_email = Arc::clone(&next_email);
            move |request: &mut Request, _worker, _n| {
                let n = next_email.fetch_add(1, Ordering::Relaxed);
                request.body(
                    &route,
                    format_args!(r#"{{"email":"new{n}@example.com","first_name":"New"}}"#),
                );
                lead_created
            }
        })
        .await;
        created.print(backend, "create lead (POST, new email)", Some(&baseline));

        // `PATCH /api/v1/leads/{uid}` of each lead, formatted once.
        let lead_routes: Arc<Vec<Route>> = Arc::new(
            fixture
                .leads
                .iter()
                .map(|id| Route::json("PATCH", &target, &format!("/api/v1/leads/{id}"), key))
                .collect(),
        );
        let renamed = measure(&target, concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let routes = Arc::clone(&lead_routes);
            move |request: &mut Request, worker, n| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let version = fixture.names[index].load(Ordering::Relaxed) + 1;
                request.body(
                    &routes[index],
                    format_args!(r#"{{"first_name":"First {version}"}}"#),
                );
                let fixture = Arc::clone(&fixture);
                move |answer: Answer<'_>| {
                    if !answer.is_success() {
                        return Outcomes::http_error();
                    }
                    // The answer is the lead (`LeadView`): its one
                    // `first_name` and its one `updated_at`.
                    let shown = string_at(answer.body, br#""first_name":""#)
                        .and_then(|name| name.strip_prefix(b"First "))
                        .and_then(|number| std::str::from_utf8(number).ok()?.parse().ok());
                    if shown != Some(version) {
                        return Outcomes::unchanged();
                    }
                    fixture.names[index].store(version, Ordering::Relaxed);
                    let updated_at =
                        string_at(answer.body, br#""updated_at":""#).unwrap_or_default();
                    let mut previous = fixture.updated_at[index]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if updated_at.is_empty() || previous.as_slice() == updated_at {
                        Outcomes::unchanged()
                    } else {
                        previous.clear();
                        previous.extend_from_slice(updated_at);
                        Outcomes::updated()
                    }
                }
            }
        })
        .await;
        renamed.print(
            backend,
            "update lead fields (PATCH first_name)",
            Some(&baseline),
        );

        let moved = measure(&target, concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let routes = Arc::clone(&lead_routes);
            move |request: &mut Request, worker, n| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let stage = fixture.moves.next(index);
                request.body(
                    &routes[index],
                    format_args!(
                        r#"{{"funnel_stage_id":{}}}"#,
                        Quoted(&fixture.stage_ids[stage])
                    ),
                );
                let fixture = Arc::clone(&fixture);
                move |answer: Answer<'_>| {
                    if !answer.is_success() {
                        return Outcomes::http_error();
                    }
                    if lead_stage_id(answer.body) == Some(fixture.stage_ids[stage].as_bytes()) {
                        // It was at another stage (the worker moved it
                        // there): the answer shows the move made.
                        fixture.moves.arrived(index);
                        Outcomes::updated()
                    } else {
                        Outcomes::unchanged()
                    }
                }
            }
        })
        .await;
        moved.print(
            backend,
            "move lead to another stage (PATCH funnel_stage_id)",
            Some(&baseline),
        );
        server.stop().await;
    }
    Ok(())
}

/// The `id` of a lead answer's `funnel_stage` object (`LeadView`: the
/// object is `{"id":...,"title":...,"position":...}`, or `null`; no key of
/// the lead after it is `id`).
fn lead_stage_id(body: &[u8]) -> Option<&[u8]> {
    let stage = find(body, br#""funnel_stage":{"#)?;
    string_at(&body[stage..], br#""id":""#)
}

/// A funnel and many leads (all at the first stage, no first name), made
/// through the admin API, and what the workers know of each lead.
struct Fixture {
    stage_ids: Vec<String>,
    leads: Vec<String>,
    /// Where each lead is in the funnel.
    moves: Moves,
    /// The number in the lead's current `first_name` (`First {n}`; 0: none).
    names: Vec<AtomicUsize>,
    /// The lead's `updated_at` as the last answer showed it.
    updated_at: Vec<Mutex<Vec<u8>>>,
}

impl Fixture {
    async fn create(server: &Server) -> anyhow::Result<Self> {
        let stage_ids = create_funnel(server, &FUNNEL).await?;
        let leads = create_leads(server, "lead", LEADS, Some(&stage_ids[0])).await?;
        Ok(Self {
            moves: Moves::new(leads.len()),
            names: (0..leads.len()).map(|_| AtomicUsize::new(0)).collect(),
            updated_at: (0..leads.len()).map(|_| Mutex::new(Vec::new())).collect(),
            stage_ids,
            leads,
        })
    }
}
