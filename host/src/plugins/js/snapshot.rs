//! The snapshot behind [`super::build`]: the JavaScript engine,
//! instrumented by Wizer and compiled once per process, runs the script's
//! top level in a build sandbox of its own (fuel and memory capped, the
//! same single import), and its memory and globals then become the plugin
//! module. Failures name the script's line and column.

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use serde::Deserialize;
use wasmtime::{Caller, Config, Engine, Instance, Linker, Module, OptLevel, Store, Trap, Val};
use wasmtime_wizer::{InstanceState, ModuleContext, SnapshotVal, ValType, Wizer};

use super::{BuiltScript, function_name, signature};
use crate::domain::plugin::PluginKind;
use crate::plugins::builtin::JS_ENGINE;
use crate::plugins::error::{EngineStartError, PluginError};
use crate::plugins::runtime::MAX_WASM_STACK_BYTES;

/// The engine's export that evaluates the script before the snapshot.
const INIT_EXPORT: &str = "switchyard_js_init";
/// Fuel for evaluating the script's top level (QuickJS's own start-up is
/// about 2 M of it).
const BUILD_FUEL: u64 = 500_000_000;
/// Memory the build may use: the engine and the script's top-level data.
const BUILD_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// The module `javascript` (already stripped of types) snapshots into.
pub(super) fn snapshot(
    javascript: &str,
    filename: &str,
    kind: Option<PluginKind>,
) -> Result<BuiltScript, PluginError> {
    let builder = builder()?;
    poll_to_completion(builder.snapshot(javascript, filename, kind))
}

/// The engine module, instrumented for snapshots and compiled once per
/// process.
struct Builder {
    engine: Engine,
    module: Module,
    context: ModuleContext<'static>,
    wizer: Wizer,
}

fn builder() -> Result<&'static Builder, PluginError> {
    static BUILDER: OnceLock<Result<Builder, PluginError>> = OnceLock::new();
    BUILDER
        .get_or_init(Builder::new)
        .as_ref()
        .map_err(Clone::clone)
}

/// State of the build's store.
struct BuildState {
    logs: Vec<String>,
    limits: wasmtime::StoreLimits,
}

impl Builder {
    fn new() -> Result<Builder, PluginError> {
        let failed = |step: &'static str, error: wasmtime::Error| {
            PluginError::EngineUnavailable(EngineStartError::JavaScript {
                step,
                reason: format!("{error:#}"),
            })
        };
        let mut wizer = Wizer::new();
        wizer.init_func(INIT_EXPORT);
        let (context, instrumented) = wizer
            .instrument(JS_ENGINE)
            .map_err(|error| failed("instrument", error))?;
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .max_wasm_stack(MAX_WASM_STACK_BYTES)
            // The instrumented engine runs once per build, for a few million
            // instructions: compiling it fast beats running it fast.
            .cranelift_opt_level(OptLevel::None);
        let engine = Engine::new(&config).map_err(|error| failed("start", error))?;
        let module =
            Module::new(&engine, &instrumented).map_err(|error| failed("compile", error))?;
        Ok(Builder {
            engine,
            module,
            context,
            wizer,
        })
    }

    async fn snapshot(
        &self,
        javascript: &str,
        filename: &str,
        kind: Option<PluginKind>,
    ) -> Result<BuiltScript, PluginError> {
        let mut store = Store::new(
            &self.engine,
            BuildState {
                logs: Vec::new(),
                limits: wasmtime::StoreLimitsBuilder::new()
                    .memory_size(BUILD_MEMORY_BYTES)
                    .build(),
            },
        );
        store.limiter(|state| &mut state.limits);
        let _ = store.set_fuel(BUILD_FUEL);
        let mut linker = Linker::new(&self.engine);
        linker
            .func_wrap("switchyard_v1", "log", build_log)
            .map_err(|error| internal(&error))?;
        let instance = linker
            .instantiate(&mut store, &self.module)
            .map_err(|error| internal(&error))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| PluginError::InvalidScript("the engine exports no memory".into()))?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "alloc")
            .map_err(|error| internal(&error))?;
        let init = instance
            .get_typed_func::<(i32, i32), i64>(&mut store, INIT_EXPORT)
            .map_err(|error| internal(&error))?;

        let mut input = Vec::with_capacity(filename.len() + 1 + javascript.len());
        input.extend_from_slice(filename.replace('\0', "").as_bytes());
        input.push(0);
        input.extend_from_slice(javascript.as_bytes());
        let input_len = i32::try_from(input.len())
            .map_err(|_| PluginError::InvalidScript("the script is too large".into()))?;
        let trapped = |error: wasmtime::Error, store: &Store<BuildState>| {
            top_level_failure(error, store.get_fuel().unwrap_or(0) == 0)
        };
        let input_ptr = alloc
            .call(&mut store, input_len)
            .map_err(|error| trapped(error, &store))?;
        memory
            .write(&mut store, input_ptr as u32 as usize, &input)
            .map_err(|_| PluginError::InvalidScript("the engine is out of memory".into()))?;
        let packed = init
            .call(&mut store, (input_ptr, input_len))
            .map_err(|error| trapped(error, &store))? as u64;
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let answer = memory
            .data(&store)
            .get(ptr..ptr.saturating_add(len))
            .ok_or_else(|| {
                PluginError::InvalidScript("the engine answered out of bounds".into())
            })?;
        let found = match serde_json::from_slice::<InitAnswer>(answer) {
            Ok(InitAnswer::Ok(found)) => found,
            Ok(InitAnswer::Err(message)) => {
                return Err(PluginError::InvalidScript(with_position(&message)));
            }
            Err(error) => {
                return Err(PluginError::InvalidScript(format!(
                    "the engine's answer is not understood: {error}"
                )));
            }
        };
        let missing = match kind {
            Some(PluginKind::InboundTransform) => !found.transform,
            Some(PluginKind::PayloadBuilder) => !found.build_payload,
            None => !found.transform && !found.build_payload,
        };
        if missing {
            return Err(PluginError::InvalidScript(match kind {
                Some(kind) => format!(
                    "a {} script must export a function `{}` (`export function {}(...)`)",
                    kind.as_str(),
                    signature(kind),
                    function_name(kind)
                ),
                None => format!(
                    "the script must export a function `{}` or `{}`",
                    signature(PluginKind::InboundTransform),
                    signature(PluginKind::PayloadBuilder)
                ),
            }));
        }

        let module = self
            .wizer
            .snapshot(
                &self.context,
                &mut Snapshotted {
                    store: &mut store,
                    instance,
                },
            )
            .await
            .map_err(|error| internal(&error))?;
        let mut kinds = Vec::new();
        if found.transform {
            kinds.push(PluginKind::InboundTransform);
        }
        if found.build_payload {
            kinds.push(PluginKind::PayloadBuilder);
        }
        Ok(BuiltScript {
            module,
            kinds,
            logs: std::mem::take(&mut store.data_mut().logs),
        })
    }
}

