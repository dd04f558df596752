//! What the benchmarks share: a scratch database per backend, the real
//! `switchyard serve` as a child process, fixtures made through the admin
//! API (with reqwest: they are not measured), and a closed-loop load
//! generator (`load.rs`, a lean HTTP/1.1 client) that reports requests/s,
//! latency percentiles and what each answer said: a benchmark must show
//! that its requests did what it measures (changed a lead), not only that
//! they were answered. Each measurement also prints (to stderr) the CPU
//! time per request of the bench process (the load generator, and any
//! receiver it runs) and of the server, from `/proc/PID/stat`: the client
//! must stay far cheaper than what it measures.

#![allow(dead_code)]

mod load;

// Each bench uses some of these.
#[allow(unused_imports)]
pub use load::{
    Answer, BatchResults, Quoted, Request, Route, Target, find, inbound_outcomes, lead_created,
    measure, measure_after, number_at, served, string_at,
};

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A row is valid when at least this share of its requests did what the
/// row measures.
pub const VALID_SHARE: f64 = 0.99;

/// What requests did, as their answers said. A single update counts one
/// record; a batch (or a transformed request) counts each of its records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcomes {
    /// Leads created (`201` with the new lead).
    pub created: usize,
    /// Changes made: records answered `updated`, or an admin update whose
    /// answer shows the new value.
    pub updated: usize,
    /// Records answered `unchanged` (nothing written), or an admin update
    /// whose answer does not show a change.
    pub unchanged: usize,
    /// Records answered `failed`.
    pub failed: usize,
    /// Requests answered with an error status, an unreadable body, or not
    /// at all.
    pub http_errors: usize,
    /// Successful answers of a route that changes nothing (a baseline).
    pub served: usize,
}

impl Outcomes {
    pub fn created() -> Self {
        Self {
            created: 1,
            ..Self::default()
        }
    }

    pub fn updated() -> Self {
        Self {
            updated: 1,
            ..Self::default()
        }
    }

    pub fn unchanged() -> Self {
        Self {
            unchanged: 1,
            ..Self::default()
        }
    }

    pub fn http_error() -> Self {
        Self {
            http_errors: 1,
            ..Self::default()
        }
    }

    pub fn served() -> Self {
        Self {
            served: 1,
            ..Self::default()
        }
    }

    pub fn add(&mut self, other: Outcomes) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.http_errors += other.http_errors;
        self.served += other.served;
    }

    /// Whether one request did all it was sent for: every record it
    /// carried was a change (or, for a baseline, it was served).
    pub fn complete(&self) -> bool {
        self.http_errors == 0
            && self.failed == 0
            && self.unchanged == 0
            && self.created + self.updated + self.served > 0
    }

    /// Changes made: leads created or updated.
    pub fn changes(&self) -> usize {
        self.created + self.updated
    }

    /// e.g. `updated 51234, unchanged 0, failed 0, http errors 0`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.served > 0 {
            parts.push(format!("served {}", self.served));
        }
        if self.created > 0 {
            parts.push(format!("created {}", self.created));
        }
        if self.served + self.created == 0 || self.updated + self.unchanged + self.failed > 0 {
            parts.push(format!("updated {}", self.updated));
            parts.push(format!("unchanged {}", self.unchanged));
            parts.push(format!("failed {}", self.failed));
        }
        parts.push(format!("http errors {}", self.http_errors));
        parts.join(", ")
    }
}

/// One measurement: requests/s, latency percentiles and what the requests
/// did.
pub struct Stats {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Requests measured (after the warm-up).
    pub requests: usize,
    /// Of those, requests that did all they were sent for
    /// ([`Outcomes::complete`]).
    pub complete: usize,
    pub outcomes: Outcomes,
    /// Why the figure is not a result, if it is not.
    pub invalid: Option<String>,
    /// When the measured requests started (after the warm-up) and when the
    /// last one was answered.
    pub started: Instant,
    pub ended: Instant,
}

impl Stats {
    fn validity(requests: usize, complete: usize, outcomes: &Outcomes) -> Option<String> {
        if requests == 0 {
            return Some("no request was answered".into());
        }
        let share = complete as f64 / requests as f64;
        (share < VALID_SHARE).then(|| {
            let did = if outcomes.served > 0 && outcomes.changes() == 0 {
                "were served"
            } else {
                "made their change"
            };
            format!(
                "only {:.1}% of requests {did} ({complete} of {requests}); at least {:.0}% needed",
                share * 100.0,
                VALID_SHARE * 100.0
            )
        })
    }

