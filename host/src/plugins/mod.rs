//! Plugins: WebAssembly modules that transform inbound requests into funnel
//! updates or build outbound payloads, run in a sandbox.
//!
//! - [`error`]: the named errors a plugin call ends in.
//! - [`runtime`]: the sandbox: the wasmtime engine, module validation
//!   (imports, exports), artifacts, one call in a fresh instance, and what
//!   its end means (split by concept, see its docs).
//! - [`builtin`]: the built-in plugins, compiled from `plugins/` at build
//!   time, and the JavaScript engine.
//! - [`js`]: JavaScript and TypeScript plugins, built into ABI v1 modules by
//!   snapshotting the engine after the script ran; [`typescript`] strips
//!   types first.
//! - [`scaffold`]: the projects `switchyard plugin new` writes, one per
//!   language.
//! - [`registry`]: built-ins and uploads resolved by id, called off the
//!   async runtime.
//!
//! What a plugin is (its kind) and the limits of a call are the domain's:
//! [`crate::domain::plugin`]. The ABI (ABI v1) is documented in
//! `plugin-sdk/ABI.md`.

pub mod abi;
pub mod builtin;
pub mod error;
pub mod js;
pub(crate) mod registry;
pub mod runtime;
pub(crate) mod scaffold;
pub(crate) mod typescript;

#[cfg(test)]
mod js_tests;
#[cfg(test)]
mod sandbox_tests;
