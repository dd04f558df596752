//! The errors a plugin call can end in. Each limit has its own variant and a
//! fixed name in its message, so users (and tests) can tell them apart. The
//! engine's own start-up failures are [`EngineStartError`]s.

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
    /// The engine a build needs did not start: the server's fault, whatever
    /// the script.
    #[error(transparent)]
    EngineUnavailable(#[from] EngineStartError),
}

/// Why the plugin engine could not start: a fault of the host (its
/// configuration, threads, memory), never of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineStartError {
    #[error("cannot start the plugin engine: {0}")]
    Engine(String),
    #[error("cannot link the host API: {0}")]
    HostApi(String),
    #[error("cannot start the epoch ticker: {0}")]
    EpochTicker(String),
    /// The JavaScript engine (QuickJS) that builds scripts could not be
    /// instrumented or compiled.
    #[error("cannot {step} the JavaScript engine: {reason}")]
    JavaScript { step: &'static str, reason: String },
}
