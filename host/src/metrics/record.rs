//! The recording functions the instrumentation points call, one per kind
//! of event, each a few atomic operations on the process's [`Metrics`].
//! The label values are fixed here, so the names an operator's dashboards
//! use are all in one file.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use axum::http::Method;

use super::{Metrics, PluginCallLabels, PluginLabels, RequestLabels, RouteLabels, global};
use crate::plugins::error::PluginError;
use crate::storage::deliveries::{AttemptOutcome, AttemptResult};

/// How an inbound record ended (`switchyard_inbound_updates_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InboundOutcome {
    Updated,
    Unchanged,
    /// A transform's lead record created the lead.
    Created,
    Failed(InboundFailure),
    /// Flood control refused the whole request before it was read
    /// (counted once, however many records it carried).
    Rejected(Refusal),
}

/// Why flood control (`http::flood_control`) refused a request: the
/// `reason` label of a rejected one. It lives here, with the other label
/// values, so that metrics does not depend on http (which records into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    RateLimited,
    PendingDeliveriesCap,
}

/// Why an inbound record failed: the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InboundFailure {
    LeadNotFound,
    InvalidStage,
    /// Not JSON, a missing or ill-typed field, a lead record that names
    /// nothing to match.
    InvalidRecord,
    /// A lead record matched nothing and its import does not create leads.
    LeadCreationOff,
    /// A lead record's field is invalid.
    InvalidField,
    /// A lead record's email belongs to another lead.
    EmailTaken,
    /// The import's transform failed: the request produced no records.
    TransformFailed,
}

impl InboundFailure {
    /// The reason of a batch record's failure, from the error it reports
    /// (the first two messages are the inbound contract's, DESIGN.md).
    pub(crate) fn of_message(error: &str) -> Self {
        match error {
            "Lead profile not found" => InboundFailure::LeadNotFound,
            "Invalid funnel stage" => InboundFailure::InvalidStage,
            _ if error.starts_with("No lead matches") => InboundFailure::LeadCreationOff,
            _ if error.starts_with("lead.fields.email: another lead") => InboundFailure::EmailTaken,
            _ if error.starts_with("lead.fields") => InboundFailure::InvalidField,
            _ => InboundFailure::InvalidRecord,
        }
    }
}

impl InboundOutcome {
    pub(crate) const ALL: [InboundOutcome; 12] = [
        InboundOutcome::Updated,
        InboundOutcome::Unchanged,
        InboundOutcome::Created,
        InboundOutcome::Failed(InboundFailure::LeadNotFound),
        InboundOutcome::Failed(InboundFailure::InvalidStage),
        InboundOutcome::Failed(InboundFailure::InvalidRecord),
        InboundOutcome::Failed(InboundFailure::LeadCreationOff),
        InboundOutcome::Failed(InboundFailure::InvalidField),
        InboundOutcome::Failed(InboundFailure::EmailTaken),
        InboundOutcome::Failed(InboundFailure::TransformFailed),
        InboundOutcome::Rejected(Refusal::RateLimited),
        InboundOutcome::Rejected(Refusal::PendingDeliveriesCap),
    ];

    /// `(outcome, reason)`.
    pub(crate) fn labels(self) -> (&'static str, &'static str) {
        match self {
            InboundOutcome::Updated => ("updated", ""),
            InboundOutcome::Unchanged => ("unchanged", ""),
            InboundOutcome::Created => ("created", ""),
            InboundOutcome::Failed(reason) => (
                "failed",
                match reason {
                    InboundFailure::LeadNotFound => "lead_not_found",
                    InboundFailure::InvalidStage => "invalid_stage",
                    InboundFailure::InvalidRecord => "invalid_record",
                    InboundFailure::LeadCreationOff => "lead_creation_off",
                    InboundFailure::InvalidField => "invalid_field",
                    InboundFailure::EmailTaken => "email_taken",
                    InboundFailure::TransformFailed => "transform_failed",
                },
            ),
            InboundOutcome::Rejected(refusal) => (
                "rejected",
                match refusal {
                    Refusal::RateLimited => "rate_limited",
                    Refusal::PendingDeliveriesCap => "pending_deliveries_cap",
                },
            ),
        }
    }
}

/// What an attempt made of its delivery (`switchyard_delivery_attempts_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryOutcome {
    Delivered,
    Retrying,
    Failed,
    Parked,
}

impl DeliveryOutcome {
    pub(crate) const ALL: [DeliveryOutcome; 4] = [
        DeliveryOutcome::Delivered,
        DeliveryOutcome::Retrying,
        DeliveryOutcome::Failed,
        DeliveryOutcome::Parked,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::Parked => "parked",
        }
    }
}

/// An answered HTTP request. `route` is the matched route template (from
/// [`intern_route`]), `None` when no route matched.
pub(crate) fn http_request(
    method: &Method,
    route: Option<&'static str>,
    status: u16,
    took: Duration,
) {
    global().http_request(method, route, status, took);
}

