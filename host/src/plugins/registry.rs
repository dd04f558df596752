//! Plugins as the server sees them: built-ins by `builtin:NAME`, uploads by
//! id, each resolved to a compiled module and its limits. Compiling runs on
//! a blocking thread; calls run as async calls that yield at every epoch tick.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::builtin::builtin;
use super::error::PluginError;
use super::js::{self, Language};
use super::runtime::{CompiledPlugin, PluginCall, PluginRuntime};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;
use crate::metrics;
use crate::storage::plugin_sources::{self, NewBuild};
use crate::storage::plugins::{self, NewPlugin, PluginRecord};
use crate::storage::{Database, StoreError};

/// Why a plugin could not be resolved or stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The blocking thread that compiled or built the plugin panicked or
    /// was cancelled: a fault of the server, not of the plugin.
    #[error("the plugin {task} thread failed: {reason}")]
    ThreadFailed { task: &'static str, reason: String },
    #[error("Plugin {id} is a {actual} plugin; a {wanted} plugin is needed here")]
    WrongKind {
        id: String,
        actual: &'static str,
        wanted: &'static str,
    },
}

/// A plugin ready to call.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedPlugin {
    pub compiled: Arc<CompiledPlugin>,
    pub limits: PluginLimits,
    /// The id it was resolved by (`builtin:NAME` or `pl_...`), for metrics.
    pub id: Arc<str>,
}

/// The server's plugins. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct PluginRegistry {
    runtime: Arc<PluginRuntime>,
    db: Database,
    /// Built-ins compiled so far, by name: spares hashing their bytes on
    /// every call.
    builtins: Arc<Mutex<HashMap<&'static str, Arc<CompiledPlugin>>>>,
    /// Held while compiling: one module compiles at a time, so the first
    /// calls of a module not compiled yet (say 256 deliveries at once after
    /// a start with an empty artifact directory) wait for one compilation
    /// instead of each starting its own, and uploads cannot pile up
    /// compilations of untrusted code.
    compiling: Arc<tokio::sync::Mutex<()>>,
}

impl PluginRegistry {
    pub(crate) fn new(runtime: Arc<PluginRuntime>, db: Database) -> Self {
        Self {
            runtime,
            db,
            builtins: Arc::default(),
            compiling: Arc::default(),
        }
    }

    /// Validates, compiles and stores an uploaded module.
    pub(crate) async fn upload(
        &self,
        account_id: &str,
        name: &str,
        kind: PluginKind,
        module: Vec<u8>,
        limits: PluginLimits,
    ) -> Result<PluginRecord, RegistryError> {
        let runtime = Arc::clone(&self.runtime);
        let compiling = self.compiling.lock().await;
        let (compiled, module) = tokio::task::spawn_blocking(move || {
            let compiled = runtime.compile(&module, kind);
            (compiled, module)
        })
        .await
        .map_err(thread_failed("compiler"))?;
        drop(compiling);
        let compiled = compiled?;
        let record = plugins::create(
            &self.db,
            account_id,
            NewPlugin {
                name,
                kind,
                sha256: &compiled.sha256,
                module: &module,
                limits: limits.clamped_to(PluginLimits::ACCOUNT_MAXIMUM),
            },
        )
        .await?;
        Ok(record)
    }

    /// Builds a JavaScript or TypeScript plugin into a module (or reuses
    /// the module built from the same script before), keeps the source
    /// beside it, then validates, compiles and stores the plugin like an
    /// uploaded module.
    pub(crate) async fn upload_script(
        &self,
        account_id: &str,
        name: &str,
        kind: PluginKind,
        script: Script,
        limits: PluginLimits,
    ) -> Result<PluginRecord, RegistryError> {
        let module = self.build_script(kind, &script).await?;
        self.upload(account_id, name, kind, module, limits).await
    }

    /// Rebuilds a plugin from a changed script (the admin UI's source
    /// editor): the same build and checks as [`Self::upload_script`], then
    /// the plugin keeps its id, name, kind and limits and runs the new
    /// module from its next call on. A script that does not build leaves
    /// the plugin as it was.
    pub(crate) async fn replace_script(
        &self,
        account_id: &str,
        plugin_id: &str,
        script: Script,
    ) -> Result<PluginRecord, RegistryError> {
        let record = plugins::get(&self.db, account_id, plugin_id).await?;
        let module = self.build_script(record.kind, &script).await?;
        let compiling = self.compiling.lock().await;
        let compiled = self.compile(module.clone(), record.kind).await;
        drop(compiling);
        let compiled = compiled?;
        Ok(
            plugins::replace_module(&self.db, account_id, plugin_id, &compiled.sha256, &module)
                .await?,
        )
    }

    /// The module a script builds into, from the build cache or built now
    /// (and remembered with its source).
    async fn build_script(
        &self,
        kind: PluginKind,
        script: &Script,
    ) -> Result<Vec<u8>, RegistryError> {
        let build_key = js::build_key(script.language, &script.filename, &script.source);
        Ok(match plugin_sources::built(&self.db, &build_key).await? {
            Some(built) => {
                let function = js::function_name(kind);
                if !built.entry_points.split(' ').any(|name| name == function) {
                    return Err(PluginError::InvalidScript(format!(
                        "a {} script must export a function `{}`",
                        kind.as_str(),
                        js::signature(kind)
                    ))
                    .into());
                }
                plugins::module(&self.db, &built.module_sha256).await?
            }
            None => {
                let compiling = self.compiling.lock().await;
                let source = script.source.clone();
                let filename = script.filename.clone();
                let language = script.language;
                let built = tokio::task::spawn_blocking(move || {
                    js::build(&source, &filename, language, Some(kind))
                })
                .await
                .map_err(thread_failed("build"))??;
                drop(compiling);
                let entry_points: Vec<&str> = built
                    .kinds
                    .iter()
                    .map(|kind| js::function_name(*kind))
                    .collect();
                plugin_sources::store(
                    &self.db,
                    NewBuild {
                        build_key: &build_key,
                        module_sha256: &crate::domain::secrets::sha256_hex(&built.module),
                        module: &built.module,
                        language: script.language,
                        filename: &script.filename,
                        entry_points: &entry_points.join(" "),
                        source: &script.source,
                    },
                )
                .await?;
                built.module
            }
        })
    }

