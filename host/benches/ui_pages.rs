//! Admin UI page-render benchmark: how long the real `switchyard serve`
//! takes to answer each screen of the admin UI for an account with 10,000
//! leads and 100,000 deliveries (issue 16: every page under 50 ms at p50),
//! on SQLite and PostgreSQL.
//!
//! The leads are made through the admin API; the deliveries, their events
//! and their attempts (spread over five webhooks and the last ten days,
//! 80% succeeded, 15% failed, 5% waiting; a JSON payload, the lead event
//! it was made for and a logged attempt each) are written straight into
//! the database, as the delivery worker would have left them, because sending 100,000 real webhooks would take
//! the bench's minutes for no figure. The webhooks listen to an event
//! nothing triggers, so the worker stays idle.
//!
//! Each page is requested by one signed-in client, one request at a time
//! (the figure is the page's render time, not the server's throughput), for
//! `BENCH_SECONDS` after a short warm-up. An answer counts when it is
//! `200` and shows what the page is for (its heading and, for lists, a
//! row); a row where fewer than 99% did is printed INVALID.
//!
//! Settings (environment): `BENCH_SECONDS` (per page, default 3),
//! `BENCH_BACKENDS` (default `sqlite,postgres`), `BENCH_LEADS` (default
//! 10000), `BENCH_DELIVERIES` (default 100000), `BENCH_POSTGRES_URL`.

mod common;

use std::time::{Duration, Instant};

use common::{FUNNEL, Outcomes, ScratchDatabase, Server, Stats, create_funnel, env_or};
use serde_json::json;
use sqlx::{AnyPool, Executor};

const WEBHOOKS: usize = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("BENCH_SECONDS", 3);
    let leads: usize = env_or("BENCH_LEADS", 10_000);
    let deliveries: usize = env_or("BENCH_DELIVERIES", 100_000);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "# Admin UI page renders: {leads} leads, {deliveries} deliveries, one client, \
         {seconds} s per page\n"
    );
    Stats::print_header("pages/s");
    sqlx::any::install_default_drivers();
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let database = ScratchDatabase::create(backend).await?;
        let server = Server::start(&database.url, &[]).await?;
        let fixture = Fixture::create(&server, &database.url, leads, deliveries).await?;
        // As autovacuum would have done long before a table held 100,000
        // deliveries (the fourth session's figures lacked it: PostgreSQL
        // planned a freshly filled table as an empty one).
        database.refresh_statistics().await?;
        let client = signed_in_client(&server).await?;
        for page in fixture.pages() {
            let stats = measure_page(&client, &server.address, &page, seconds).await;
            stats.print(backend, &page.name, None);
        }
        server.stop().await;
    }
    Ok(())
}

/// One screen to measure, and what its answer must show.
struct Page {
    name: String,
    path: String,
    /// Every one of these must be in the page.
    shows: Vec<String>,
}

impl Page {
    fn new(name: &str, path: impl Into<String>, shows: &[&str]) -> Self {
        Self {
            name: name.into(),
            path: path.into(),
            shows: shows.iter().map(|text| (*text).to_owned()).collect(),
        }
    }
}

struct Fixture {
    lead: String,
    webhook: String,
    delivery: String,
}

impl Fixture {
    async fn create(
        server: &Server,
        database_url: &str,
        leads: usize,
        deliveries: usize,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        let stages = create_funnel(server, &FUNNEL).await?;
        let lead_ids = common::create_leads(server, "page", leads, Some(&stages[1])).await?;
        let mut webhooks = Vec::new();
        for n in 0..WEBHOOKS {
            let created = server
                .admin(
                    reqwest::Method::POST,
                    "/api/v1/webhooks",
                    &json!({"name": format!("Receiver {n}"),
                            "url": format!("https://receiver-{n}.example.com/hooks"),
                            "events": ["lead.deleted"]}),
                )
                .await?;
            webhooks.push(created["id"].as_str().unwrap_or_default().to_owned());
        }
        let delivery = insert_deliveries(database_url, &webhooks, &lead_ids, deliveries).await?;
        eprintln!(
            "  fixture: {leads} leads, {deliveries} deliveries in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(Self {
            lead: lead_ids[lead_ids.len() / 2].clone(),
            webhook: webhooks[0].clone(),
            delivery,
        })
    }

    fn pages(&self) -> Vec<Page> {
        let (lead, webhook, delivery) = (&self.lead, &self.webhook, &self.delivery);
        let a_day_ago = (chrono::Utc::now() - chrono::Duration::days(1))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        vec![
            Page::new("funnel stages", "/stages", &["<h1>Funnel stages</h1>"]),
            Page::new(
                "leads, first page",
                "/leads",
                &["<h1>Leads</h1>", "page10@"],
            ),
            Page::new(
                "leads, searched by email",
                "/leads?q=page4242%40example.com",
                &["page4242@example.com"],
            ),
            Page::new(
                "lead with its funnel history",
                format!("/leads/{lead}"),
                &[lead.as_str(), "backfilled"],
            ),
            Page::new("webhooks with health", "/webhooks", &["Receiver 4"]),
            Page::new(
                "a webhook's deliveries, first page",
                format!("/webhooks/{webhook}"),
                &["Receiver 0", "rel=\"next\""],
            ),
            Page::new(
                "a webhook's failed deliveries",
                format!("/webhooks/{webhook}?status=failed"),
                &["HTTP 503", "rel=\"next\""],
            ),
            Page::new(
                "a delivery with its attempt",
                format!("/webhooks/{webhook}/deliveries/{delivery}"),
                &[delivery.as_str(), "Attempt 1"],
            ),
            Page::new(
                "all deliveries, first page",
                "/deliveries",
                &["<h1>Deliveries</h1>", "rel=\"next\""],
            ),
            Page::new(
                "all deliveries, failed lead.stage_changed",
                "/deliveries?status=failed&event=lead.stage_changed",
                &["HTTP 503", "rel=\"next\""],
            ),
            Page::new(
                "all deliveries of one lead",
                format!("/deliveries?lead={lead}"),
                &[lead.as_str()],
            ),
            Page::new(
                "recover: count failed since a day ago",
                format!("/webhooks/{webhook}/recover?since={a_day_ago}"),
                &["failed deliveries since"],
            ),
            Page::new("webhook imports", "/imports", &["<h1>Webhook imports</h1>"]),
            Page::new("plugins", "/plugins", &["built in"]),
            Page::new("API keys", "/keys", &["<h1>API keys</h1>"]),
        ]
    }
}

