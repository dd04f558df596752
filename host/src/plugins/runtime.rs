//! The sandbox: one wasmtime [`Engine`] with fuel metering, epoch
//! interruption and the pooling allocator; modules validated and compiled
//! once and pre-linked as an [`InstancePre`]; every call in a fresh
//! [`Store`] and instance with its own fuel, memory cap and deadline.
//!
//! Calls are async: they run on the caller's task, on a fiber that yields to
//! the tokio runtime at every epoch tick, so no thread hand-off is paid and
//! no plugin can hold a worker thread. Compiling is synchronous CPU work;
//! async callers run it on a blocking thread.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use wasmtime::{
    Caller, Config, Enabled, Engine, ExternType, InstanceAllocationStrategy, InstancePre, Linker,
    Module, ModuleExport, PoolConcurrencyLimitError, PoolingAllocationConfig, ResourceLimiter,
    Store, Trap, UpdateDeadline, ValType,
};

use super::error::PluginError;
use crate::domain::plugin::{PluginKind, PluginLimits};
use crate::domain::secrets::sha256_hex;

/// Native stack Wasm code may use, for every call.
pub const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

/// Largest module accepted, in bytes: bounds the work of validating and
/// compiling untrusted code.
pub const MAX_MODULE_BYTES: usize = 8 * 1024 * 1024;
/// How often the epoch advances: a running plugin yields to the async
/// runtime at every tick.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Sandbox slots: calls running at the same moment.
const POOL_SLOTS: u32 = 256;
/// Memory kept mapped between calls in a pool slot (see `new`) when only
/// the pages a call dirtied are reset (wasmtime finds the PAGEMAP_SCAN
/// ioctl: Linux 6.7 and later): the 1 MiB initial memory of plugins
/// built from `plugins/`. At most this much per slot in use stays resident
/// (256 MiB if every slot were ever used at once).
const KEEP_RESIDENT_BYTES: usize = 1024 * 1024;
/// The same where every kept page is reset after every call (no
/// PAGEMAP_SCAN): what a typical call touches, measured before dirty-page
/// reset existed.
const KEEP_RESIDENT_BYTES_WITHOUT_PAGEMAP: usize = 256 * 1024;
/// Log lines and bytes kept per call.
const MAX_LOG_LINES: usize = 100;
const MAX_LOG_LINE_BYTES: usize = 4 * 1024;

/// A validated, compiled, pre-linked module.
pub struct CompiledPlugin {
    pub sha256: String,
    pub kind: PluginKind,
    instance_pre: InstancePre<CallState>,
    exports: AbiExports,
}

/// The ABI's exports, found once at compile time (by `check_exports`):
/// looking them up by index spares every call three lookups by name.
struct AbiExports {
    memory: ModuleExport,
    alloc: ModuleExport,
    entry: ModuleExport,
    /// `_initialize() -> ()`, which toolchains export to run constructors
    /// (C++, TinyGo, Go): called once per instance, before `alloc`.
    initialize: Option<ModuleExport>,
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("sha256", &self.sha256)
            .field("kind", &self.kind)
            .finish()
    }
}

/// What one call did: the `ok` value or the error, and what it cost.
#[derive(Debug, Clone)]
pub struct PluginCall {
    pub outcome: Result<Value, PluginError>,
    pub fuel_used: u64,
    pub duration: Duration,
    pub logs: Vec<String>,
}

