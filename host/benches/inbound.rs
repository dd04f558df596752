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
//! database), `BENCH_SQLITE_SYNCHRONOUS` (`full`, the default, or `normal`).

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let duration = Duration::from_secs(seconds);
    println!("# Inbound benchmark: {concurrency} connections, {seconds} s per measurement\n");
    println!("| backend | measurement | requests/s | p50 ms | p99 ms | ratio to baseline |");
    println!("|---|---|---:|---:|---:|---:|");
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server = Server::start(&database.url).await?;
        let fixture = Fixture::create(&server).await?;

        let baseline = measure(concurrency, duration, {
            let url = format!("{}/healthz", server.address);
            move |client: &reqwest::Client, _worker, _n| client.get(&url).send()
        })
        .await;
        baseline.print(backend, "baseline GET /healthz (no database)", None);

        let single_url = format!("{}/api/v1/webhook-import/update", server.address);
        let fixture = Arc::new(fixture);
        let single = measure(concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let single_url = single_url.clone();
            move |client: &reqwest::Client, worker, n| {
                let lead = &fixture.leads[(worker * 7919 + n * 31) % fixture.leads.len()];
                let stage = FUNNEL[(worker + n) % FUNNEL.len()];
                client
                    .post(&single_url)
                    .bearer_auth(&fixture.token)
                    .json(&json!({"lead_profile_uid": lead, "funnel_stage": stage}))
                    .send()
            }
        })
        .await;
        single.print(backend, "single update (durable)", Some(&baseline));

        let transformed = measure(concurrency, duration, {
            let fixture = Arc::clone(&fixture);
            let url = single_url.clone();
            move |client: &reqwest::Client, worker, n| {
                let lead = &fixture.leads[(worker * 7919 + n * 31) % fixture.leads.len()];
                let stage = FUNNEL[(worker + n) % FUNNEL.len()];
                client
                    .post(&url)
                    .bearer_auth(&fixture.transform_token)
                    .json(&json!({"objectId": lead, "propertyValue": stage, "portalId": 62515}))
                    .send()
            }
        })
        .await;
        transformed.print(
            backend,
            "single update through the json-mapper transform",
            Some(&baseline),
        );
        println!(
            "| {backend} | transform cost: throughput with it / without it | {:.2} | | | |",
            transformed.rate / single.rate
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

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second and latency percentiles of one measurement.
struct Stats {
    rate: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

impl Stats {
    fn print(&self, backend: &str, name: &str, baseline: Option<&Stats>) {
        let ratio = baseline.map_or("".into(), |b| format!("{:.2}", self.rate / b.rate));
        let errors = if self.errors > 0 {
            format!(" ({} errors)", self.errors)
        } else {
            String::new()
        };
        println!(
            "| {backend} | {name}{errors} | {:.0} | {:.2} | {:.2} | {ratio} |",
            self.rate,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        );
    }
}

/// Runs `concurrency` workers, each sending requests back to back on its
/// own keep-alive connection, for a warm-up second and then `duration`.
async fn measure<F, Fut>(concurrency: usize, duration: Duration, request: F) -> Stats
where
    F: Fn(&reqwest::Client, usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send,
{
    let warm_up = Duration::from_secs(1);
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("client");
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut n = 0;
                while start.elapsed() < warm_up + duration {
                    let sent = Instant::now();
                    let ok = match request(&client, worker, n).await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            let _ = response.bytes().await;
                            ok
                        }
                        Err(_) => false,
                    };
                    if sent.duration_since(start) >= warm_up {
                        latencies.push(sent.elapsed());
                        if !ok {
                            errors += 1;
                        }
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (latencies, worker_errors) = worker.await.expect("worker");
        all.extend(latencies);
        errors += worker_errors;
    }
    all.sort();
    let percentile = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        rate: all.len() as f64 / duration.as_secs_f64(),
        p50: percentile(0.50),
        p99: percentile(0.99),
        errors,
    }
}

/// A database for one backend's run, removed afterwards.
struct ScratchDatabase {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl ScratchDatabase {
    async fn create(backend: &str) -> anyhow::Result<Self> {
        match backend {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                Ok(Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            "postgres" => {
                let admin = std::env::var("BENCH_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
                let name = format!("switchyard_bench_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                let server = admin.rsplit_once('/').map(|(s, _)| s).unwrap_or(&admin);
                Ok(Self {
                    url: format!("{server}/{name}"),
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
            other => anyhow::bail!("unknown backend {other}: use sqlite or postgres"),
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            let _ = std::process::Command::new("psql")
                .args([
                    admin.as_str(),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `switchyard serve` as a child process.
struct Server {
    child: Child,
    address: String,
    admin_key: String,
}

impl Server {
    async fn start(database_url: &str) -> anyhow::Result<Self> {
        let synchronous =
            std::env::var("BENCH_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "full".into());
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sqlite-synchronous",
                &synchronous,
            ])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut admin_key = None;
        while let Some(line) = lines.next_line().await? {
            let line = line.trim().to_owned();
            if line.starts_with("sy_admin_") {
                admin_key = Some(line);
            } else if let Some(address) = line.strip_prefix("Switchyard listening on ") {
                let admin_key = admin_key.ok_or_else(|| anyhow::anyhow!("no admin key printed"))?;
                return Ok(Self {
                    child,
                    address: address.to_owned(),
                    admin_key,
                });
            }
        }
        anyhow::bail!("switchyard exited before listening")
    }

    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = self.child.wait().await;
    }
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
        let client = reqwest::Client::new();
        let admin = |path: &str, body: Value| {
            client
                .post(format!("{}{path}", server.address))
                .bearer_auth(&server.admin_key)
                .json(&body)
                .send()
        };
        for title in FUNNEL {
            admin("/api/v1/funnel-stages", json!({ "title": title }))
                .await?
                .error_for_status()?;
        }
        let import: Value = admin("/api/v1/webhook-imports", json!({"name": "bench"}))
            .await?
            .json()
            .await?;
        let id = import["id"].as_str().unwrap_or_default().to_owned();
        admin(&format!("/api/v1/webhook-imports/{id}/activate"), json!({}))
            .await?
            .error_for_status()?;
        let mapped: Value = admin(
            "/api/v1/webhook-imports",
            json!({"name": "bench transform"}),
        )
        .await?
        .json()
        .await?;
        let mapped_id = mapped["id"].as_str().unwrap_or_default().to_owned();
        admin(
            &format!("/api/v1/webhook-imports/{mapped_id}/activate"),
            json!({}),
        )
        .await?
        .error_for_status()?;
        client
            .put(format!("{}/api/v1/webhook-imports/{mapped_id}/transform", server.address))
            .bearer_auth(&server.admin_key)
            .json(&json!({"plugin_id": "builtin:json-mapper", "config": {"uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}}))
            .send()
            .await?
            .error_for_status()?;
        let mut leads = Vec::with_capacity(LEADS);
        for n in 0..LEADS {
            let lead: Value = admin(
                "/api/v1/leads",
                json!({"email": format!("lead{n}@example.com")}),
            )
            .await?
            .json()
            .await?;
            leads.push(
                lead["lead_profile_uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        Ok(Self {
            token: import["token"].as_str().unwrap_or_default().to_owned(),
            transform_token: mapped["token"].as_str().unwrap_or_default().to_owned(),
            leads,
        })
    }
}
