//! Admin API lead benchmark: drives a real `switchyard serve` process over
//! loopback with keep-alive HTTP clients and reports, in one run, lead
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
    Moves, Outcomes, ScratchDatabase, Server, Stats, create_funnel, create_leads, env_or,
    json_body, measure, owned_lead, served,
};
use serde_json::json;

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

        let baseline = measure(concurrency, duration, {
            let url = format!("{}/healthz", server.address);
            move |client: reqwest::Client, _worker, _n| {
                let request = client.get(&url).send();
                async move { served(request.await).await }
            }
        })
        .await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        let leads_url = format!("{}/api/v1/leads", server.address);
        let created = measure(concurrency, duration, {
            let url = leads_url.clone();
            let key = server.admin_key.clone();
            let next_email = Arc::clone(&next_email);
            move |client: reqwest::Client, _worker, _n| {
                let n = next_email.fetch_add(1, Ordering::Relaxed);
                let request = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({"email": format!("new{n}@example.com"), "first_name": "New"}))
                    .send();
                async move {
                    let Ok(response) = request.await else {
                        return Outcomes::http_error();
                    };
                    let status = response.status();
                    match json_body(Ok(response)).await {
                        Some(lead)
                            if status == reqwest::StatusCode::CREATED
                                && lead["lead_profile_uid"].is_string() =>
                        {
                            Outcomes::created()
                        }
                        _ => Outcomes::http_error(),
                    }
                }
            }
        })
        .await;
        created.print(backend, "create lead (POST, new email)", Some(&baseline));

        let renamed = measure(concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let url = leads_url.clone();
            let key = server.admin_key.clone();
            move |client: reqwest::Client, worker, n| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let version = fixture.names[index].load(Ordering::Relaxed) + 1;
                let first_name = format!("First {version}");
                let request = client
                    .patch(format!("{url}/{}", fixture.leads[index]))
                    .bearer_auth(&key)
                    .json(&json!({ "first_name": first_name }))
                    .send();
                let fixture = Arc::clone(&fixture);
                async move {
                    let Some(lead) = json_body(request.await).await else {
                        return Outcomes::http_error();
                    };
                    if lead["first_name"].as_str() != Some(first_name.as_str()) {
                        return Outcomes::unchanged();
                    }
                    fixture.names[index].store(version, Ordering::Relaxed);
                    let updated_at = lead["updated_at"].as_str().unwrap_or_default().to_owned();
                    let mut previous = fixture.updated_at[index]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if updated_at.is_empty() || *previous == updated_at {
                        Outcomes::unchanged()
                    } else {
                        *previous = updated_at;
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

        let moved = measure(concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let url = leads_url.clone();
            let key = server.admin_key.clone();
            move |client: reqwest::Client, worker, n| {
                let index = owned_lead(worker, concurrency, n, fixture.leads.len());
                let stage_id = fixture.stage_ids[fixture.moves.next(index)].clone();
                let request = client
                    .patch(format!("{url}/{}", fixture.leads[index]))
                    .bearer_auth(&key)
                    .json(&json!({ "funnel_stage_id": stage_id }))
                    .send();
                let fixture = Arc::clone(&fixture);
                async move {
                    let Some(lead) = json_body(request.await).await else {
                        return Outcomes::http_error();
                    };
                    if lead["funnel_stage"]["id"].as_str() == Some(stage_id.as_str()) {
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
    updated_at: Vec<Mutex<String>>,
}

impl Fixture {
    async fn create(server: &Server) -> anyhow::Result<Self> {
        let stage_ids = create_funnel(server, &FUNNEL).await?;
        let leads = create_leads(server, "lead", LEADS, Some(&stage_ids[0])).await?;
        Ok(Self {
            moves: Moves::new(leads.len()),
            names: (0..leads.len()).map(|_| AtomicUsize::new(0)).collect(),
            updated_at: (0..leads.len())
                .map(|_| Mutex::new(String::new()))
                .collect(),
            stage_ids,
            leads,
        })
    }
}
