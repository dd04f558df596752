//! The errors a plugin call can end in. Each limit has its own variant and a
//! fixed name in its message, so users (and tests) can tell them apart.

/// Why a plugin was refused or a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// Refused at upload: not valid Wasm, a forbidden import, a missing
    /// export, too large.
    #[error("invalid module: {0}")]
    InvalidModule(String),
    /// A JavaScript or TypeScript source refused at build or upload: a
    /// syntax error (with its line and column), an error thrown by its top
    /// level, a missing entry point.
    #[error("invalid script: {0}")]
    InvalidScript(String),
    #[error("out of fuel")]
    OutOfFuel,
    #[error("memory limit exceeded")]
    MemoryLimitExceeded,
    #[error("time limit exceeded")]
    TimeLimitExceeded,
    #[error("stack overflow")]
    StackOverflow,
    #[error("output too large")]
    OutputTooLarge,
    /// The result is not where it says, not JSON, or not `{"ok"}`/`{"err"}`.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// The plugin returned `{"err": "..."}`.
    #[error("plugin error: {0}")]
    Plugin(String),
    /// Any other trap (a panic in a Rust plugin ends here).
    #[error("trap: {0}")]
    Trap(String),
    /// Every sandbox slot is in use; the call may be retried.
    #[error("busy: {0}")]
    Busy(String),
}
