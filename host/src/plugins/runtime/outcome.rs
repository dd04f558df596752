//! What a call's end means: the result the entry point packed into an
//! `i64`, the ABI's result document (`{"ok": ...}` or `{"err": "..."}`),
//! and the named error a trap is reported as.

use serde::Deserialize;
use serde_json::Value;
use wasmtime::{PoolConcurrencyLimitError, Trap};

use crate::plugins::error::PluginError;

/// The result's address (high 32 bits) and length (low 32 bits), as the
/// entry point packs them.
pub(super) fn unpack_result(packed: i64) -> (usize, usize) {
    let packed = packed as u64;
    ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize)
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

/// Names the error a call ended in. `memory_refused`: the call's memory
/// limiter refused a `memory.grow`, which usually ends in a trap (an
/// allocation failure): the cause is reported rather than the symptom.
pub(super) fn classify(error: &wasmtime::Error, memory_refused: bool) -> PluginError {
    if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
        return PluginError::Busy("every plugin sandbox is in use; retry shortly".into());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel,
        Some(Trap::Interrupt) => PluginError::TimeLimitExceeded,
        Some(Trap::StackOverflow) => PluginError::StackOverflow,
        _ if memory_refused => PluginError::MemoryLimitExceeded,
        Some(trap) => PluginError::Trap(
            trap.to_string()
                .trim_start_matches("wasm trap: ")
                .to_owned(),
        ),
        None => PluginError::Trap(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_result_is_address_high_and_length_low() {
        assert_eq!(unpack_result((1024_i64 << 32) | 17), (1024, 17));
        assert_eq!(unpack_result(0), (0, 0));
        // Addresses past 2 GiB set the sign bit: still an address.
        assert_eq!(
            unpack_result(((0xffff_fff0_u64 << 32) | 0xffff_ffff) as i64),
            (0xffff_fff0, 0xffff_ffff)
        );
    }

    #[test]
    fn the_result_document_is_ok_err_or_an_invalid_output() {
        assert_eq!(parse_output(br#"{"ok": [1]}"#), Ok(serde_json::json!([1])));
        assert_eq!(
            parse_output(br#"{"err": "no lead"}"#),
            Err(PluginError::Plugin("no lead".into()))
        );
        let shape = parse_output(br#"{"value": 1}"#).unwrap_err().to_string();
        assert!(
            shape.starts_with(r#"invalid output: expected {"ok": ...} or {"err": "..."}"#),
            "{shape}"
        );
        let text = parse_output(b"ok").unwrap_err().to_string();
        assert!(text.starts_with("invalid output: not JSON: "), "{text}");
    }

    #[test]
    fn each_trap_is_named_and_a_refused_grow_names_the_cause() {
        let table = [
            (Trap::OutOfFuel, false, PluginError::OutOfFuel),
            (Trap::Interrupt, false, PluginError::TimeLimitExceeded),
            (Trap::StackOverflow, false, PluginError::StackOverflow),
            // Running out of fuel or time stays what it is, even after a
            // refused grow.
            (Trap::OutOfFuel, true, PluginError::OutOfFuel),
            (
                Trap::UnreachableCodeReached,
                true,
                PluginError::MemoryLimitExceeded,
            ),
        ];
        for (trap, refused, expected) in table {
            assert_eq!(classify(&trap.into(), refused), expected, "{trap:?}");
        }
        let unreachable = classify(&Trap::UnreachableCodeReached.into(), false);
        assert!(
            matches!(&unreachable, PluginError::Trap(message) if message.contains("unreachable") && !message.starts_with("wasm trap")),
            "{unreachable:?}"
        );
        assert_eq!(
            classify(&wasmtime::Error::msg("host failed"), false),
            PluginError::Trap("host failed".into())
        );
    }
}
