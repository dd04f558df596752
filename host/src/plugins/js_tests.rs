//! JavaScript and TypeScript plugins in the sandbox: a hostile script
//! (`plugins/hostile/hostile.js`) gets the same named errors as the Wasm
//! attacks, a script is deterministic, and bad scripts are refused at build
//! time with their line and column.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use super::error::PluginError;
use super::js::{self, Language};
use super::runtime::{CompiledPlugin, PluginCall, PluginRuntime};
use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;

const HOSTILE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../plugins/hostile/hostile.js"
));

/// The hostile script, built and compiled once for every test here.
fn hostile() -> &'static (PluginRuntime, Arc<CompiledPlugin>) {
    static HOSTILE_PLUGIN: OnceLock<(PluginRuntime, Arc<CompiledPlugin>)> = OnceLock::new();
    HOSTILE_PLUGIN.get_or_init(|| {
        let built = js::build(
            HOSTILE,
            "hostile.js",
            Language::JavaScript,
            Some(PluginKind::InboundTransform),
        )
        .unwrap_or_else(|error| panic!("the hostile script builds: {error}"));
        let runtime = PluginRuntime::new(None).unwrap();
        let plugin = runtime
            .compile(&built.module, PluginKind::InboundTransform)
            .unwrap();
        (runtime, plugin)
    })
}

async fn attack(attack: &str, limits: PluginLimits) -> PluginCall {
    let (runtime, plugin) = hostile();
    let input = json!({"config": {"attack": attack}, "input": {"headers": {}, "content_type": "application/json", "body": {"id": "lead_1"}}});
    runtime
        .call(plugin, input.to_string().as_bytes(), &limits)
        .await
}

#[tokio::test]
async fn an_honest_call_returns_the_records() {
    let call = attack("none", PluginLimits::DEFAULT).await;
    assert_eq!(
        call.outcome,
        Ok(json!([{"lead_profile_uid": "lead_1", "funnel_stage": "Won"}]))
    );
    // A call runs the user's function only: the engine started at build time.
    assert!(call.fuel_used < 500_000, "{} fuel", call.fuel_used);
}

#[tokio::test]
async fn an_endless_loop_runs_out_of_fuel_or_time() {
    assert_eq!(
        attack("loop", PluginLimits::DEFAULT).await.outcome,
        Err(PluginError::OutOfFuel)
    );
    let limits = PluginLimits {
        fuel: u64::MAX / 2,
        time_limit_ms: 50,
        ..PluginLimits::DEFAULT
    };
    assert_eq!(
        attack("loop", limits).await.outcome,
        Err(PluginError::TimeLimitExceeded)
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    assert_eq!(
        attack("memory", PluginLimits::DEFAULT).await.outcome,
        Err(PluginError::MemoryLimitExceeded)
    );
}

#[tokio::test]
async fn endless_recursion_overflows_the_stack() {
    assert_eq!(
        attack("recursion", PluginLimits::DEFAULT).await.outcome,
        Err(PluginError::StackOverflow)
    );
}

#[tokio::test]
async fn a_huge_result_is_refused() {
    // The result is 200 KB; serialising it costs some 5 M fuel.
    let limits = PluginLimits {
        output_bytes: 100_000,
        ..PluginLimits::DEFAULT
    };
    assert_eq!(
        attack("output", limits).await.outcome,
        Err(PluginError::OutputTooLarge)
    );
}

#[tokio::test]
async fn a_thrown_error_names_its_message_and_where_it_was_thrown() {
    let Err(PluginError::Plugin(message)) = attack("throw", PluginLimits::DEFAULT).await.outcome
    else {
        panic!("a thrown error is a plugin error");
    };
    assert_eq!(
        message,
        "Error: no lead id in the body (at transform (hostile.js:21:17))"
    );
    let Err(PluginError::Plugin(message)) = attack("reject", PluginLimits::DEFAULT).await.outcome
    else {
        panic!("a rejected promise is a plugin error");
    };
    assert!(
        message.starts_with("TypeError: rejected (at transform (hostile.js:"),
        "{message}"
    );
    assert_eq!(
        attack("throw-string", PluginLimits::DEFAULT).await.outcome,
        Err(PluginError::Plugin("uncaught plain text".into()))
    );
}

#[tokio::test]
async fn there_is_no_clock_no_io_and_no_state_between_calls() {
    let first = attack("ambient", PluginLimits::DEFAULT)
        .await
        .outcome
        .unwrap();
    let second = attack("ambient", PluginLimits::DEFAULT)
        .await
        .outcome
        .unwrap();
    assert_eq!(first, second, "two calls see the same world");
    let seen = &first[0];
    assert_eq!(seen["now"], 0);
    assert_eq!(seen["date"], "1970-01-01T00:00:00.000Z");
    assert_ne!(
        seen["random"][0], seen["random"][1],
        "Math.random still varies"
    );
    assert_eq!(seen["calls"], 1, "the module-level counter starts afresh");
    assert_eq!(
        seen["globals"],
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined"
        ])
    );
    // And the sandbox still serves honest calls after every attack.
    assert!(attack("none", PluginLimits::DEFAULT).await.outcome.is_ok());
}