/// An inbound record (or a request whose transform failed).
pub(crate) fn inbound(outcome: InboundOutcome) {
    global().inbound(outcome);
}

/// A delivery attempt; `took` is `None` when nothing was sent (a parked
/// delivery, a webhook deleted meanwhile).
pub(crate) fn delivery_attempt(outcome: DeliveryOutcome, took: Option<Duration>) {
    global().delivery_attempt(outcome, took);
}

/// A recorded delivery attempt: its outcome, and its request's time when
/// a request was made.
pub(crate) fn delivery_attempt_result(result: &AttemptResult) {
    let outcome = match result.outcome {
        AttemptOutcome::Succeeded => DeliveryOutcome::Delivered,
        AttemptOutcome::RetryAt(_) => DeliveryOutcome::Retrying,
        AttemptOutcome::Failed => DeliveryOutcome::Failed,
        AttemptOutcome::Parked => DeliveryOutcome::Parked,
    };
    let sent = result.log.duration_us > 0 && outcome != DeliveryOutcome::Parked;
    let took = sent.then(|| Duration::from_micros(result.log.duration_us.unsigned_abs()));
    delivery_attempt(outcome, took);
}

/// A plugin call of plugin `plugin` (its id) of `kind`.
pub(crate) fn plugin_call(
    plugin: &str,
    kind: &'static str,
    outcome: Result<(), &PluginError>,
    fuel: u64,
    took: Duration,
) {
    global().plugin_call(plugin, kind, outcome, fuel, took);
}

/// The `outcome` label of a plugin call.
pub(crate) fn plugin_outcome(outcome: Result<(), &PluginError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        Err(PluginError::InvalidModule(_)) => "invalid_module",
        Err(PluginError::InvalidScript(_)) => "invalid_script",
        Err(PluginError::OutOfFuel) => "out_of_fuel",
        Err(PluginError::MemoryLimitExceeded) => "memory_limit_exceeded",
        Err(PluginError::TimeLimitExceeded) => "time_limit_exceeded",
        Err(PluginError::StackOverflow) => "stack_overflow",
        Err(PluginError::OutputTooLarge) => "output_too_large",
        Err(PluginError::InvalidOutput(_)) => "invalid_output",
        Err(PluginError::Plugin(_)) => "plugin_error",
        Err(PluginError::Trap(_)) => "trap",
        Err(PluginError::Busy(_)) => "busy",
        Err(PluginError::EngineUnavailable(_)) => "engine_unavailable",
    }
}

impl Metrics {
    pub(crate) fn http_request(
        &self,
        method: &Method,
        route: Option<&'static str>,
        status: u16,
        took: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or(NO_ROUTE);
        self.http_requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn inbound(&self, outcome: InboundOutcome) {
        if let Some((_, counter)) = self.inbound.iter().find(|(known, _)| *known == outcome) {
            counter.inc();
        }
    }

    pub(crate) fn delivery_attempt(&self, outcome: DeliveryOutcome, took: Option<Duration>) {
        if let Some((_, counter)) = self.deliveries.iter().find(|(known, _)| *known == outcome) {
            counter.inc();
        }
        if let Some(took) = took {
            self.delivery_duration.observe(took.as_secs_f64());
        }
    }

    pub(crate) fn plugin_call(
        &self,
        plugin: &str,
        kind: &'static str,
        outcome: Result<(), &PluginError>,
        fuel: u64,
        took: Duration,
    ) {
        self.plugin_calls
            .get_or_create(&PluginCallLabels {
                plugin: plugin.to_owned(),
                kind,
                outcome: plugin_outcome(outcome),
            })
            .inc();
        let plugin = PluginLabels {
            plugin: plugin.to_owned(),
        };
        self.plugin_fuel.get_or_create(&plugin).observe(fuel as f64);
        self.plugin_duration
            .get_or_create(&plugin)
            .observe(took.as_secs_f64());
    }
}

/// The `route` of a request that matched no route (a 404 or 405).
const NO_ROUTE: &str = "(unmatched)";

/// More distinct route templates than any version of the API has; past
/// this, templates share one label (a bound on memory, should routes ever
/// be made dynamically).
const MAX_ROUTES: usize = 1_000;

/// The route template as a `&'static str`: each template is leaked once,
/// so labels are compared and hashed without allocating per request.
pub(crate) fn intern_route(route: &str) -> &'static str {
    static ROUTES: RwLock<Option<HashSet<&'static str>>> = RwLock::new(None);
    if let Some(known) = ROUTES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|routes| routes.get(route).copied())
    {
        return known;
    }
    let mut routes = ROUTES.write().unwrap_or_else(PoisonError::into_inner);
    let routes = routes.get_or_insert_with(HashSet::new);
    if let Some(known) = routes.get(route) {
        return known;
    }
    if routes.len() >= MAX_ROUTES {
        return "(other)";
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(leaked);
    leaked
}