/// State of one call's store.
struct CallState {
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

/// The plugin engine of a process.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    compiled: Mutex<HashMap<(String, PluginKind), Arc<CompiledPlugin>>>,
    ticker_stop: Arc<AtomicBool>,
    /// Where compiled artifacts are kept across restarts, if anywhere.
    artifact_dir: Option<PathBuf>,
    /// Modules compiled from Wasm and loaded from `artifact_dir`, counted.
    pub compiled_from_wasm: AtomicU64,
    pub loaded_from_artifacts: AtomicU64,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime").finish_non_exhaustive()
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl PluginRuntime {
    /// Builds the engine and starts the epoch ticker thread. Compiled
    /// modules are kept in `artifact_dir` (created if missing), so a restart
    /// does not compile every plugin again.
    pub fn new(artifact_dir: Option<PathBuf>) -> Result<Self, PluginError> {
        let max_memory = PluginLimits::ACCOUNT_MAXIMUM.memory_bytes as usize;
        let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
            KEEP_RESIDENT_BYTES
        } else {
            KEEP_RESIDENT_BYTES_WITHOUT_PAGEMAP
        };
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(POOL_SLOTS)
            .total_memories(POOL_SLOTS)
            .total_tables(POOL_SLOTS)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(max_memory)
            .total_stacks(POOL_SLOTS)
            // When a slot is reused, reset the pages of its memory with
            // memset/memcpy instead of handing them back to the kernel
            // (`madvise`): each would be a page fault on the next call. With
            // PAGEMAP_SCAN (Linux 6.7+) only the pages the call dirtied are
            // reset, a few of a small call's 16; without it, the whole kept
            // region is. Measured in BENCHMARKS.md ("Plugin calls").
            .linear_memory_keep_resident(keep_resident)
            .table_keep_resident(keep_resident)
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK_BYTES)
            // The default reservation (4 GiB plus guard pages per memory, on
            // 64-bit hosts) lets compiled code skip bounds checks; it is
            // address space only, and the pool caps each memory's real size.
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|error| {
            PluginError::InvalidModule(format!("cannot start the plugin engine: {error}"))
        })?;

        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("switchyard_v1", "log", host_log)
            .map_err(|error| {
                PluginError::InvalidModule(format!("cannot link the host API: {error}"))
            })?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticking_engine = engine.clone();
        let stop = Arc::clone(&ticker_stop);
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticking_engine.increment_epoch();
                }
            })
            .map_err(|error| {
                PluginError::InvalidModule(format!("cannot start the epoch ticker: {error}"))
            })?;

        if let Some(dir) = &artifact_dir
            && let Err(error) = std::fs::create_dir_all(dir)
        {
            tracing::warn!(%error, dir = %dir.display(), "cannot create the plugin artifact directory; plugins will be compiled on each start");
        }
        Ok(Self {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
            ticker_stop,
            artifact_dir,
            compiled_from_wasm: AtomicU64::new(0),
            loaded_from_artifacts: AtomicU64::new(0),
        })
    }

    /// Validates and compiles a module for `kind`, or returns the one
    /// already compiled from the same bytes.
    pub fn compile(
        &self,
        wasm: &[u8],
        kind: PluginKind,
    ) -> Result<Arc<CompiledPlugin>, PluginError> {
        if wasm.len() > MAX_MODULE_BYTES {
            return Err(PluginError::InvalidModule(format!(
                "the module is {} bytes; the limit is {MAX_MODULE_BYTES}",
                wasm.len()
            )));
        }
        if !wasm.starts_with(b"\0asm") {
            return Err(PluginError::InvalidModule(
                "not a WebAssembly binary (it must start with \\0asm; compile text format with wat2wasm)".into(),
            ));
        }
        let sha256 = sha256_hex(wasm);
        let key = (sha256.clone(), kind);
        if let Some(compiled) = self.cache().get(&key) {
            return Ok(Arc::clone(compiled));
        }
        let module = match self.load_artifact(&sha256) {
            Some(module) => module,
            None => {
                let module = Module::new(&self.engine, wasm).map_err(|error| {
                    PluginError::InvalidModule(format!("not valid WebAssembly: {error}"))
                })?;
                self.compiled_from_wasm.fetch_add(1, Ordering::Relaxed);
                self.store_artifact(&sha256, &module);
                module
            }
        };
        check_imports(&module)?;
        let exports = check_exports(&module, kind)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|error| PluginError::InvalidModule(format!("cannot link: {error}")))?;
        let compiled = Arc::new(CompiledPlugin {
            sha256,
            kind,
            instance_pre,
            exports,
        });
        self.cache().insert(key, Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The module compiled from the bytes with this hash, if this process
    /// has compiled it.
    pub fn compiled(&self, sha256: &str, kind: PluginKind) -> Option<Arc<CompiledPlugin>> {
        self.cache().get(&(sha256.to_owned(), kind)).cloned()
    }

    /// The artifact file of a module: its hash and the engine's
    /// compatibility hash, so an upgraded engine never loads stale code.
    fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.artifact_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        Some(dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish())))
    }

    fn load_artifact(&self, sha256: &str) -> Option<Module> {
        let path = self.artifact_path(sha256)?;
        // Read into memory rather than map the file: a mapped file truncated
        // by someone else would crash the process (SIGBUS).
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: artifacts are written only by `store_artifact`, with
        // `Module::serialize` of an engine with the same compatibility hash
        // (part of the file name), into the server's own artifact directory,
        // which must not be writable by anyone else. wasmtime also checks the
        // artifact's header against this engine and refuses a mismatch.
        match unsafe { Module::deserialize(&self.engine, &bytes) } {
            Ok(module) => {
                self.loaded_from_artifacts.fetch_add(1, Ordering::Relaxed);
                Some(module)
            }
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "ignoring an unusable plugin artifact");
                None
            }
        }
    }

    fn store_artifact(&self, sha256: &str, module: &Module) {
        let Some(path) = self.artifact_path(sha256) else {
            return;
        };
        let written = module
            .serialize()
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                // Write then rename, so a reader never sees half a file.
                let partial = path.with_extension(format!("partial-{}", std::process::id()));
                std::fs::write(&partial, bytes)
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "cannot store a plugin artifact");
        }
    }

    fn cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, PluginKind), Arc<CompiledPlugin>>> {
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }

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
        .map_err(|error| classify(error, store))?;
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
            .map_err(|error| classify(error, store))?;
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
        .map_err(|error| classify(error, store))?;
    memory
        .write(&mut *store, input_ptr as u32 as usize, input)
        .map_err(|_| {
            PluginError::InvalidOutput("alloc returned memory the input does not fit in".into())
        })?;
    let packed = entry
        .call_async(&mut *store, (input_ptr, input_len))
        .await
        .map_err(|error| classify(error, store))?;

    let packed = packed as u64;
    let (output_ptr, output_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
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

/// The ABI's result document.
#[derive(Deserialize)]
enum Outcome {
    #[serde(rename = "ok")]
    Ok(Value),
    #[serde(rename = "err")]
    Err(String),
}

pub(crate) fn parse_output(output: &[u8]) -> Result<Value, PluginError> {
    match serde_json::from_slice::<Outcome>(output) {
        Ok(Outcome::Ok(value)) => Ok(value),
        Ok(Outcome::Err(message)) => Err(PluginError::Plugin(message)),
        Err(error) if serde_json::from_slice::<Value>(output).is_ok() => {
            Err(PluginError::InvalidOutput(format!(
                "expected {{\"ok\": ...}} or {{\"err\": \"...\"}}: {error}"
            )))
        }
        Err(error) => Err(PluginError::InvalidOutput(format!("not JSON: {error}"))),
    }
}

/// Names the error a call ended in.
fn classify(error: wasmtime::Error, store: &Store<CallState>) -> PluginError {
    if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
        return PluginError::Busy("every plugin sandbox is in use; retry shortly".into());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel,
        Some(Trap::Interrupt) => PluginError::TimeLimitExceeded,
        Some(Trap::StackOverflow) => PluginError::StackOverflow,
        // A refused memory.grow usually ends in a trap (an allocation
        // failure): report the cause rather than the symptom.
        _ if store.data().limiter.refused => PluginError::MemoryLimitExceeded,
        Some(trap) => PluginError::Trap(
            trap.to_string()
                .trim_start_matches("wasm trap: ")
                .to_owned(),
        ),
        None => PluginError::Trap(error.to_string()),
    }
}