fn build_error(source: &str, language: Language) -> String {
    let filename = match language {
        Language::JavaScript => "bad.js",
        Language::TypeScript => "bad.ts",
    };
    match js::build(
        source,
        filename,
        language,
        Some(PluginKind::InboundTransform),
    ) {
        Ok(_) => panic!("{source:?} was accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_scripts_are_refused_at_build_time_with_the_position() {
    let syntax = build_error(
        "export function transform(config, request) {\n  return [request.body.;\n}\n",
        Language::JavaScript,
    );
    assert!(
        syntax.starts_with("invalid script: SyntaxError: "),
        "{syntax}"
    );
    assert!(syntax.contains("line 2, column"), "{syntax}");
    assert!(syntax.contains("bad.js"), "{syntax}");

    let thrown = build_error(
        "const table = JSON.parse('{');\nexport function transform() { return []; }\n",
        Language::JavaScript,
    );
    assert!(thrown.contains("SyntaxError"), "{thrown}");
    assert!(thrown.contains("line 1, column"), "{thrown}");

    let missing = build_error(
        "export function buildPayload() { return {}; }\n",
        Language::JavaScript,
    );
    assert!(
        missing.contains("must export a function `transform(config, request)`"),
        "{missing}"
    );

    let endless = build_error(
        "for (;;) {}\nexport function transform() { return []; }\n",
        Language::JavaScript,
    );
    assert!(endless.contains("ran out of fuel"), "{endless}");

    let typescript = build_error(
        "export function transform(config: unknown): string[] {\n  return [;\n}\n",
        Language::TypeScript,
    );
    assert!(typescript.contains("line 2, column"), "{typescript}");
    assert!(typescript.contains("bad.ts"), "{typescript}");
}

#[tokio::test]
async fn typescript_runs_with_positions_in_the_ts_file() {
    let source = "interface Request { body: { id?: string } }\n\
        type Update = { lead_profile_uid: string; funnel_stage: string };\n\
        export function transform(config: { stage: string }, request: Request): Update[] {\n\
        \x20 const id = request.body.id as string | undefined;\n\
        \x20 if (!id) throw new Error(`no id`);\n\
        \x20 return [{ lead_profile_uid: id!, funnel_stage: config.stage }];\n\
        }\n";
    let built = js::build(
        source,
        "t.ts",
        Language::TypeScript,
        Some(PluginKind::InboundTransform),
    )
    .unwrap();
    assert_eq!(built.kinds, [PluginKind::InboundTransform]);
    let runtime = PluginRuntime::new(None).unwrap();
    let plugin = runtime
        .compile(&built.module, PluginKind::InboundTransform)
        .unwrap();
    let call = |body: Value| {
        let input = json!({"config": {"stage": "Won"}, "input": {"headers": {}, "content_type": "application/json", "body": body}});
        let (runtime, plugin) = (&runtime, &plugin);
        async move {
            runtime
                .call(plugin, input.to_string().as_bytes(), &PluginLimits::DEFAULT)
                .await
                .outcome
        }
    };
    assert_eq!(
        call(json!({"id": "lead_9"})).await,
        Ok(json!([{"lead_profile_uid": "lead_9", "funnel_stage": "Won"}]))
    );
    assert_eq!(
        call(json!({})).await,
        Err(PluginError::Plugin(
            "Error: no id (at transform (t.ts:5:22))".into()
        ))
    );
}

#[test]
fn the_same_script_builds_the_same_module() {
    let source = "export const transform = (config, request) => [];\n";
    let build = || {
        js::build(source, "same.js", Language::JavaScript, None)
            .unwrap()
            .module
    };
    assert_eq!(
        build(),
        build(),
        "builds are reproducible, so caching them by hash is sound"
    );
}
