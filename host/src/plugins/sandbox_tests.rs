//! The sandbox against hostile modules (sources in `plugins/hostile/`) and
//! the built-in plugins: every attack ends in its named error, and nothing
//! survives from one call to the next.

use std::time::Duration;

use serde_json::json;

use super::builtin::builtin;
use super::error::PluginError;
use super::runtime::{CompiledPlugin, PluginRuntime};
use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;

macro_rules! hostile {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../plugins/hostile/",
            $name,
            ".wat"
        ))
    };
}

fn compile(
    runtime: &PluginRuntime,
    wat: &str,
) -> Result<std::sync::Arc<CompiledPlugin>, PluginError> {
    let wasm = wat::parse_str(wat).expect("the test module's source is valid WAT");
    runtime.compile(&wasm, PluginKind::InboundTransform)
}

async fn call(
    runtime: &PluginRuntime,
    wat: &str,
    limits: PluginLimits,
) -> Result<serde_json::Value, PluginError> {
    let plugin = compile(runtime, wat).expect("compiles");
    let input = json!({"config": {}, "input": {"headers": {}, "content_type": "application/json", "body": {}}});
    runtime
        .call(&plugin, input.to_string().as_bytes(), &limits)
        .await
        .outcome
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let runtime = PluginRuntime::new(None).unwrap();
    assert_eq!(
        call(&runtime, hostile!("infinite_loop"), PluginLimits::DEFAULT).await,
        Err(PluginError::OutOfFuel)
    );
}

#[tokio::test]
async fn an_infinite_loop_with_fuel_to_spare_hits_the_time_limit() {
    let runtime = PluginRuntime::new(None).unwrap();
    let limits = PluginLimits {
        fuel: u64::MAX / 2,
        time_limit_ms: 50,
        ..PluginLimits::DEFAULT
    };
    let plugin = compile(&runtime, hostile!("infinite_loop")).unwrap();
    let result = runtime.call(&plugin, b"{}", &limits).await;
    assert_eq!(result.outcome, Err(PluginError::TimeLimitExceeded));
    assert!(
        result.duration >= Duration::from_millis(50),
        "{:?}",
        result.duration
    );
    assert!(
        result.duration < Duration::from_secs(2),
        "{:?}",
        result.duration
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let runtime = PluginRuntime::new(None).unwrap();
    assert_eq!(
        call(&runtime, hostile!("memory_bomb"), PluginLimits::DEFAULT).await,
        Err(PluginError::MemoryLimitExceeded)
    );
}

#[tokio::test]
async fn deep_recursion_overflows_the_stack() {
    let runtime = PluginRuntime::new(None).unwrap();
    assert_eq!(
        call(&runtime, hostile!("deep_recursion"), PluginLimits::DEFAULT).await,
        Err(PluginError::StackOverflow)
    );
}

#[tokio::test]
async fn a_huge_output_is_refused_before_it_is_read() {
    let runtime = PluginRuntime::new(None).unwrap();
    assert_eq!(
        call(&runtime, hostile!("huge_output"), PluginLimits::DEFAULT).await,
        Err(PluginError::OutputTooLarge)
    );
}

#[tokio::test]
async fn an_output_outside_memory_is_invalid() {
    let runtime = PluginRuntime::new(None).unwrap();
    let error = call(&runtime, hostile!("out_of_bounds"), PluginLimits::DEFAULT)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PluginError::InvalidOutput(message) if message.contains("outside the plugin's memory")),
        "{error}"
    );
}

#[tokio::test]
async fn an_output_that_is_not_json_is_invalid() {
    let runtime = PluginRuntime::new(None).unwrap();
    let error = call(&runtime, hostile!("not_json"), PluginLimits::DEFAULT)
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("invalid output: not JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn a_trap_is_named() {
    let runtime = PluginRuntime::new(None).unwrap();
    let error = call(&runtime, hostile!("trap"), PluginLimits::DEFAULT)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PluginError::Trap(message) if message.contains("unreachable")),
        "{error}"
    );
}

#[tokio::test]
async fn wasi_and_unknown_imports_are_refused_at_upload() {
    let runtime = PluginRuntime::new(None).unwrap();
    for (source, import) in [
        (hostile!("wasi_import"), "wasi_snapshot_preview1.fd_write"),
        (hostile!("unknown_import"), "env.steal"),
    ] {
        let error = compile(&runtime, source).unwrap_err();
        assert!(
            matches!(&error, PluginError::InvalidModule(message) if message.contains(import)),
            "{error}"
        );
    }
}

