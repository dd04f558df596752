//! Limits of one plugin call. Every limit has a default, and a maximum that
//! a plugin's own limits are clamped to.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Fuel, memory, time and output limits of a call. The Wasm stack limit is
/// the engine's (`MAX_WASM_STACK_BYTES`), the same for every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PluginLimits {
    /// Roughly one unit per Wasm instruction.
    pub fuel: u64,
    /// Largest linear memory, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock backstop, in milliseconds.
    pub time_limit_ms: u64,
    /// Largest result, in bytes.
    pub output_bytes: u64,
}

/// Native stack Wasm code may use, for every call.
pub const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

impl PluginLimits {
    /// Defaults: enough for a transform to parse and map a few hundred
    /// kilobytes of JSON.
    pub const DEFAULT: PluginLimits = PluginLimits {
        fuel: 50_000_000,
        memory_bytes: 16 * 1024 * 1024,
        time_limit_ms: 1_000,
        output_bytes: 1024 * 1024,
    };

    /// The most any plugin of an account may be given.
    pub const ACCOUNT_MAXIMUM: PluginLimits = PluginLimits {
        fuel: 2_000_000_000,
        memory_bytes: 64 * 1024 * 1024,
        time_limit_ms: 10_000,
        output_bytes: 16 * 1024 * 1024,
    };

    /// Each limit lowered to at most `maximum`'s.
    pub fn clamped_to(self, maximum: PluginLimits) -> PluginLimits {
        PluginLimits {
            fuel: self.fuel.min(maximum.fuel),
            memory_bytes: self.memory_bytes.min(maximum.memory_bytes),
            time_limit_ms: self.time_limit_ms.min(maximum.time_limit_ms),
            output_bytes: self.output_bytes.min(maximum.output_bytes),
        }
    }

    pub fn time_limit(&self) -> Duration {
        Duration::from_millis(self.time_limit_ms)
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_lowers_each_limit_to_the_maximum() {
        let generous = PluginLimits {
            fuel: u64::MAX,
            memory_bytes: 1,
            time_limit_ms: 60_000,
            output_bytes: 10,
        };
        let clamped = generous.clamped_to(PluginLimits::ACCOUNT_MAXIMUM);
        assert_eq!(clamped.fuel, PluginLimits::ACCOUNT_MAXIMUM.fuel);
        assert_eq!(clamped.memory_bytes, 1);
        assert_eq!(clamped.time_limit_ms, 10_000);
        assert_eq!(clamped.output_bytes, 10);
    }
}