    /// The measurement of median rate among several of the same thing,
    /// with every round's outcomes; invalid if any round was.
    pub fn median_of(rounds: &[Stats]) -> Stats {
        let mut order: Vec<&Stats> = rounds.iter().collect();
        order.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let median = order[order.len() / 2];
        let mut outcomes = Outcomes::default();
        for round in rounds {
            outcomes.add(round.outcomes);
        }
        let invalid = rounds.iter().enumerate().find_map(|(index, round)| {
            round
                .invalid
                .as_ref()
                .map(|why| format!("round {}: {why}", index + 1))
        });
        Stats {
            rate: median.rate,
            p50: median.p50,
            p99: median.p99,
            requests: rounds.iter().map(|round| round.requests).sum(),
            complete: rounds.iter().map(|round| round.complete).sum(),
            outcomes,
            invalid,
            started: rounds
                .iter()
                .map(|round| round.started)
                .min()
                .unwrap_or(median.started),
            ended: rounds
                .iter()
                .map(|round| round.ended)
                .max()
                .unwrap_or(median.ended),
        }
    }

    /// The header of the tables [`Stats::print`] writes rows of.
    pub fn print_header(rate: &str) {
        println!(
            "| backend | measurement | {rate} | p50 ms | p99 ms | ratio to baseline | answers |"
        );
        println!("|---|---|---:|---:|---:|---:|---|");
    }

    /// One table row. An invalid row shows no rate, only why.
    pub fn print(&self, backend: &str, name: &str, baseline: Option<&Stats>) {
        let answers = self.outcomes.describe();
        if let Some(why) = &self.invalid {
            println!("| {backend} | {name} | INVALID | | | | {answers}; INVALID: {why} |");
            return;
        }
        let ratio = match baseline {
            None => String::new(),
            Some(baseline) if baseline.invalid.is_some() => "INVALID baseline".into(),
            Some(baseline) => format!("{:.2}", self.rate / baseline.rate),
        };
        println!(
            "| {backend} | {name} | {:.0} | {:.2} | {:.2} | {ratio} | {answers} |",
            self.rate,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        );
    }
}

/// The process id of the last server [`Server::start`] started (0: none),
/// whose CPU time [`measure`] reports beside the bench process's own.
static SERVER_PID: AtomicU32 = AtomicU32::new(0);

/// The CPU time (user and system) a process has used, from
/// `/proc/PID/stat` (in clock ticks, 10 ms here).
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces), from field 3 on.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The CPU time of the server's thread named `name` (the SQLite writer,
/// the part that cannot run on two cores), if it has one.
fn thread_cpu_time(pid: u32, name: &str) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks.flatten().find_map(|task| {
        let tid = task.file_name().into_string().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok()?;
        (comm.trim() == name)
            .then(|| cpu_time(&format!("{pid}/task/{tid}")))
            .flatten()
    })
}

/// The CPU time all `postgres` processes on this machine have used (the
/// database server's share of the work, on the PostgreSQL rows).
fn postgres_cpu_time() -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = entry.file_name().into_string().unwrap_or_default();
        if !pid.bytes().all(|byte| byte.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres"
            && let Some(time) = cpu_time(&pid)
        {
            total += time;
            found = true;
        }
    }
    found.then_some(total)
}

/// The bytes a process has written with `write` calls so far (`wchar` of
/// `/proc/PID/io`): for SQLite, what its commits put in the log file and
/// its checkpoints copy to the database.
fn bytes_written(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("wchar:"))
        .and_then(|value| value.trim().parse().ok())
}

/// CPU times read together at the start and end of a measurement.
#[derive(Default, Clone, Copy)]
struct CpuTimes {
    client: Option<Duration>,
    server: Option<Duration>,
    writer: Option<Duration>,
    postgres: Option<Duration>,
    server_written: Option<u64>,
}