#[tokio::test]
async fn modules_without_the_abi_are_refused_with_the_reason() {
    let runtime = PluginRuntime::new(None).unwrap();
    let transform = wat::parse_str(hostile!("trap")).unwrap();
    let error = runtime
        .compile(&transform, PluginKind::PayloadBuilder)
        .unwrap_err();
    assert_eq!(
        error,
        PluginError::InvalidModule(
            "a payload-builder plugin must export `build_payload(i32, i32) -> i64`".into()
        )
    );
    let no_memory =
        wat::parse_str("(module (func (export \"alloc\") (param i32) (result i32) (i32.const 0)))")
            .unwrap();
    let error = runtime
        .compile(&no_memory, PluginKind::InboundTransform)
        .unwrap_err();
    assert!(error.to_string().contains("`memory`"), "{error}");
    assert!(
        runtime
            .compile(b"(module)", PluginKind::InboundTransform)
            .unwrap_err()
            .to_string()
            .contains("not a WebAssembly binary")
    );
    assert!(
        runtime
            .compile(b"\0asm\x01\0\0\0garbage", PluginKind::InboundTransform)
            .unwrap_err()
            .to_string()
            .contains("not valid WebAssembly")
    );
}

#[tokio::test]
async fn no_state_survives_between_calls() {
    let runtime = PluginRuntime::new(None).unwrap();
    for _ in 0..5 {
        assert_eq!(
            call(&runtime, hostile!("call_counter"), PluginLimits::DEFAULT).await,
            Ok(json!([]))
        );
    }
}

#[tokio::test]
async fn a_plugins_own_error_is_passed_on() {
    let runtime = PluginRuntime::new(None).unwrap();
    assert_eq!(
        call(&runtime, hostile!("plugin_error"), PluginLimits::DEFAULT).await,
        Err(PluginError::Plugin("no lead id in the body".into()))
    );
}

#[tokio::test]
async fn log_lines_are_captured_and_fuel_is_counted() {
    let runtime = PluginRuntime::new(None).unwrap();
    let plugin = compile(&runtime, hostile!("logger")).unwrap();
    let result = runtime.call(&plugin, b"{}", &PluginLimits::DEFAULT).await;
    assert_eq!(result.outcome, Ok(json!([])));
    assert_eq!(result.logs, vec!["hello from the sandbox".to_owned()]);
    assert!(
        result.fuel_used > 0 && result.fuel_used < 100,
        "{}",
        result.fuel_used
    );
}

#[tokio::test]
async fn the_sandbox_still_works_after_every_attack() {
    let runtime = PluginRuntime::new(None).unwrap();
    for source in [
        hostile!("infinite_loop"),
        hostile!("memory_bomb"),
        hostile!("deep_recursion"),
        hostile!("trap"),
    ] {
        assert!(call(&runtime, source, PluginLimits::DEFAULT).await.is_err());
        assert_eq!(
            call(&runtime, hostile!("call_counter"), PluginLimits::DEFAULT).await,
            Ok(json!([]))
        );
    }
}

#[tokio::test]
async fn the_json_mapper_builtin_maps_hubspot_style_events() {
    let runtime = PluginRuntime::new(None).unwrap();
    let module = builtin("json-mapper")
        .expect("json-mapper is built in")
        .module;
    let plugin = runtime
        .compile(module, PluginKind::InboundTransform)
        .unwrap();
    let input = json!({
        "config": {"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"},
        "input": {
            "headers": {"user-agent": "HubSpot Webhooks"},
            "content_type": "application/json",
            "body": [
                {"objectId": "lead_1", "propertyName": "lifecyclestage", "propertyValue": "lead"},
                {"objectId": "lead_2", "propertyName": "lifecyclestage", "propertyValue": "customer"}
            ]
        }
    });
    let result = runtime
        .call(
            &plugin,
            input.to_string().as_bytes(),
            &PluginLimits::DEFAULT,
        )
        .await;
    assert_eq!(
        result.outcome,
        Ok(json!([
            {"lead_profile_uid": "lead_1", "funnel_stage": "lead"},
            {"lead_profile_uid": "lead_2", "funnel_stage": "customer"}
        ]))
    );

    let bad_config = json!({"config": {"uid": "/x"}, "input": {"body": {}}});
    let result = runtime
        .call(
            &plugin,
            bad_config.to_string().as_bytes(),
            &PluginLimits::DEFAULT,
        )
        .await;
    assert!(
        matches!(&result.outcome, Err(PluginError::Plugin(message)) if message.starts_with("could not read the input")),
        "{:?}",
        result.outcome
    );
}

