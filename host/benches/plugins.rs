//! Plugin sandbox benchmark: the cost of one call of the built-in
//! json-mapper on a ~1 KB HubSpot-style body in a fresh sandboxed instance
//! (instantiation included), beside the same mapping compiled natively and
//! run on the same input in the same run, and beside the same mapping
//! written in JavaScript (`plugins/js-examples/hubspot-lifecycle.js`). One
//! thread, calls back to back (each driven by a current-thread tokio
//! runtime, as the server's are by its).
//! See BENCHMARKS.md.
//!
//! Settings (environment): `BENCH_CALLS` (default 20,000 per side).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard::domain::plugin::PluginKind;
use switchyard::domain::plugin::PluginLimits;
use switchyard::plugins::builtin::builtin;
use switchyard::plugins::js::{self, Language};
use switchyard::plugins::runtime::PluginRuntime;
use switchyard_plugin_sdk::Record;

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let document = input_document();
    println!(
        "# Plugin call benchmark: json-mapper, {} byte input document, {calls} calls per side, one thread\n",
        document.len()
    );

    let native = measure(calls, || {
        #[derive(serde::Deserialize)]
        struct Call {
            config: json_mapper::Config,
            input: json_mapper::MappedRequest,
        }
        let call: Call = serde_json::from_slice(&document).expect("valid input");
        let updates: Vec<Record> = json_mapper::transform(call.config, call.input).expect("maps");
        let output = serde_json::to_vec(&json!({ "ok": updates })).expect("serialises");
        assert!(!output.is_empty());
    });

    // Calls are async (they yield to the runtime at every epoch tick); a
    // current-thread runtime drives them here, one after another.
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let runtime = PluginRuntime::new(None).expect("runtime");
    let module = builtin("json-mapper").expect("built in").module;
    let plugin = runtime
        .compile(module, PluginKind::InboundTransform)
        .expect("compiles");
    let sample = executor.block_on(runtime.call(&plugin, &document, &PluginLimits::DEFAULT));
    let expected = sample.outcome.expect("the sandboxed call succeeds");
    assert_eq!(expected.as_array().map(Vec::len), Some(5));
    let sandboxed = measure(calls, || {
        let call = executor.block_on(runtime.call(&plugin, &document, &PluginLimits::DEFAULT));
        assert!(call.outcome.is_ok());
    });

    // The document the inbound benchmark's transformed requests produce:
    // one small event and the headers a client sends.
    let single = single_event_document();
    let single_fuel = executor
        .block_on(runtime.call(&plugin, &single, &PluginLimits::DEFAULT))
        .fuel_used;
    let single_event = measure(calls, || {
        let call = executor.block_on(runtime.call(&plugin, &single, &PluginLimits::DEFAULT));
        assert!(call.outcome.is_ok());
    });

    let trivial =
        wat::parse_str(include_str!("../../plugins/hostile/call_counter.wat")).expect("valid WAT");
    let trivial = runtime
        .compile(&trivial, PluginKind::InboundTransform)
        .expect("compiles");
    let floor = measure(calls, || {
        let call = executor.block_on(runtime.call(&trivial, &document, &PluginLimits::DEFAULT));
        assert!(call.outcome.is_ok());
    });

    // The same mapping written in JavaScript (plugins/js-examples), built
    // as `switchyard plugin build` and an upload would: QuickJS snapshotted
    // after the script ran. Same input document, same sandbox.
    let built_at = Instant::now();
    let script = js::build(
        include_str!("../../plugins/js-examples/hubspot-lifecycle.js"),
        "hubspot-lifecycle.js",
        Language::JavaScript,
        Some(PluginKind::InboundTransform),
    )
    .expect("the example builds");
    let js_plugin = runtime
        .compile(&script.module, PluginKind::InboundTransform)
        .expect("compiles");
    let js_build = built_at.elapsed();
    // A server builds every upload after its first with the engine already
    // compiled: time a second, different script (a changed comment is
    // enough to miss every cache), built and compiled the same way.
    let rebuilt_at = Instant::now();
    let changed = js::build(
        &format!(
            "{}\n// edited\n",
            include_str!("../../plugins/js-examples/hubspot-lifecycle.js")
        ),
        "hubspot-lifecycle.js",
        Language::JavaScript,
        Some(PluginKind::InboundTransform),
    )
    .expect("the edited example builds");
    runtime
        .compile(&changed.module, PluginKind::InboundTransform)
        .expect("compiles");
    let js_rebuild = rebuilt_at.elapsed();
    let js_sample = executor.block_on(runtime.call(&js_plugin, &document, &PluginLimits::DEFAULT));
    assert_eq!(
        js_sample.outcome.expect("the JS call succeeds"),
        expected,
        "the JS mapping answers as json-mapper does"
    );
    let javascript = measure(calls, || {
        let call = executor.block_on(runtime.call(&js_plugin, &document, &PluginLimits::DEFAULT));
        assert!(call.outcome.is_ok());
    });

    println!("| measurement | calls/s | p50 µs | p99 µs |");
    println!("|---|---:|---:|---:|");
    native.print("native Rust mapping (baseline)");
    sandboxed.print("sandboxed call, fresh instance each");
    single_event.print(&format!(
        "sandboxed call on one small event ({} byte document, as in the inbound benchmark)",
        single.len()
    ));
    floor.print("sandbox floor: a module that does nothing, same input");
    javascript.print("the same mapping in JavaScript (QuickJS snapshot), fresh instance each");
    println!(
        "\nSandbox overhead: {:.1}x the native time per call (p50); fuel used per call: {} (one small event: {single_fuel}).",
        sandboxed.p50.as_secs_f64() / native.p50.as_secs_f64(),
        sample.fuel_used
    );
    println!(
        "JavaScript: {} fuel per call ({:.1}x json-mapper's), module {} bytes, built and compiled in {} ms (first build of the process, engine compile included), the next script in {} ms.",
        js_sample.fuel_used,
        js_sample.fuel_used as f64 / sample.fuel_used as f64,
        script.module.len(),
        js_build.as_millis(),
        js_rebuild.as_millis()
    );
}