/// Writes `count` deliveries, one attempt each, spread over `webhooks`,
/// `leads` and the last ten days, oldest first; returns the id of one
/// failed delivery of the first webhook.
async fn insert_deliveries(
    database_url: &str,
    webhooks: &[String],
    leads: &[String],
    count: usize,
) -> anyhow::Result<String> {
    let pool = AnyPool::connect(database_url).await?;
    let (account,): (String,) = sqlx::query_as("SELECT account_id FROM webhooks WHERE id = $1")
        .bind(&webhooks[0])
        .fetch_one(&pool)
        .await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let span_ms = 10 * 24 * 3_600 * 1_000_i64;
    let mut sample_failed = None;
    let mut transaction = pool.begin().await?;
    const ROWS: usize = 100;
    for chunk_start in (0..count).step_by(ROWS) {
        let rows: Vec<usize> = (chunk_start..count.min(chunk_start + ROWS)).collect();
        let made: Vec<Made> = rows
            .iter()
            .map(|&n| Made::new(n, count, now_ms, span_ms, webhooks, leads))
            .collect();
        let sql = insert_sql(
            "INSERT INTO lead_events (id, account_id, lead_id, event_type, actor_type, actor_id, \
                 actor_name, data, occurred_at, delivery_count) VALUES ",
            10,
            made.len(),
        );
        let mut insert = sqlx::query(&sql);
        for made in &made {
            insert = insert
                .bind(format!("evt_{}", made.ulid))
                .bind(account.clone())
                .bind(made.lead.clone())
                .bind(made.event)
                .bind("admin_api_key")
                .bind("key_01")
                .bind("initial key")
                .bind("{}")
                .bind(made.micros)
                // Each event here made one delivery.
                .bind(1_i64);
        }
        transaction.execute(insert).await?;
        let sql = insert_sql(
            "INSERT INTO deliveries (id, account_id, webhook_id, event_id, event_type, lead_id, \
                 status, attempt_count, payload_body, payload_content_type, \
                 last_response_status, created_at, updated_at) VALUES ",
            13,
            made.len(),
        );
        let mut insert = sqlx::query(&sql);
        for made in &made {
            insert = insert
                .bind(made.id.clone())
                .bind(account.clone())
                .bind(made.webhook.clone())
                .bind(format!("evt_{}", made.ulid))
                .bind(made.event)
                .bind(made.lead.clone())
                .bind(made.status)
                .bind(1_i64)
                .bind(made.payload.clone())
                .bind("application/json")
                .bind(made.response_status)
                .bind(made.micros)
                .bind(made.micros);
        }
        transaction.execute(insert).await?;
        let sql = insert_sql(
            "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempted_at, \
                 triggered_by, url, method, request_headers, request_body, response_status, \
                 response_headers, response_body, duration_us) VALUES ",
            13,
            made.len(),
        );
        let mut insert = sqlx::query(&sql);
        for made in &made {
            insert = insert
                .bind(format!("att_{}", made.ulid))
                .bind(made.id.clone())
                .bind(account.clone())
                .bind(made.micros)
                .bind("scheduled")
                .bind(format!("https://{}.example.com/hooks", made.webhook))
                .bind("POST")
                .bind(
                    r#"{"content-type":"application/json","webhook-id":"msg","webhook-signature":"[redacted]"}"#,
                )
                .bind(made.payload.clone())
                .bind(made.response_status)
                .bind(r#"{"content-type":"application/json"}"#)
                .bind(r#"{"ok":true}"#)
                .bind(48_000_i64);
        }
        transaction.execute(insert).await?;
        if sample_failed.is_none()
            && let Some(failed) = made
                .iter()
                .rev()
                .find(|made| made.status == "failed" && made.webhook == webhooks[0])
        {
            sample_failed = Some(failed.id.clone());
        }
    }
    transaction.commit().await?;
    pool.close().await;
    sample_failed.ok_or_else(|| anyhow::anyhow!("no failed delivery was made"))
}

/// `head` and `rows` groups of `columns` numbered placeholders
/// (`($1, $2), ($3, $4)`), which both engines accept.
fn insert_sql(head: &str, columns: usize, rows: usize) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|row| {
            let numbers: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", numbers.join(", "))
        })
        .collect();
    format!("{head}{}", groups.join(", "))
}