#[tokio::test]
async fn compiling_the_same_module_twice_reuses_it() {
    let runtime = PluginRuntime::new(None).unwrap();
    let module = builtin("json-mapper").unwrap().module;
    let first = runtime
        .compile(module, PluginKind::InboundTransform)
        .unwrap();
    let second = runtime
        .compile(module, PluginKind::InboundTransform)
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert_eq!(first.sha256.len(), 64);
}

#[tokio::test]
async fn compiled_modules_are_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let module = builtin("json-mapper").unwrap().module;
    let first = PluginRuntime::new(Some(dir.path().to_path_buf())).unwrap();
    first.compile(module, PluginKind::InboundTransform).unwrap();
    assert_eq!(
        first
            .compiled_from_wasm
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    drop(first);

    let restarted = PluginRuntime::new(Some(dir.path().to_path_buf())).unwrap();
    let plugin = restarted
        .compile(module, PluginKind::InboundTransform)
        .unwrap();
    assert_eq!(
        restarted
            .compiled_from_wasm
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(
        restarted
            .loaded_from_artifacts
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let input = json!({"config": {"uid_pointer": "/id", "stage_pointer": "/stage"}, "input": {"body": {"id": "lead_1", "stage": "Enrolled"}}});
    let call = restarted
        .call(
            &plugin,
            input.to_string().as_bytes(),
            &PluginLimits::DEFAULT,
        )
        .await;
    assert_eq!(
        call.outcome,
        Ok(json!([{"lead_profile_uid": "lead_1", "funnel_stage": "Enrolled"}]))
    );

    drop((plugin, restarted));
    // A damaged artifact is ignored and the module compiled again.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = PluginRuntime::new(Some(dir.path().to_path_buf())).unwrap();
    third.compile(module, PluginKind::InboundTransform).unwrap();
    assert_eq!(
        third
            .compiled_from_wasm
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// Hundreds of first calls of a module not compiled yet (a start with an
/// empty artifact directory, then a burst of deliveries) compile it once,
/// not once each: each compilation takes a core for a good part of a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_calls_compile_a_module_once() {
    use std::sync::Arc;

    use super::registry::PluginRegistry;
    use crate::config::ServeConfig;
    use crate::storage::Database;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let db = Database::connect(&ServeConfig::for_database(url).database)
        .await
        .unwrap();
    let runtime = Arc::new(PluginRuntime::new(None).unwrap());
    let registry = PluginRegistry::new(Arc::clone(&runtime), db);
    let resolves = (0..32).map(|_| {
        let registry = registry.clone();
        tokio::spawn(async move {
            registry
                .resolve("acc_any", "builtin:small", PluginKind::PayloadBuilder)
                .await
                .map(|plugin| plugin.compiled)
        })
    });
    let resolved: Vec<_> = futures::future::join_all(resolves).await;
    let first = resolved[0].as_ref().unwrap().as_ref().unwrap();
    for plugin in &resolved {
        assert!(Arc::ptr_eq(
            first,
            plugin.as_ref().unwrap().as_ref().unwrap()
        ));
    }
    assert_eq!(
        runtime
            .compiled_from_wasm
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// A module whose `transform` answers `ok` only if `_initialize` ran first
/// (as C++ constructors, TinyGo and Go need).
const NEEDS_INITIALIZE: &str = r#"(module
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (data (i32.const 16) "{\"ok\":[]}{\"err\":\"not initialised\"}")
  (func (export "_initialize") (global.set $ready (i32.const 1)))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (if (result i64) (global.get $ready)
      (then (i64.const 0x10_0000_0009))
      (else (i64.const 0x19_0000_001b)))))"#;

#[tokio::test]
async fn initialize_runs_before_every_call_and_within_the_limits() {
    let runtime = PluginRuntime::new(None).unwrap();
    for _ in 0..2 {
        assert_eq!(
            call(&runtime, NEEDS_INITIALIZE, PluginLimits::DEFAULT).await,
            Ok(json!([]))
        );
    }
    let endless = NEEDS_INITIALIZE.replace(
        "(global.set $ready (i32.const 1))",
        "(loop $forever (br $forever))",
    );
    assert_eq!(
        call(&runtime, &endless, PluginLimits::DEFAULT).await,
        Err(PluginError::OutOfFuel)
    );
    let wrong = NEEDS_INITIALIZE.replace(
        r#"(func (export "_initialize") (global.set $ready (i32.const 1)))"#,
        r#"(func (export "_initialize") (param i32))"#,
    );
    assert!(matches!(
        compile(&runtime, &wrong),
        Err(PluginError::InvalidModule(reason)) if reason.contains("`_initialize`")
    ));
}