/// `{"config": ..., "input": ...}` for five HubSpot-style property-change
/// events, about 1 KB.
fn input_document() -> Vec<u8> {
    let events: Vec<Value> = (0..5)
        .map(|n| {
            json!({
                "eventId": 1_000_000 + n,
                "subscriptionId": 42,
                "portalId": 987_654,
                "occurredAt": 1_700_000_000_000_u64 + n,
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": format!("lead_01JD{n:022}"),
                "changeSource": "CRM_UI",
                "propertyName": "lifecyclestage",
                "propertyValue": "marketingqualifiedlead"
            })
        })
        .collect();
    json!({
        "config": {"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"},
        "input": {"headers": {"content-type": "application/json"}, "content_type": "application/json", "body": events}
    })
    .to_string()
    .into_bytes()
}

/// The document of one transformed request of the inbound benchmark.
fn single_event_document() -> Vec<u8> {
    let headers = [
        ("accept", "*/*"),
        ("content-length", "91"),
        ("content-type", "application/json"),
        ("host", "127.0.0.1:40000"),
    ];
    switchyard::plugins::abi::inbound_call(
        r#"{"uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}"#,
        headers,
        "application/json",
        br#"{"objectId":"01JD000000000000000000000A","portalId":62515,"propertyValue":"Enrolled"}"#,
    )
    .expect("valid JSON body")
}

struct Stats {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn print(&self, name: &str) {
        println!(
            "| {name} | {:.0} | {:.1} | {:.1} |",
            self.rate,
            self.p50.as_secs_f64() * 1e6,
            self.p99.as_secs_f64() * 1e6
        );
    }
}

fn measure(calls: usize, mut call: impl FnMut()) -> Stats {
    for _ in 0..calls / 10 {
        call();
    }
    let mut latencies = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let start = Instant::now();
        call();
        latencies.push(start.elapsed());
    }
    let total = started.elapsed();
    latencies.sort();
    Stats {
        rate: calls as f64 / total.as_secs_f64(),
        p50: latencies[calls / 2],
        p99: latencies[calls * 99 / 100],
    }
}
