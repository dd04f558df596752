//! Running the import's transform on an inbound request as it came (any
//! body, any content type, the headers it may see) and applying the
//! records it returns; the endpoints' limits on it, which the transform
//! trial follows too.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, HeaderName};
use serde_json::Value;

use super::auth::ImportAuth;
use super::batch::apply_records;
use super::contract::BatchUpdateResponse;
use super::error::InboundError;
use super::records::RecordKinds;
use crate::domain::plugin::{PluginKind, Transform};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::body_rejection;
use crate::metrics;
use crate::metrics::record::{InboundFailure, InboundOutcome};
use crate::plugins::abi;
use crate::plugins::error::PluginError;
use crate::plugins::registry::{RegistryError, transform_records};

/// Most records a transform may produce from one request.
const MAX_TRANSFORM_RECORDS: usize = 1_000;

/// Runs the import's transform on the request as it came (any body, any
/// content type) and applies the records it returns, each on its own.
pub(super) async fn apply_transformed(
    state: &AppState,
    auth: ImportAuth,
    Transform {
        plugin_id,
        config_json: config,
    }: Transform,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<BatchUpdateResponse, InboundError> {
    let body = body.map_err(|rejection| body_rejection(rejection, state.max_body_bytes))?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let document = abi::inbound_call(&config, plugin_headers(headers), &content_type, &body)
        .map_err(|error| ApiError::BadRequest(format!("Malformed JSON body: {error}")))?;
    let failed = |error: &dyn std::fmt::Display| -> InboundError {
        ApiError::Unprocessable(format!("Transform failed: {error}")).into()
    };
    let plugin = state
        .plugins
        .resolve(&auth.account_id, &plugin_id, PluginKind::InboundTransform)
        .await
        .map_err(|error| match error {
            // The plugin itself is at fault: the CRM should not retry.
            RegistryError::Plugin(error) if !matches!(error, PluginError::Busy(_)) => {
                failed(&error)
            }
            RegistryError::WrongKind { .. } => failed(&error),
            // Storage or overload: a server error the CRM may retry.
            other => ApiError::from(other).into(),
        })?;
    let call = state.plugins.call(&plugin, document).await;
    let records = match call.outcome.and_then(transform_records) {
        Ok(records) => records,
        Err(PluginError::Busy(reason)) => return Err(ApiError::Unavailable(reason).into()),
        Err(error) => {
            metrics::record::inbound(InboundOutcome::Failed(InboundFailure::TransformFailed));
            return Err(failed(&error));
        }
    };
    if let Err(too_many) = check_record_count(&records) {
        return Err(failed(&too_many));
    }
    apply_records(state, auth, records, RecordKinds::WithLeadRecords).await
}

/// Refuses more records than one request applies (the endpoints' rule,
/// which the transform trial reports too).
pub(crate) fn check_record_count(records: &[Value]) -> Result<(), String> {
    if records.len() > MAX_TRANSFORM_RECORDS {
        return Err(format!(
            "it produced {} records; at most {MAX_TRANSFORM_RECORDS} are applied from one request",
            records.len()
        ));
    }
    Ok(())
}

/// The request headers a transform never sees: the credentials a request
/// is authenticated with (the endpoints' rule, which the transform trial
/// follows too).
pub(crate) const WITHHELD_FROM_TRANSFORMS: [HeaderName; 2] = [AUTHORIZATION, COOKIE];

/// Request headers as a transform sees them: names in lowercase and in
/// order, the last value of a repeated header, without the credentials the
/// request was authenticated with (and without values that are not text).
fn plugin_headers(headers: &HeaderMap) -> Vec<(&str, &str)> {
    let mut named: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| !WITHHELD_FROM_TRANSFORMS.contains(name))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    // Stable: a repeated header's values stay in the order they came, and
    // the last one is kept.
    named.sort_by(|a, b| a.0.cmp(b.0));
    let mut unique: Vec<(&str, &str)> = Vec::with_capacity(named.len());
    for (name, value) in named {
        match unique.last_mut() {
            Some(last) if last.0 == name => last.1 = value,
            _ => unique.push((name, value)),
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_transform_sees_each_header_once_in_order_without_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("x-crm", HeaderValue::from_static("hubspot"));
        headers.append("x-attempt", HeaderValue::from_static("1"));
        headers.append("x-attempt", HeaderValue::from_static("2"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer secret"));
        headers.insert(COOKIE, HeaderValue::from_static("session=secret"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        headers.insert(
            "x-binary",
            HeaderValue::from_bytes(b"caf\xe9").expect("a header value may be opaque bytes"),
        );
        assert_eq!(
            plugin_headers(&headers),
            vec![("accept", "*/*"), ("x-attempt", "2"), ("x-crm", "hubspot")]
        );
    }
}