impl CpuTimes {
    fn now(server: u32) -> Self {
        Self {
            client: cpu_time("self"),
            server: (server != 0)
                .then(|| cpu_time(&server.to_string()))
                .flatten(),
            writer: (server != 0)
                .then(|| thread_cpu_time(server, "sqlite-writer"))
                .flatten(),
            postgres: postgres_cpu_time(),
            server_written: (server != 0).then(|| bytes_written(server)).flatten(),
        }
    }
}

/// The CPU time the bench process (the load generator, and anything else
/// it runs, such as a receiver) and the server use over a measurement,
/// printed per request to stderr: the client must stay far cheaper than
/// what it measures.
struct CpuMeter {
    at_start: tokio::task::JoinHandle<CpuTimes>,
    server: u32,
}

impl CpuMeter {
    fn start_after(warm_up: Duration) -> Self {
        let server = SERVER_PID.load(Ordering::Relaxed);
        let at_start = tokio::spawn(async move {
            tokio::time::sleep(warm_up).await;
            CpuTimes::now(server)
        });
        Self { at_start, server }
    }

    async fn report(self, requests: usize) {
        let before = self.at_start.await.unwrap_or_default();
        let after = CpuTimes::now(self.server);
        let per_request = |before: Option<Duration>, after: Option<Duration>| match (before, after)
        {
            (Some(before), Some(after)) if requests > 0 => format!(
                "{:.1} µs",
                after.saturating_sub(before).as_secs_f64() * 1e6 / requests as f64
            ),
            _ => "-".into(),
        };
        let mut line = format!(
            "  cpu per request over {requests} requests: bench process {}, server {}",
            per_request(before.client, after.client),
            per_request(before.server, after.server),
        );
        if after.writer.is_some() {
            line += &format!(
                " (its SQLite writer thread {})",
                per_request(before.writer, after.writer)
            );
        }
        line += &format!(
            ", all postgres processes {}",
            per_request(before.postgres, after.postgres)
        );
        if let (Some(before), Some(after)) = (before.server_written, after.server_written)
            && requests > 0
        {
            line += &format!(
                "; server wrote {:.1} KiB per request",
                after.saturating_sub(before) as f64 / 1024.0 / requests as f64
            );
        }
        eprintln!("{line}");
    }
}

/// The lead a worker's `n`th request goes to: lead `i` belongs to worker
/// `i % workers` alone, so one worker's requests to a lead are in order and
/// the worker knows the lead's state.
pub fn owned_lead(worker: usize, workers: usize, n: usize, leads: usize) -> usize {
    let per_worker = (leads / workers).max(1);
    worker + workers * (n % per_worker)
}

/// The order in which a lead visits a four-stage funnel: forward (the
/// stages between are backfilled), backward (the later ones archived),
/// forward, backward, and round again. Consecutive entries always differ,
/// also two apart, so a move whose outcome was lost still sends a change.
pub const MOVE_ORDER: [usize; 4] = [0, 2, 1, 3];

/// Where each lead is in a four-stage funnel, so that every request can
/// send it to another stage. Leads start at stage 0.
pub struct Moves {
    visits: Vec<AtomicUsize>,
}

