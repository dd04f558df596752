//! Plugins: WebAssembly modules that transform inbound requests into funnel
//! updates or build outbound payloads, run in a sandbox.
//!
//! - [`limits`]: fuel, memory, time and output limits, their defaults and
//!   the account maxima.
//! - [`error`]: the named errors a plugin call ends in.
//! - [`runtime`]: the wasmtime engine, module validation (imports, exports)
//!   and compilation, and one call in a fresh instance.
//! - [`builtin`]: the built-in plugins, compiled from `plugins/` at build time.
//! - [`registry`]: built-ins and uploads resolved by id, called off the
//!   async runtime.
//!
//! The ABI (ABI v1) is documented in `plugin-sdk/ABI.md`.

pub mod abi;
pub mod builtin;
pub mod error;
pub mod limits;
pub mod registry;
pub mod runtime;

#[cfg(test)]
mod sandbox_tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a plugin does, which decides the entry point it must export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Turns an inbound request into funnel updates: exports `transform`.
    InboundTransform,
    /// Builds an outbound webhook payload: exports `build_payload`.
    PayloadBuilder,
}

impl PluginKind {
    /// The function the module must export for this kind.
    pub fn entry_point(self) -> &'static str {
        match self {
            PluginKind::InboundTransform => "transform",
            PluginKind::PayloadBuilder => "build_payload",
        }
    }

    /// The kind stored as [`PluginKind::as_str`].
    pub fn from_stored(stored: &str) -> PluginKind {
        if stored == PluginKind::PayloadBuilder.as_str() {
            PluginKind::PayloadBuilder
        } else {
            PluginKind::InboundTransform
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::InboundTransform => "inbound-transform",
            PluginKind::PayloadBuilder => "payload-builder",
        }
    }
}
