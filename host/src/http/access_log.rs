//! The access log: one `info` line per request, with its method, the route
//! it matched (the template, such as `/api/v1/leads/{lead_id}`, so that ids
//! and tokens in paths never reach the log), the status and the time taken
//! to answer. Logged under the target `switchyard::access`; turn it off with
//! `RUST_LOG=info,switchyard::access=off`. Health probes, which load
//! balancers send every few seconds, are logged at `debug` only.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Logs the request once its response is ready (the body may still be
/// streaming).
pub(crate) async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1_000.0;
    let route = route.as_deref().unwrap_or("(no route)");
    let status = response.status().as_u16();
    let duration_ms = format_args!("{duration_ms:.1}");
    if matches!(route, "/healthz" | "/readyz") {
        tracing::debug!(target: "switchyard::access", %method, route = %route, status, duration_ms, "request");
    } else {
        tracing::info!(target: "switchyard::access", %method, route = %route, status, duration_ms, "request");
    }
    response
}
