//! Types that exist only for the document: the request bodies a handler
//! reads as bytes (a plugin module, a script), the values a parameter
//! read as text may take, and constraints the derive attributes cannot
//! say (on the items of a list). Each is used only as a `value_type` or a
//! body type in an annotation.

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

/// The languages a script may be written in (as the `language` parameter
/// names them; any case).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Only documents the values `UploadParams::language` takes.
pub(crate) enum ScriptLanguage {
    Js,
    Ts,
    Javascript,
    Typescript,
}

/// A WebAssembly module (ABI v1), as its raw bytes.
pub(crate) struct WasmModule;

impl utoipa::PartialSchema for WasmModule {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("A WebAssembly module (ABI v1), as its raw bytes"))
            // The magic number and version alone take 8 bytes.
            .min_length(Some(8))
            .into()
    }
}

impl ToSchema for WasmModule {}

/// A JavaScript or TypeScript plugin's source text (UTF-8).
pub(crate) struct ScriptSource;

impl utoipa::PartialSchema for ScriptSource {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports \
                 `transform(config, request)`, a payload builder `buildPayload(config, event)`",
            ))
            .min_length(Some(1))
            // Both functions: the example serves either kind.
            .examples([serde_json::json!(
                "export function transform(config, request) {\n  return [];\n}\n\n\
                 export function buildPayload(config, event) {\n  \
                 return { body: event, content_type: \"application/json\" };\n}\n"
            )])
            .into()
    }
}

impl ToSchema for ScriptSource {}

/// The statuses deliveries can be filtered by.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Only documents the values `DeliveryPageQuery::status` takes.
pub(crate) enum DeliveryStatusFilter {
    Pending,
    Succeeded,
    Failed,
}

/// The longest wait before one retry that `check_retry_schedule`
/// (`domain::webhook`) accepts: 7 days. A test below holds the two together.
const MAX_RETRY_DELAY_SECONDS: u64 = 7 * 24 * 3_600;

/// Seconds before one retry of a webhook delivery.
pub(crate) struct RetryDelaySeconds;

impl utoipa::PartialSchema for RetryDelaySeconds {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("Seconds before one retry: 0 to 604800 (7 days)"))
            .minimum(Some(0))
            .maximum(Some(MAX_RETRY_DELAY_SECONDS))
            .into()
    }
}

impl utoipa::ToSchema for RetryDelaySeconds {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::check_retry_schedule;

    #[test]
    fn the_documented_longest_retry_delay_is_the_one_accepted() {
        assert!(check_retry_schedule(&[MAX_RETRY_DELAY_SECONDS]).is_ok());
        assert!(check_retry_schedule(&[MAX_RETRY_DELAY_SECONDS + 1]).is_err());
    }
}