/// The standard methods by name; any other as `OTHER`, so a client
/// inventing methods cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(metrics: &Metrics) -> String {
        let mut out = String::new();
        metrics.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn requests_are_counted_by_route_template_method_and_status() {
        let metrics = Metrics::new();
        let route = Some("/api/v1/leads/{lead_id}");
        let took = Duration::from_millis(3);
        metrics.http_request(&Method::GET, route, 200, took);
        metrics.http_request(&Method::GET, route, 200, took);
        metrics.http_request(&Method::GET, route, 404, took);
        metrics.http_request(&Method::from_bytes(b"BREW").unwrap(), None, 405, took);
        let text = encoded(&metrics);
        assert!(text.contains(
            "switchyard_http_requests_total{method=\"GET\",route=\"/api/v1/leads/{lead_id}\",status=\"200\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "switchyard_http_requests_total{method=\"GET\",route=\"/api/v1/leads/{lead_id}\",status=\"404\"} 1\n"
        ), "{text}");
        assert!(text.contains(
            "switchyard_http_requests_total{method=\"OTHER\",route=\"(unmatched)\",status=\"405\"} 1\n"
        ), "{text}");
        assert!(text.contains(
            "switchyard_http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/api/v1/leads/{lead_id}\"} 3\n"
        ) || text.contains(
            "switchyard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/leads/{lead_id}\",le=\"0.005\"} 3\n"
        ), "{text}");
    }

    #[test]
    fn every_outcome_is_exposed_at_zero_before_it_happens() {
        let metrics = Metrics::new();
        metrics.inbound(InboundOutcome::Failed(InboundFailure::InvalidStage));
        metrics.inbound(InboundOutcome::Rejected(Refusal::RateLimited));
        metrics.delivery_attempt(DeliveryOutcome::Retrying, Some(Duration::from_millis(20)));
        metrics.delivery_attempt(DeliveryOutcome::Parked, None);
        let text = encoded(&metrics);
        for line in [
            "switchyard_inbound_updates_total{outcome=\"updated\",reason=\"\"} 0\n",
            "switchyard_inbound_updates_total{outcome=\"failed\",reason=\"invalid_stage\"} 1\n",
            "switchyard_inbound_updates_total{outcome=\"failed\",reason=\"transform_failed\"} 0\n",
            "switchyard_inbound_updates_total{outcome=\"rejected\",reason=\"rate_limited\"} 1\n",
            "switchyard_inbound_updates_total{outcome=\"rejected\",reason=\"pending_deliveries_cap\"} 0\n",
            "switchyard_delivery_attempts_total{outcome=\"retrying\"} 1\n",
            "switchyard_delivery_attempts_total{outcome=\"parked\"} 1\n",
            "switchyard_delivery_attempts_total{outcome=\"delivered\"} 0\n",
            "switchyard_delivery_attempt_duration_seconds_count 1\n",
            "switchyard_build_info{version=\"",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn plugin_calls_are_counted_by_plugin_and_named_error_with_fuel() {
        let metrics = Metrics::new();
        let took = Duration::from_micros(700);
        metrics.plugin_call("builtin:small", "payload-builder", Ok(()), 12_000, took);
        metrics.plugin_call(
            "pl_1",
            "inbound-transform",
            Err(&PluginError::OutOfFuel),
            50_000_000,
            took,
        );
        let text = encoded(&metrics);
        for line in [
            "switchyard_plugin_calls_total{plugin=\"builtin:small\",kind=\"payload-builder\",outcome=\"ok\"} 1\n",
            "switchyard_plugin_calls_total{plugin=\"pl_1\",kind=\"inbound-transform\",outcome=\"out_of_fuel\"} 1\n",
            "switchyard_plugin_fuel_sum{plugin=\"pl_1\"} 50000000",
            "switchyard_plugin_fuel_count{plugin=\"builtin:small\"} 1\n",
            "switchyard_plugin_call_duration_seconds_count{plugin=\"pl_1\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn batch_failures_are_named_by_their_message() {
        for (message, reason) in [
            ("Lead profile not found", InboundFailure::LeadNotFound),
            ("Invalid funnel stage", InboundFailure::InvalidStage),
            ("funnel_stage: missing field", InboundFailure::InvalidRecord),
            ("", InboundFailure::InvalidRecord),
            (
                "No lead matches this record, and this import does not create leads",
                InboundFailure::LeadCreationOff,
            ),
            (
                "lead.fields.email: another lead already has email a@b.c",
                InboundFailure::EmailTaken,
            ),
            (
                "lead.fields: score must be an integer",
                InboundFailure::InvalidField,
            ),
        ] {
            assert_eq!(InboundFailure::of_message(message), reason, "{message}");
        }
    }

    #[test]
    fn route_templates_are_interned_once() {
        let first = intern_route("/api/v1/webhooks/{webhook_id}");
        let second = intern_route(&String::from("/api/v1/webhooks/{webhook_id}"));
        assert!(std::ptr::eq(first, second));
    }
}