/// `switchyard_v1.log(ptr, len)`: keeps a bounded number of bounded lines.
fn host_log(mut caller: Caller<'_, CallState>, ptr: i32, len: i32) {
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

/// Refuses every import but `switchyard_v1.log(i32, i32)`.
fn check_imports(module: &Module) -> Result<(), PluginError> {
    for import in module.imports() {
        let allowed = import.module() == "switchyard_v1"
            && import.name() == "log"
            && matches!(import.ty(), ExternType::Func(ref func)
                if func.params().map(|p| p.is_i32()).eq([true, true]) && func.results().len() == 0);
        if !allowed {
            return Err(PluginError::InvalidModule(format!(
                "it imports `{}.{}`, but plugins may import only `switchyard_v1.log(i32, i32)`: \
                 no WASI, clock, randomness, files or network",
                import.module(),
                import.name()
            )));
        }
    }
    Ok(())
}

/// Requires `memory`, `alloc(i32) -> i32` and the kind's entry point
/// `(i32, i32) -> i64`, and returns where they are.
fn check_exports(module: &Module, kind: PluginKind) -> Result<AbiExports, PluginError> {
    let export = |name: &str| {
        module
            .exports()
            .find(|export| export.name() == name)
            .map(|e| e.ty())
    };
    if !matches!(export("memory"), Some(ExternType::Memory(_))) {
        return Err(PluginError::InvalidModule(
            "it does not export `memory`".into(),
        ));
    }
    let has_func = |name: &str, params: &[ValType], results: &[ValType]| match export(name) {
        Some(ExternType::Func(func)) => {
            func.params()
                .map(|p| p.to_string())
                .eq(params.iter().map(|p| p.to_string()))
                && func
                    .results()
                    .map(|r| r.to_string())
                    .eq(results.iter().map(|r| r.to_string()))
        }
        _ => false,
    };
    if !has_func("alloc", &[ValType::I32], &[ValType::I32]) {
        return Err(PluginError::InvalidModule(
            "it does not export `alloc(i32) -> i32`".into(),
        ));
    }
    let entry = kind.entry_point();
    if !has_func(entry, &[ValType::I32, ValType::I32], &[ValType::I64]) {
        return Err(PluginError::InvalidModule(format!(
            "a {} plugin must export `{entry}(i32, i32) -> i64`",
            kind.as_str()
        )));
    }
    let initialize = match export("_initialize") {
        None => None,
        Some(ExternType::Func(_)) if has_func("_initialize", &[], &[]) => {
            module.get_export_index("_initialize")
        }
        Some(_) => {
            return Err(PluginError::InvalidModule(
                "it exports `_initialize`, which must be a function taking and returning nothing"
                    .into(),
            ));
        }
    };
    let index = |name: &str| {
        module
            .get_export_index(name)
            .ok_or_else(|| PluginError::InvalidModule(format!("it does not export `{name}`")))
    };
    Ok(AbiExports {
        memory: index("memory")?,
        alloc: index("alloc")?,
        entry: index(entry)?,
        initialize,
    })
}