impl Moves {
    pub fn new(leads: usize) -> Self {
        Self {
            visits: (0..leads).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// The stage (index in the funnel) to move `lead` to next: never the
    /// one it is at.
    pub fn next(&self, lead: usize) -> usize {
        MOVE_ORDER[(self.visits[lead].load(Ordering::Relaxed) + 1) % MOVE_ORDER.len()]
    }

    /// Notes that `lead` is now at the stage [`Moves::next`] named (its
    /// answer said updated, or unchanged: it was there already).
    pub fn arrived(&self, lead: usize) {
        self.visits[lead].fetch_add(1, Ordering::Relaxed);
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

impl ScratchDatabase {
    /// Brings PostgreSQL's planner statistics up to date after the fixture
    /// is seeded, as autovacuum does within a minute of a bulk load in
    /// production (SQLite keeps none unless asked, and needs none here).
    /// Without them the planner takes a freshly filled table for nearly
    /// empty: it read the bench's leads through the account's external-id
    /// index, all 2,000 of them, for each single-lead update.
    ///
    /// Only the tables the fixture filled, as autovacuum analyses only
    /// tables with changes: an empty table analysed is known to be empty
    /// (`reltuples` 0), and the planner then costs it at its true, tiny
    /// size until it is analysed again, where a table never analysed is
    /// assumed to hold at least 10 pages. Plans made in the run's first
    /// moments on such a table were kept for the whole run: the foreign-key
    /// check of every delivery attempt scanned all of `deliveries` on the
    /// connections that had planned it while the table held a few rows
    /// (4.6 s of PostgreSQL's time in a 12 s end-to-end run).
    pub async fn refresh_statistics(&self) -> anyhow::Result<()> {
        if self.postgres.is_some() {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT relname::text FROM pg_class \
                 WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
            )
            .fetch_all(&mut conn)
            .await?;
            for (table,) in tables {
                let (filled,): (bool,) =
                    sqlx::query_as(&format!("SELECT EXISTS (SELECT 1 FROM \"{table}\")"))
                        .fetch_one(&mut conn)
                        .await?;
                if filled {
                    sqlx::query(&format!("ANALYZE \"{table}\""))
                        .execute(&mut conn)
                        .await?;
                }
            }
        }
        Ok(())
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
        // `BENCH_SERVER_BIN` runs another build of the server (e.g. a copy
        // kept to compare two builds of the benches against one server).
        let program = std::env::var("BENCH_SERVER_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_switchyard").to_owned());
        let mut child = Command::new(program)
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
        SERVER_PID.store(child.id().unwrap_or(0), Ordering::Relaxed);
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

    /// The server process's id, e.g. to read its `/proc/PID/status`.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = SERVER_PID.compare_exchange(pid, 0, Ordering::Relaxed, Ordering::Relaxed);
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

/// Creates the stages, in order, through the admin API; returns their ids.
pub async fn create_funnel(server: &Server, titles: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(titles.len());
    for title in titles {
        let stage = server
            .admin(
                reqwest::Method::POST,
                "/api/v1/funnel-stages",
                &json!({ "title": title }),
            )
            .await?;
        ids.push(stage["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(ids)
}

/// Creates `count` leads (`{prefix}{n}@example.com`) through the admin API,
/// 8 at a time, at `stage_id` if given; returns their ids in `n` order.
pub async fn create_leads(
    server: &Server,
    prefix: &str,
    count: usize,
    stage_id: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let created: Vec<anyhow::Result<String>> = futures::stream::iter(0..count)
        .map(|n| async move {
            let mut body = json!({ "email": format!("{prefix}{n}@example.com") });
            if let Some(stage_id) = stage_id {
                body["funnel_stage_id"] = json!(stage_id);
            }
            let lead = server
                .admin(reqwest::Method::POST, "/api/v1/leads", &body)
                .await?;
            let id = lead["lead_profile_uid"].as_str().unwrap_or_default();
            anyhow::ensure!(!id.is_empty(), "no lead_profile_uid in {lead}");
            Ok(id.to_owned())
        })
        .buffered(8)
        .collect()
        .await;
    created.into_iter().collect()
}

/// The peak resident memory of a process, sampled every 20 ms from
/// `/proc/PID/status` (`VmRSS`) until [`RssSampler::stop`].
pub struct RssSampler {
    peak_kib: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: Option<u32>) -> Self {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let peak_kib = Arc::clone(&peak_kib);
            async move {
                let Some(pid) = pid else { return };
                let path = format!("/proc/{pid}/status");
                let mut ticker = tokio::time::interval(Duration::from_millis(20));
                loop {
                    ticker.tick().await;
                    if let Some(kib) = rss_kib(&path) {
                        peak_kib.fetch_max(kib, Ordering::Relaxed);
                    }
                }
            }
        });
        Self { peak_kib, task }
    }

    /// The peak in MiB (0 if nothing could be read).
    pub fn stop(self) -> f64 {
        self.task.abort();
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

fn rss_kib(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The four-stage funnel every bench builds.
pub const FUNNEL: [&str; 4] = [
    "Inquiry",
    "Application Started",
    "Application Complete",
    "Enrolled",
];

/// The baseline of every server bench: `GET /healthz`, the same server,
/// HTTP and all, with no database work.
pub async fn measure_healthz(target: &Target, concurrency: usize, duration: Duration) -> Stats {
    let route = Route::get(target, "/healthz");
    measure(
        target,
        concurrency,
        duration,
        move |request: &mut Request, _worker, _n| {
            request.bodiless(&route);
            served
        },
    )
    .await
}
