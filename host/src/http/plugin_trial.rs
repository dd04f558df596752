//! Trying a plugin once on a sample, writing nothing. Both trials call
//! through here: a plugin's dry run (`POST /api/v1/plugins/{id}/run`,
//! [`super::plugins`]) and an import's transform trial (`POST
//! /api/v1/webhook-imports/{id}/transform/test`,
//! `webhook_imports::transform_test`), and with them the admin UI's forms.
//! Here: the document a transform is called with for a sample request (a
//! body given as JSON, its content type, its headers), and one call in the
//! sandbox with the plugin's own limits, reported as a [`TrialCall`] (its
//! `ok` value or named error, fuel, time and logs) that each endpoint
//! turns into its view. A busy sandbox is the server's (503), not
//! something the plugin did.

use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::plugins::abi;
use crate::plugins::error::PluginError;
use crate::plugins::registry::ResolvedPlugin;

/// A sample's content type when it names none.
const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// What one trial call did.
#[derive(Debug)]
pub(crate) struct TrialCall {
    /// The plugin's `ok` value, or the named error the call ended in
    /// (never a busy sandbox: that is an error of the trial).
    pub outcome: Result<Value, PluginError>,
    pub fuel_used: u64,
    pub duration_ms: f64,
    /// What the plugin logged.
    pub logs: Vec<String>,
}

/// The document a transform is called with for a sample request: `body`
/// as its content type (JSON when `None`) carries it, and `headers` in the
/// order given. The error says why the body is not what its content type
/// says.
pub(crate) fn transform_document<'a>(
    config: &Value,
    body: &Value,
    content_type: Option<&str>,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<u8>, String> {
    let content_type = content_type.unwrap_or(DEFAULT_CONTENT_TYPE);
    let body = abi::sample_body(body, content_type);
    abi::inbound_call(&config.to_string(), headers, content_type, &body)
}

/// Calls `plugin` once on `document` with its limits.
pub(crate) async fn call(
    state: &AppState,
    plugin: &ResolvedPlugin,
    document: Vec<u8>,
) -> ApiResult<TrialCall> {
    let call = state.plugins.call(plugin, document).await;
    let outcome = match call.outcome {
        Err(PluginError::Busy(reason)) => return Err(ApiError::Unavailable(reason)),
        outcome => outcome,
    };
    Ok(TrialCall {
        outcome,
        fuel_used: call.fuel_used,
        duration_ms: call.duration.as_secs_f64() * 1e3,
        logs: call.logs,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(body: Value, content_type: Option<&str>) -> Result<Value, String> {
        let headers = [("x-crm", "hubspot")];
        transform_document(&json!({"k": 1}), &body, content_type, headers)
            .map(|document| serde_json::from_slice(&document).expect("a JSON document"))
    }

    #[test]
    fn a_sample_without_a_content_type_is_sent_as_json() {
        assert_eq!(
            document(json!({"stage": "won"}), None),
            Ok(json!({"config": {"k": 1}, "input": {
                "headers": {"x-crm": "hubspot"},
                "content_type": "application/json",
                "body": {"stage": "won"},
            }}))
        );
    }

    #[test]
    fn a_text_sample_is_sent_as_its_text() {
        let sent = document(
            json!("stage=won"),
            Some("application/x-www-form-urlencoded"),
        )
        .expect("a form body");
        assert_eq!(sent["input"]["body"], "stage=won");
        assert_eq!(
            sent["input"]["content_type"],
            "application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn a_json_sample_under_a_text_content_type_is_sent_as_its_json_text() {
        let sent = document(json!({"a": 1}), Some("text/plain")).expect("text");
        assert_eq!(sent["input"]["body"], r#"{"a":1}"#);
    }
}
