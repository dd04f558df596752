//! JavaScript and TypeScript plugins: a script becomes an ordinary ABI v1
//! module by snapshotting the JavaScript engine (`plugins/js-engine`,
//! QuickJS compiled to Wasm, embedded as [`JS_ENGINE`]) after the script
//! ran in it, with Wizer.
//!
//! [`build`] strips a TypeScript file's types ([`super::typescript`]),
//! instantiates the engine in a build sandbox of its own (fuel and memory
//! capped, the same single import), hands it the script, and snapshots the
//! instance: its memory then holds the runtime, the context and the
//! evaluated script, so a call costs only the user's function. The result is
//! checked and run like any upload: a fresh instance per call, the same
//! limits, no WASI.
//!
//! The script is evaluated once, at build time: a syntax error, an error
//! thrown at its top level, or a missing entry point refuses the build,
//! with the line and column in the user's file.

mod snapshot;

use std::sync::OnceLock;

use super::builtin::JS_ENGINE;
use super::error::PluginError;
use super::typescript;
use crate::domain::plugin::PluginKind;
use crate::domain::secrets::sha256_hex;

/// The language of a script, named as the domain names it.
pub use crate::domain::plugin::ScriptLanguage as Language;

/// Largest script accepted, in bytes.
pub(crate) const MAX_SCRIPT_BYTES: usize = 1024 * 1024;

/// The JavaScript function a kind's entry point calls.
pub(crate) fn function_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::InboundTransform => "transform",
        PluginKind::PayloadBuilder => "buildPayload",
    }
}

/// The key of a build in the build cache: the engine, the language, the
/// file name (it appears in stack traces) and the source, hashed.
pub(crate) fn build_key(language: Language, filename: &str, source: &str) -> String {
    static ENGINE_SHA256: OnceLock<String> = OnceLock::new();
    let engine = ENGINE_SHA256.get_or_init(|| sha256_hex(JS_ENGINE));
    let mut keyed = Vec::with_capacity(engine.len() + filename.len() + source.len() + 16);
    for part in [engine.as_str(), language.as_str(), filename, source] {
        keyed.extend_from_slice(part.as_bytes());
        keyed.push(0);
    }
    sha256_hex(&keyed)
}

/// How a kind's function is called.
pub(crate) fn signature(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::InboundTransform => "transform(config, request)",
        PluginKind::PayloadBuilder => "buildPayload(config, event)",
    }
}

/// A built script.
#[derive(Debug, Clone)]
pub struct BuiltScript {
    /// The ABI v1 module.
    pub module: Vec<u8>,
    /// The kinds it can serve: the entry points the script exports.
    pub kinds: Vec<PluginKind>,
    /// What the script's top level logged while it was evaluated.
    pub logs: Vec<String>,
}

/// Builds an ABI v1 module from a script, checked to export the function
/// of `kind` (or either when `kind` is `None`). `filename` names the
/// script in error messages and stack traces. CPU work of about a second
/// (less once the engine is compiled): async callers run it on a blocking
/// thread.
pub fn build(
    source: &str,
    filename: &str,
    language: Language,
    kind: Option<PluginKind>,
) -> Result<BuiltScript, PluginError> {
    if source.len() > MAX_SCRIPT_BYTES {
        return Err(PluginError::InvalidScript(format!(
            "the script is {} bytes; the limit is {MAX_SCRIPT_BYTES}",
            source.len()
        )));
    }
    if source.trim().is_empty() {
        return Err(PluginError::InvalidScript(
            "the script is empty; it must export a function `transform` or `buildPayload`".into(),
        ));
    }
    let javascript = match language {
        Language::JavaScript => source.to_owned(),
        Language::TypeScript => typescript::strip_types(source, filename)?,
    };
    snapshot::snapshot(&javascript, filename, kind)
}
