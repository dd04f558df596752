//! What the benchmarks share: a scratch database per backend, the real
//! `switchyard serve` as a child process, and a closed-loop load generator
//! reporting requests/s and latency percentiles.

#![allow(dead_code)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second and latency percentiles of one measurement.
pub struct Stats {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: usize,
}

impl Stats {
    /// The measurement of median rate among several of the same thing.
    pub fn median_of(rounds: &[Stats]) -> Stats {
        let mut order: Vec<&Stats> = rounds.iter().collect();
        order.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let median = order[order.len() / 2];
        Stats {
            rate: median.rate,
            p50: median.p50,
            p99: median.p99,
            errors: rounds.iter().map(|round| round.errors).sum(),
        }
    }

    pub fn print(&self, backend: &str, name: &str, baseline: Option<&Stats>) {
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
pub async fn measure<F, Fut>(concurrency: usize, duration: Duration, request: F) -> Stats
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
pub struct ScratchDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl ScratchDatabase {
    pub async fn create(backend: &str) -> anyhow::Result<Self> {
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
pub struct Server {
    child: Child,
    /// For [`Server::admin`].
    client: reqwest::Client,

    pub address: String,
    /// Empty for a server that was not the first on its database.
    pub admin_key: String,
}

impl Server {
    /// An admin API request as the first start's admin: the answer's JSON
    /// (`null` when it has none), or an error for an error status.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let text = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.admin_key)
            .json(body)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Starts a server on the database, with extra `serve` arguments.
    pub async fn start(database_url: &str, extra_args: &[&str]) -> anyhow::Result<Self> {
        let synchronous =
            std::env::var("BENCH_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "full".into());
        // Compiled plugins are kept under the build's scratch folder, shared
        // by every server of every run (as a restarted server reuses its
        // own): only the first process of a fresh build compiles them.
        let artifacts =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-plugin-artifacts");
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sqlite-synchronous",
                &synchronous,
            ])
            .args(extra_args)
            .env("DATABASE_URL", database_url)
            .env("SWITCHYARD_PLUGIN_ARTIFACT_DIR", &artifacts)
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
                // Only the first start on a database prints a key.
                let admin_key = admin_key.unwrap_or_default();
                return Ok(Self {
                    child,
                    client: reqwest::Client::new(),
                    address: address.to_owned(),
                    admin_key,
                });
            }
        }
        anyhow::bail!("switchyard exited before listening")
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = self.child.wait().await;
    }
}

/// Creates an active webhook import through the admin API; returns its id
/// and token.
pub async fn create_active_import(server: &Server, name: &str) -> anyhow::Result<(String, String)> {
    let import = server
        .admin(
            reqwest::Method::POST,
            "/api/v1/webhook-imports",
            &serde_json::json!({ "name": name }),
        )
        .await?;
    let id = import["id"].as_str().unwrap_or_default().to_owned();
    server
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/webhook-imports/{id}/activate"),
            &serde_json::Value::Null,
        )
        .await?;
    let token = import["token"].as_str().unwrap_or_default().to_owned();
    Ok((id, token))
}