/// One made-up delivery.
struct Made {
    ulid: ulid::Ulid,
    id: String,
    webhook: String,
    lead: String,
    event: &'static str,
    status: &'static str,
    response_status: Option<i64>,
    payload: String,
    micros: i64,
}

impl Made {
    fn new(
        n: usize,
        count: usize,
        now_ms: i64,
        span_ms: i64,
        webhooks: &[String],
        leads: &[String],
    ) -> Self {
        // Oldest first, so that ids sort by creation time as real ones do.
        let millis = now_ms - span_ms + span_ms * n as i64 / count as i64;
        let ulid = ulid::Ulid::from_parts(millis as u64, n as u128);
        let (status, response_status) = match n % 20 {
            0..=2 => ("failed", Some(503)),
            3 => ("pending", None),
            _ => ("succeeded", Some(200)),
        };
        let lead = leads[n % leads.len()].clone();
        let event = if n.is_multiple_of(2) {
            "lead.stage_changed"
        } else {
            "lead.created"
        };
        let payload = json!({
            "id": format!("msg_{ulid}"), "event": event, "webhook_id": webhooks[n % webhooks.len()],
            "object_id": lead, "timestamp": "2026-11-23T14:00:00.123456Z",
            "actor": {"type": "admin_api_key", "id": "key_01", "name": "initial key"},
            "data": {"lead_profile_uid": lead, "email": format!("page{}@example.com", n % leads.len()),
                     "first_name": "Ada", "last_name": "Lovelace", "funnel_stage": "Application Started"}
        })
        .to_string();
        Self {
            id: format!("msg_{ulid}"),
            ulid,
            webhook: webhooks[n % webhooks.len()].clone(),
            lead,
            event,
            status,
            response_status,
            payload,
            micros: millis * 1_000,
        }
    }
}

/// A client holding a UI session of the server's first admin key.
async fn signed_in_client(server: &Server) -> anyhow::Result<reqwest::Client> {
    let signing_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = signing_in
        .post(format!("{}/sign-in", server.address))
        .header("sec-fetch-site", "same-origin")
        .form(&[("api_key", server.admin_key.as_str())])
        .send()
        .await?;
    let cookie = answer
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("switchyard_session="))
        .and_then(|value| value.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("signing in gave no session cookie"))?
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse()?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Requests `page` one at a time for `seconds` (after a warm-up of a
/// tenth of that, at least 20 requests).
async fn measure_page(client: &reqwest::Client, base: &str, page: &Page, seconds: u64) -> Stats {
    let url = format!("{base}{}", page.path);
    let duration = Duration::from_secs(seconds);
    let warm_up = Instant::now();
    let mut warmed = 0;
    while warmed < 20 || warm_up.elapsed() < duration / 10 {
        let _ = fetch(client, &url, page).await;
        warmed += 1;
    }
    let mut latencies = Vec::new();
    let mut outcomes = Outcomes::default();
    let mut complete = 0;
    let started = Instant::now();
    while started.elapsed() < duration {
        let sent = Instant::now();
        let outcome = fetch(client, &url, page).await;
        latencies.push(sent.elapsed());
        if outcome.complete() {
            complete += 1;
        }
        outcomes.add(outcome);
    }
    let ended = Instant::now();
    latencies.sort();
    let at = |share: f64| {
        latencies
            .get(((latencies.len() as f64 * share) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let requests = latencies.len();
    let invalid = if requests == 0 {
        Some("no request was answered".to_owned())
    } else if (complete as f64) < requests as f64 * common::VALID_SHARE {
        Some(format!(
            "only {complete} of {requests} answers were 200 and showed {:?}",
            page.shows
        ))
    } else {
        None
    };
    Stats {
        rate: requests as f64 / (ended - started).as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        requests,
        complete,
        outcomes,
        invalid,
        started,
        ended,
    }
}

/// One request: served when it is `200` and shows everything it must.
async fn fetch(client: &reqwest::Client, url: &str, page: &Page) -> Outcomes {
    let Ok(answer) = client.get(url).send().await else {
        return Outcomes::http_error();
    };
    if answer.status() != reqwest::StatusCode::OK {
        return Outcomes::http_error();
    }
    match answer.text().await {
        Ok(html) if page.shows.iter().all(|text| html.contains(text.as_str())) => {
            Outcomes::served()
        }
        _ => Outcomes::unchanged(),
    }
}
