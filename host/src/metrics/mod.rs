//! Prometheus metrics: what the server counts, and `GET /metrics` in the
//! Prometheus text exposition format (0.0.4), built on the
//! `prometheus-client` crate.
//!
//! Everything about metrics lives in this folder; the rest of the code
//! only calls the recording functions of [`record`] at its instrumentation
//! points (one line each):
//!
//! - `http::access_log`: every request, by method, matched route template
//!   (never the raw path, so ids and tokens stay out) and status, with its
//!   latency;
//! - `http::funnel_import`: every inbound record, by outcome and, when it
//!   failed, why, and every request flood control refused (`rejected`,
//!   with the reason);
//! - `outbound::delivery::recorder`: every delivery attempt, by what became
//!   of the delivery, with the attempt's latency;
//! - `plugins::registry`: every plugin call, by plugin and outcome (`ok` or
//!   the named error), with the fuel and time it used.
//!
//! What is read on a scrape instead of counted: the delivery queue (depth,
//! age of the oldest due delivery) and the database pool, in [`endpoint`]
//! (one indexed query per scrape, nothing on the write path); the process's
//! memory and CPU from `/proc/self`, in [`process`].
//!
//! The counters are process-wide (one registry in a static), because the
//! instrumentation points are spread over layers that share no handle.
//! Recording is cheap: counters with fixed label sets are resolved once at
//! start-up and then cost one atomic add; labels are `&'static str` (route
//! templates are interned once each), so a request allocates nothing here.

pub(crate) mod endpoint;
mod process;
pub(crate) mod record;

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use record::{DeliveryOutcome, InboundOutcome};

/// Latency buckets of HTTP requests, in seconds: from a millisecond (a
/// cached read) to ten seconds (a request stuck behind the database).
const HTTP_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Latency buckets of delivery attempts, in seconds, up to the longest
/// webhook timeout (60 s).
const DELIVERY_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Time buckets of plugin calls, in seconds, up to the account maximum of
/// the wall-clock limit.
const PLUGIN_TIME_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Labels of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
}

/// Labels of a request's latency (the status would multiply the buckets
/// for little: the counter has it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    pub method: &'static str,
    pub route: &'static str,
}

/// Labels of an inbound record's outcome; `reason` is empty unless it failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InboundLabels {
    pub outcome: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    pub outcome: &'static str,
}

/// Labels of a plugin call: the plugin's id (`builtin:NAME` or an upload's
/// `pl_...`), its kind and how the call ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PluginCallLabels {
    pub plugin: String,
    pub kind: &'static str,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PluginLabels {
    pub plugin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Makes histograms with fixed buckets for a [`Family`].
#[derive(Debug, Clone, Copy)]
struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// Fuel buckets: 10,000 (a trivial plugin) to about 2.6 billion, by
/// factors of 4; the default limit is 50 million.
#[derive(Debug, Clone, Copy)]
struct FuelBuckets;

impl MetricConstructor<Histogram> for FuelBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(10_000.0, 4.0, 10))
    }
}

/// Every metric this process counts, and the registry that encodes them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, Buckets>,
    /// One counter per [`InboundOutcome`], resolved at start-up.
    inbound: Vec<(InboundOutcome, Counter)>,
    /// One counter per [`DeliveryOutcome`], resolved at start-up.
    deliveries: Vec<(DeliveryOutcome, Counter)>,
    delivery_duration: Histogram,
    plugin_calls: Family<PluginCallLabels, Counter>,
    plugin_fuel: Family<PluginLabels, Histogram, FuelBuckets>,
    plugin_duration: Family<PluginLabels, Histogram, Buckets>,
}

/// The process's metrics.
pub(crate) fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

impl Metrics {
    /// A registry with every metric at zero (tests make their own).
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");

        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route template and status",
            http_requests.clone(),
        );
        let http_duration = Family::new_with_constructor(Buckets(&HTTP_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until the response head is ready)",
            Unit::Seconds,
            http_duration.clone(),
        );

        let inbound_family = Family::<InboundLabels, Counter>::default();
        registry.register(
            "inbound_updates",
            "Inbound funnel-import records, by outcome (updated, unchanged, created, failed) and, for failures, the reason; a request flood control refused (outcome rejected, reason rate_limited or pending_deliveries_cap) counts once, whatever it carried",
            inbound_family.clone(),
        );
        let inbound = InboundOutcome::ALL
            .iter()
            .map(|outcome| {
                let (outcome_label, reason) = outcome.labels();
                let labels = InboundLabels {
                    outcome: outcome_label,
                    reason,
                };
                (*outcome, inbound_family.get_or_create_owned(&labels))
            })
            .collect();

        let delivery_family = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Delivery attempts, by what became of the delivery: delivered, retrying (a retry is scheduled), failed (given up) or parked (webhook inactive, not sent)",
            delivery_family.clone(),
        );
        let deliveries = DeliveryOutcome::ALL
            .iter()
            .map(|outcome| {
                let labels = OutcomeLabels {
                    outcome: outcome.label(),
                };
                (*outcome, delivery_family.get_or_create_owned(&labels))
            })
            .collect();
        let delivery_duration = Histogram::new(DELIVERY_BUCKETS.iter().copied());
        registry.register_with_unit(
            "delivery_attempt_duration",
            "Time of a delivery attempt's request, from sending to the end of the answer (or the error)",
            Unit::Seconds,
            delivery_duration.clone(),
        );

        let plugin_calls = Family::<PluginCallLabels, Counter>::default();
        registry.register(
            "plugin_calls",
            "Plugin calls, by plugin id, kind and outcome (ok, or the named error: out_of_fuel, memory_limit_exceeded, time_limit_exceeded, ...)",
            plugin_calls.clone(),
        );
        let plugin_fuel = Family::new_with_constructor(FuelBuckets);
        registry.register(
            "plugin_fuel",
            "Fuel a plugin call used (about one unit per WebAssembly instruction)",
            plugin_fuel.clone(),
        );
        let plugin_duration = Family::new_with_constructor(Buckets(&PLUGIN_TIME_BUCKETS));
        registry.register_with_unit(
            "plugin_call_duration",
            "Wall-clock time of a plugin call, instantiation included",
            Unit::Seconds,
            plugin_duration.clone(),
        );

        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running version; always 1", build);

        Self {
            registry,
            http_requests,
            http_duration,
            inbound,
            deliveries,
            delivery_duration,
            plugin_calls,
            plugin_fuel,
            plugin_duration,
        }
    }

    /// Appends every counted metric, then the process's, in the text
    /// format.
    pub(crate) fn encode(&self, out: &mut String) -> std::fmt::Result {
        prometheus_client::encoding::prometheus_text::encode(out, &self.registry)?;
        process::encode(out)
    }
}
