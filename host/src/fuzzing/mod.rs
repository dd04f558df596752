//! Fuzz targets: the parsers that take bytes from outside, each as a
//! function of arbitrary bytes that panics when a property breaks. They
//! are run two ways (see `FUZZING.md`):
//!
//! - by libFuzzer, coverage-guided, through `cargo fuzz` (the `fuzz/`
//!   crate, one three-line target per function here; `scripts/fuzz`);
//! - by [`smoke`], a stable-Rust driver inside the unit tests: every seed
//!   and regression input under `fuzz/`, then a few seconds of random
//!   mutations of them, so that `scripts/test` exercises every target
//!   without a second build.
//!
//! The targets:
//!
//! - [`inbound`]: the inbound endpoints' body parsing and record
//!   validation (funnel updates and lead records), the stage-name matching,
//!   and the document a transform receives;
//! - [`template`]: the `template` payload builder's merge-tag parsing and
//!   rendering, with the escaping checked by parsing the result back;
//! - [`abi_output`]: a plugin's result document (`{"ok"}` / `{"err"}`) and
//!   a transform's records;
//! - [`retry_after`]: the `Retry-After` header and the delay it leads to;
//! - [`destination`]: the SSRF policy's address classifier and URL check,
//!   against the standard library's own classification.
//!
//! Compiled for tests and with the `fuzzing` feature only.

#[cfg(test)]
mod smoke;
mod targets;

pub use targets::{abi_output, destination, inbound, retry_after, template};

/// A fuzz target: bytes in, a panic when something breaks.
pub type Target = fn(&[u8]);

/// Every target by the name its `fuzz/` folders use.
pub const TARGETS: &[(&str, Target)] = &[
    ("inbound", inbound),
    ("template", template),
    ("abi_output", abi_output),
    ("retry_after", retry_after),
    ("destination", destination),
];
