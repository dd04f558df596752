//! `GET /metrics`: the counted metrics, plus what is read on each scrape
//! (the delivery queue, the database pool, the process). Served on the
//! API's listener or on a listener of its own (`--metrics-listen`), behind
//! a bearer token when `--metrics-token` is set, or not at all
//! (`--metrics off`).
//!
//! The queue figures come from one query on the partial index of scheduled
//! deliveries, run when Prometheus asks (every 15 to 60 s, typically) and
//! never on the write path. They describe the whole database, so several
//! processes sharing one PostgreSQL report the same values: aggregate them
//! with `max`, not `sum`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::{Registry, Unit};
use sqlx::Row;

use super::global;
use crate::domain::time::now_micros;
use crate::storage::Database;

/// The path, on whichever listener serves it.
pub(crate) const PATH: &str = "/metrics";

/// The longest a scrape waits for the queue query; past it the queue
/// gauges are left out of that scrape rather than holding Prometheus.
const QUEUE_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the `/metrics` handler needs.
#[derive(Debug, Clone)]
pub(crate) struct MetricsEndpoint {
    db: Database,
    /// The bearer token a scrape must present, when one is configured.
    token: Option<Arc<str>>,
}

impl MetricsEndpoint {
    pub(crate) fn new(db: Database, token: Option<&str>) -> Self {
        Self {
            db,
            token: token.filter(|token| !token.is_empty()).map(Arc::from),
        }
    }

    /// `routes` with `GET /metrics` added (after the routes' layers, so that
    /// scrapes are neither logged nor counted as requests).
    pub(crate) fn add_to(self, routes: Router) -> Router {
        routes.route(
            PATH,
            get(move |headers: HeaderMap| {
                let endpoint = self.clone();
                async move { endpoint.scrape(&headers).await }
            }),
        )
    }

    /// A router serving only `GET /metrics`, for a listener of its own.
    pub(crate) fn router(self) -> Router {
        self.add_to(Router::new())
            .fallback(|| async { (StatusCode::NOT_FOUND, "Only /metrics is served here.\n") })
    }

    async fn scrape(&self, headers: &HeaderMap) -> Response {
        if let Some(token) = &self.token
            && !presents(headers, token)
        {
            return (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, "Bearer")],
                "Send the metrics token (--metrics-token) as `Authorization: Bearer <token>`.\n",
            )
                .into_response();
        }
        let queue = match tokio::time::timeout(QUEUE_QUERY_TIMEOUT, read_queue(&self.db)).await {
            Ok(Ok(queue)) => Some(queue),
            Ok(Err(error)) => {
                tracing::warn!(%error, "metrics: cannot read the delivery queue");
                None
            }
            Err(_) => {
                tracing::warn!(timeout = ?QUEUE_QUERY_TIMEOUT, "metrics: the delivery queue query timed out");
                None
            }
        };
        let mut body = String::with_capacity(32 * 1024);
        let encoded = global()
            .encode(&mut body)
            .and_then(|()| encode_scraped(&mut body, queue.as_ref(), &self.db));
        match encoded {
            Ok(()) => ([(CONTENT_TYPE, prometheus_text::CONTENT_TYPE)], body).into_response(),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the metrics\n",
            )
                .into_response(),
        }
    }
}

/// Whether the request carries `Authorization: Bearer <token>`, compared in
/// constant time.
fn presents(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (given, token) = (given.trim().as_bytes(), token.as_bytes());
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// The delivery queue at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueFigures {
    /// Scheduled deliveries whose time has come (in flight included).
    pub due: i64,
    /// Scheduled deliveries waiting for a later time (retries, batches).
    pub later: i64,
    /// How long the oldest due delivery has been due, in microseconds.
    pub oldest_due_age_micros: i64,
}

/// Counts scheduled deliveries (those with a next attempt time: the partial
/// index `deliveries_webhook_due`, read whole).
async fn read_queue(db: &Database) -> Result<QueueFigures, sqlx::Error> {
    let now = now_micros();
    let row = sqlx::query(
        "SELECT COUNT(*) AS scheduled, \
                COUNT(*) FILTER (WHERE next_attempt_at <= $1) AS due, \
                MIN(next_attempt_at) AS oldest \
         FROM deliveries WHERE next_attempt_at IS NOT NULL",
    )
    .bind(now)
    .fetch_one(db.reader())
    .await?;
    let scheduled: i64 = row.try_get("scheduled")?;
    let due: i64 = row.try_get("due")?;
    let oldest: Option<i64> = row.try_get("oldest")?;
    Ok(QueueFigures {
        due,
        later: scheduled - due,
        oldest_due_age_micros: oldest.map_or(0, |oldest| (now - oldest).max(0)),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueueLabels {
    state: &'static str,
}

/// Appends the figures read for this scrape: the queue (when it could be
/// read) and the database pool.
fn encode_scraped(
    out: &mut String,
    queue: Option<&QueueFigures>,
    db: &Database,
) -> std::fmt::Result {
    let mut registry = Registry::with_prefix("switchyard");
    if let Some(queue) = queue {
        let depth = Family::<QueueLabels, Gauge>::default();
        depth
            .get_or_create(&QueueLabels { state: "due" })
            .set(queue.due);
        depth
            .get_or_create(&QueueLabels { state: "later" })
            .set(queue.later);
        registry.register(
            "delivery_queue_depth",
            "Deliveries waiting to be sent: `due` now (in flight included) or scheduled for `later` (retries, batch windows); for the whole database",
            depth,
        );
        registry.register_with_unit(
            "delivery_oldest_due_age",
            "How long the oldest due delivery has been waiting past its time (0 when none is due)",
            Unit::Seconds,
            ConstGauge::new(queue.oldest_due_age_micros as f64 / 1e6),
        );
    }
    let pool = db.reader();
    let open = i64::from(pool.size());
    let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
    registry.register(
        "db_pool_connections_open",
        "Connections the database pool holds open",
        ConstGauge::new(open),
    );
    registry.register(
        "db_pool_connections_in_use",
        "Connections of the database pool lent out at the moment of the scrape",
        ConstGauge::new((open - idle).max(0)),
    );
    registry.register(
        "db_pool_connections_max",
        "Most connections the database pool opens (--db-max-connections, less the connections kept for hot reads)",
        ConstGauge::new(i64::from(pool.options().get_max_connections())),
    );
    prometheus_text::encode(out, &registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_must_match_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!presents(&headers, "s3cret"));
        headers.insert(AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(presents(&headers, "s3cret"));
        assert!(!presents(&headers, "s3cre"));
        assert!(!presents(&headers, "s3creT"));
        headers.insert(AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!presents(&headers, "s3cret"));
    }
}