    /// The plugin with this id (`builtin:NAME` or an upload of the
    /// account), checked to be of `kind`.
    pub(crate) async fn resolve(
        &self,
        account_id: &str,
        plugin_id: &str,
        kind: PluginKind,
    ) -> Result<ResolvedPlugin, RegistryError> {
        self.resolve_checked(account_id, plugin_id, Some(kind))
            .await
    }

    /// The plugin with this id, whatever its kind (`compiled.kind` says).
    pub(crate) async fn resolve_any(
        &self,
        account_id: &str,
        plugin_id: &str,
    ) -> Result<ResolvedPlugin, RegistryError> {
        self.resolve_checked(account_id, plugin_id, None).await
    }

    async fn resolve_checked(
        &self,
        account_id: &str,
        plugin_id: &str,
        wanted: Option<PluginKind>,
    ) -> Result<ResolvedPlugin, RegistryError> {
        let (module, actual_kind, limits) = match plugin_id.strip_prefix(BUILTIN_ID_PREFIX) {
            Some(name) => {
                let plugin = builtin(name)
                    .ok_or_else(|| StoreError::NotFound(format!("Plugin {plugin_id} not found")))?;
                (
                    ModuleSource::Static(plugin.name, plugin.module),
                    plugin.kind,
                    PluginLimits::DEFAULT,
                )
            }
            None => {
                let record = plugins::get(&self.db, account_id, plugin_id).await?;
                (
                    ModuleSource::Stored(record.sha256.clone()),
                    record.kind,
                    record.limits,
                )
            }
        };
        if let Some(wanted) = wanted
            && wanted != actual_kind
        {
            return Err(RegistryError::WrongKind {
                id: plugin_id.to_owned(),
                actual: actual_kind.as_str(),
                wanted: wanted.as_str(),
            });
        }
        let kind = actual_kind;
        let compiled = match module {
            ModuleSource::Static(name, bytes) => {
                let known = self.builtin_cache().get(name).cloned();
                match known {
                    Some(compiled) => compiled,
                    None => {
                        let _compiling = self.compiling.lock().await;
                        // Compiled by whoever held the lock before us?
                        let known = self.builtin_cache().get(name).cloned();
                        match known {
                            Some(compiled) => compiled,
                            None => {
                                let compiled = self.compile(bytes.to_vec(), kind).await?;
                                self.builtin_cache().insert(name, Arc::clone(&compiled));
                                compiled
                            }
                        }
                    }
                }
            }
            ModuleSource::Stored(sha256) => match self.runtime.compiled(&sha256, kind) {
                Some(compiled) => compiled,
                None => {
                    let _compiling = self.compiling.lock().await;
                    match self.runtime.compiled(&sha256, kind) {
                        Some(compiled) => compiled,
                        None => {
                            self.compile(plugins::module(&self.db, &sha256).await?, kind)
                                .await?
                        }
                    }
                }
            },
        };
        Ok(ResolvedPlugin {
            compiled,
            limits,
            id: Arc::from(plugin_id),
        })
    }

    fn builtin_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<&'static str, Arc<CompiledPlugin>>> {
        self.builtins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn compile(
        &self,
        module: Vec<u8>,
        kind: PluginKind,
    ) -> Result<Arc<CompiledPlugin>, RegistryError> {
        let runtime = Arc::clone(&self.runtime);
        Ok(
            tokio::task::spawn_blocking(move || runtime.compile(&module, kind))
                .await
                .map_err(thread_failed("compiler"))??,
        )
    }

    /// Runs one call (see [`PluginRuntime::call`]).
    pub(crate) async fn call(&self, plugin: &ResolvedPlugin, document: Vec<u8>) -> PluginCall {
        let call = self
            .runtime
            .call(&plugin.compiled, &document, &plugin.limits)
            .await;
        metrics::record::plugin_call(
            &plugin.id,
            plugin.compiled.kind.as_str(),
            call.outcome.as_ref().map(|_| ()),
            call.fuel_used,
            call.duration,
        );
        call
    }
}

/// Reports a blocking thread's panic or cancellation as the server's fault.
fn thread_failed(task: &'static str) -> impl FnOnce(tokio::task::JoinError) -> RegistryError {
    move |error| RegistryError::ThreadFailed {
        task,
        reason: error.to_string(),
    }
}

/// A script to build into a plugin.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub language: Language,
    /// The name its stack traces and errors show.
    pub filename: String,
    pub source: String,
}

enum ModuleSource {
    Static(&'static str, &'static [u8]),
    Stored(String),
}

/// Turns a transform's `ok` value into records (JSON objects), refusing
/// anything that is not a list.
pub(crate) fn transform_records(output: Value) -> Result<Vec<Value>, PluginError> {
    match output {
        Value::Array(records) => Ok(records),
        other => Err(PluginError::InvalidOutput(format!(
            "a transform must return a list of records, not {}",
            match other {
                Value::Object(_) => "an object",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
    }
}
