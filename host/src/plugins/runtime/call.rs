//! One call: a fresh [`Store`] and instance with the call's fuel, memory
//! cap and deadline; `_initialize`, `alloc`, the input written in, the
//! entry point run, the result read out. And the host API's `log`.

use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::{Caller, ModuleExport, ResourceLimiter, Store, Trap, UpdateDeadline};

use super::outcome::{classify, parse_output, unpack_result};
use super::{CompiledPlugin, PluginRuntime};
use crate::domain::plugin::PluginLimits;
use crate::plugins::error::PluginError;

/// Log lines and bytes kept per call.
const MAX_LOG_LINES: usize = 100;
const MAX_LOG_LINE_BYTES: usize = 4 * 1024;

/// What one call did: the `ok` value or the error, and what it cost.
#[derive(Debug, Clone)]
pub struct PluginCall {
    pub outcome: Result<Value, PluginError>,
    pub fuel_used: u64,
    pub duration: Duration,
    pub logs: Vec<String>,
}

/// State of one call's store.
pub(crate) struct CallState {
    limiter: MemoryLimiter,
    logs: Vec<String>,
}

/// Refuses memory growth past the call's cap and remembers that it did, so
/// the trap that usually follows (a failed allocation) is reported as what
/// it is.
struct MemoryLimiter {
    max_bytes: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

impl PluginRuntime {
    /// Runs the plugin's entry point on `input` (the ABI's JSON document
    /// `{"config": ...}`) in a fresh instance.
    ///
    /// The call runs on the calling task, on a fiber that yields back to the
    /// async runtime at every epoch tick: a short call costs no thread
    /// hand-off, and a long one cannot hold a worker thread. At the first
    /// tick past the time limit the call traps. (Dropping the call's future
    /// also unwinds the plugin safely.)
    pub async fn call(
        &self,
        plugin: &CompiledPlugin,
        input: &[u8],
        limits: &PluginLimits,
    ) -> PluginCall {
        let started = Instant::now();
        let mut store = Store::new(
            &self.engine,
            CallState {
                limiter: MemoryLimiter {
                    max_bytes: limits.memory_bytes as usize,
                    refused: false,
                },
                logs: Vec::new(),
            },
        );
        store.limiter(|state| &mut state.limiter);
        let fuel = limits.fuel;
        let _ = store.set_fuel(fuel);
        // At every epoch tick: past the time limit, trap (reported as `time
        // limit exceeded`); otherwise yield to the async runtime and go on.
        let time_limit = limits.time_limit();
        store.epoch_deadline_callback(move |_| {
            if started.elapsed() >= time_limit {
                Err(Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);

        let outcome = match run(&mut store, plugin, input, limits).await {
            // A runtime that survives its own failed allocation (QuickJS
            // throws `InternalError: out of memory`) answers with an error:
            // name the cause, as for a module that traps.
            Err(PluginError::Plugin(_)) if store.data().limiter.refused => {
                Err(PluginError::MemoryLimitExceeded)
            }
            outcome => outcome,
        };
        let fuel_used = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        PluginCall {
            outcome,
            fuel_used,
            duration: started.elapsed(),
            logs: state.logs,
        }
    }
}

/// Names the error a call ended in, knowing whether memory growth was
/// refused during it.
fn failed(error: wasmtime::Error, store: &Store<CallState>) -> PluginError {
    classify(&error, store.data().limiter.refused)
}

async fn run(
    store: &mut Store<CallState>,
    plugin: &CompiledPlugin,
    input: &[u8],
    limits: &PluginLimits,
) -> Result<Value, PluginError> {
    let instance = plugin
        .instance_pre
        .instantiate_async(&mut *store)
        .await
        .map_err(|error| failed(error, store))?;
    let exports = &plugin.exports;
    let memory = instance
        .get_module_export(&mut *store, &exports.memory)
        .and_then(|export| export.into_memory())
        .ok_or_else(|| PluginError::InvalidModule("no exported memory".into()))?;
    let function = |store: &mut Store<CallState>, export: &ModuleExport, name: &str| {
        instance
            .get_module_export(&mut *store, export)
            .and_then(|export| export.into_func())
            .ok_or_else(|| PluginError::InvalidModule(format!("no exported function `{name}`")))
    };
    if let Some(initialize) = &exports.initialize {
        function(store, initialize, "_initialize")?
            .typed::<(), ()>(&*store)
            .map_err(|error| PluginError::InvalidModule(error.to_string()))?
            .call_async(&mut *store, ())
            .await
            .map_err(|error| failed(error, store))?;
    }
    let alloc = function(store, &exports.alloc, "alloc")?
        .typed::<i32, i32>(&*store)
        .map_err(|error| PluginError::InvalidModule(error.to_string()))?;
    let entry = function(store, &exports.entry, plugin.kind.entry_point())?
        .typed::<(i32, i32), i64>(&*store)
        .map_err(|error| PluginError::InvalidModule(error.to_string()))?;

    let input_len = i32::try_from(input.len()).map_err(|_| {
        PluginError::InvalidOutput("the input is too large for a 32-bit plugin".into())
    })?;
    let input_ptr = alloc
        .call_async(&mut *store, input_len)
        .await
        .map_err(|error| failed(error, store))?;
    memory
        .write(&mut *store, input_ptr as u32 as usize, input)
        .map_err(|_| {
            PluginError::InvalidOutput("alloc returned memory the input does not fit in".into())
        })?;
    let packed = entry
        .call_async(&mut *store, (input_ptr, input_len))
        .await
        .map_err(|error| failed(error, store))?;

    let (output_ptr, output_len) = unpack_result(packed);
    if output_len as u64 > limits.output_bytes {
        return Err(PluginError::OutputTooLarge);
    }
    let output = memory
        .data(&*store)
        .get(output_ptr..output_ptr.saturating_add(output_len))
        .ok_or_else(|| {
            PluginError::InvalidOutput(format!(
                "the result ({output_len} bytes at {output_ptr}) lies outside the plugin's memory"
            ))
        })?;
    parse_output(output)
}

/// `switchyard_v1.log(ptr, len)`: keeps a bounded number of bounded lines.
pub(super) fn host_log(mut caller: Caller<'_, CallState>, ptr: i32, len: i32) {
    let Some(memory) = caller
        .get_export("memory")
        .and_then(|export| export.into_memory())
    else {
        return;
    };
    let start = ptr as u32 as usize;
    let end = start.saturating_add((len as u32 as usize).min(MAX_LOG_LINE_BYTES));
    let line = memory
        .data(&caller)
        .get(start..end)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned());
    let logs = &mut caller.data_mut().logs;
    if let Some(line) = line
        && logs.len() < MAX_LOG_LINES
    {
        logs.push(line);
    }
}
