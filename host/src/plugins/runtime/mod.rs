//! The sandbox: one wasmtime engine with fuel metering, epoch interruption
//! and the pooling allocator; modules validated and compiled once and
//! pre-linked as an [`InstancePre`]; every call in a fresh store and
//! instance with its own fuel, memory cap and deadline.
//!
//! Calls are async: they run on the caller's task, on a fiber that yields to
//! the tokio runtime at every epoch tick, so no thread hand-off is paid and
//! no plugin can hold a worker thread. Compiling is synchronous CPU work;
//! async callers run it on a blocking thread.
//!
//! - [`engine`]: the engine's configuration, the host API and the epoch
//!   ticker.
//! - [`validate`]: the imports and exports ABI v1 allows and requires.
//! - [`artifacts`]: compiled modules kept on disk across restarts.
//! - [`call`]: one call in a fresh instance, and the host's `log`.
//! - [`outcome`]: what a call's end means (result document, named traps).

mod artifacts;
mod call;
mod engine;
mod outcome;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::{Engine, InstancePre, Linker, Module};

use self::artifacts::ArtifactStore;
use self::call::CallState;
use self::validate::AbiExports;
use super::error::{EngineStartError, PluginError};
use crate::domain::plugin::PluginKind;
use crate::domain::secrets::sha256_hex;

pub use self::call::PluginCall;
pub(crate) use self::engine::MAX_WASM_STACK_BYTES;
/// For the fuzz target of the result document.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use self::outcome::parse_output;

/// Largest module accepted, in bytes: bounds the work of validating and
/// compiling untrusted code.
pub(crate) const MAX_MODULE_BYTES: usize = 8 * 1024 * 1024;

/// A validated, compiled, pre-linked module.
pub struct CompiledPlugin {
    pub sha256: String,
    pub kind: PluginKind,
    instance_pre: InstancePre<CallState>,
    exports: AbiExports,
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("sha256", &self.sha256)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The plugin engine of a process.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    compiled: Mutex<HashMap<(String, PluginKind), Arc<CompiledPlugin>>>,
    ticker_stop: Arc<AtomicBool>,
    /// Where compiled artifacts are kept across restarts, if anywhere.
    artifacts: ArtifactStore,
    /// Modules compiled from Wasm and loaded from `artifacts`, counted.
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
    pub fn new(artifact_dir: Option<PathBuf>) -> Result<Self, EngineStartError> {
        let engine = engine::engine()?;
        let linker = engine::linker(&engine)?;
        let ticker_stop = engine::start_epoch_ticker(&engine)?;
        Ok(Self {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
            ticker_stop,
            artifacts: ArtifactStore::open(artifact_dir),
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
        let module = match self.artifacts.load(&self.engine, &sha256) {
            Some(module) => {
                self.loaded_from_artifacts.fetch_add(1, Ordering::Relaxed);
                module
            }
            None => {
                let module = Module::new(&self.engine, wasm).map_err(|error| {
                    PluginError::InvalidModule(format!("not valid WebAssembly: {error}"))
                })?;
                self.compiled_from_wasm.fetch_add(1, Ordering::Relaxed);
                self.artifacts.store(&self.engine, &sha256, &module);
                module
            }
        };
        validate::check_imports(&module)?;
        let exports = validate::check_exports(&module, kind)?;
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
    pub(crate) fn compiled(&self, sha256: &str, kind: PluginKind) -> Option<Arc<CompiledPlugin>> {
        self.cache().get(&(sha256.to_owned(), kind)).cloned()
    }

    fn cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, PluginKind), Arc<CompiledPlugin>>> {
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
