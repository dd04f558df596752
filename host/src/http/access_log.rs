//! The access log: one `info` line per request, with its method, the route
//! it matched (the template, such as `/api/v1/leads/{lead_id}`, so that ids
//! and tokens in paths never reach the log), the status and the time taken
//! to answer. Logged under the target `switchyard::access`; turn it off with
//! `RUST_LOG=info,switchyard::access=off`. Health probes, which load
//! balancers send every few seconds, are logged at `debug` only. Each
//! request is also counted in the metrics (`crate::metrics`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics;

/// Logs the request once its response is ready (the body may still be
/// streaming).
pub(crate) async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Interned: the same text serves the log and the metrics' label
    // without an allocation per request.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| metrics::record::intern_route(path.as_str()));
    let response = next.run(request).await;
    let took = started.elapsed();
    let duration_ms = took.as_secs_f64() * 1_000.0;
    let status = response.status().as_u16();
    metrics::record::http_request(&method, route, status, took);
    let route = route.unwrap_or("(no route)");
    let duration_ms = format_args!("{duration_ms:.1}");
    if matches!(route, "/healthz" | "/readyz") {
        tracing::debug!(target: "switchyard::access", %method, route = %route, status, duration_ms, "request");
    } else {
        tracing::info!(target: "switchyard::access", %method, route = %route, status, duration_ms, "request");
    }
    response
}