/// What `switchyard_js_init` answers.
#[derive(Deserialize)]
enum InitAnswer {
    #[serde(rename = "ok")]
    Ok(Found),
    #[serde(rename = "err")]
    Err(String),
}

#[derive(Deserialize)]
struct Found {
    transform: bool,
    #[serde(rename = "buildPayload")]
    build_payload: bool,
}

fn internal(error: &wasmtime::Error) -> PluginError {
    PluginError::InvalidScript(format!("the JavaScript engine failed: {error:#}"))
}

/// Names why the script's top level did not finish.
fn top_level_failure(error: wasmtime::Error, out_of_fuel: bool) -> PluginError {
    let reason = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => "ran out of fuel (an endless loop?)".to_owned(),
        Some(Trap::StackOverflow) => "overflowed the stack (endless recursion?)".to_owned(),
        _ if out_of_fuel => "ran out of fuel (an endless loop?)".to_owned(),
        Some(trap) => format!("trapped: {trap}"),
        None => format!("failed: {error:#}"),
    };
    PluginError::InvalidScript(format!("the script's top level {reason}"))
}

/// Adds `line L, column C` to an engine message that ends with QuickJS's
/// `(... FILE:LINE:COLUMN)`, so people need not decode the frame.
fn with_position(message: &str) -> String {
    match position_in(message) {
        Some((line, column)) => format!("{message}: line {line}, column {column}"),
        None => message.to_owned(),
    }
}

/// The last `:LINE:COLUMN` of a message, as QuickJS writes stack frames.
fn position_in(message: &str) -> Option<(u32, u32)> {
    let frame = message.trim_end().strip_suffix(')')?;
    let mut parts = frame.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, column))
}

/// `switchyard_v1.log` during a build: the script's top level may log.
fn build_log(mut caller: Caller<'_, BuildState>, ptr: i32, len: i32) {
    let Some(memory) = caller
        .get_export("memory")
        .and_then(|export| export.into_memory())
    else {
        return;
    };
    let start = ptr as u32 as usize;
    let end = start.saturating_add((len as u32 as usize).min(4096));
    let line = memory
        .data(&caller)
        .get(start..end)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned());
    let logs = &mut caller.data_mut().logs;
    if let Some(line) = line
        && logs.len() < 100
    {
        logs.push(line);
    }
}

/// The instance Wizer reads the globals and memory of.
struct Snapshotted<'a> {
    store: &'a mut Store<BuildState>,
    instance: Instance,
}

impl InstanceState for Snapshotted<'_> {
    async fn global_get(&mut self, name: &str, _type_hint: ValType) -> SnapshotVal {
        let value = self
            .instance
            .get_global(&mut *self.store, name)
            .map(|global| global.get(&mut *self.store));
        match value {
            Some(Val::I32(value)) => SnapshotVal::I32(value),
            Some(Val::I64(value)) => SnapshotVal::I64(value),
            Some(Val::F32(value)) => SnapshotVal::F32(value),
            Some(Val::F64(value)) => SnapshotVal::F64(value),
            Some(Val::V128(value)) => SnapshotVal::V128(value.as_u128()),
            // Wizer asks only for the globals its instrumentation exported,
            // all of value types; the engine module has no others.
            other => panic!("the engine's global `{name}` cannot be snapshotted: {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => contents(&[]),
        }
    }
}

/// Drives a future that never waits on anything outside itself (Wizer's
/// snapshot over an in-process instance) to its end.
fn poll_to_completion<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
    }
}
