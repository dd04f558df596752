//! The OpenAPI document. The handlers' annotations generate it; two passes
//! over the generated document then add what every operation needs and no
//! handler should have to remember:
//!
//! - [`rejections`]: the statuses an operation answers because of how it
//!   is reached (its authentication, parameters and body), with the error
//!   body each one carries;
//! - [`rules`]: rules between fields, as JSON Schema conditionals;
//! - [`creation`]: the body of a create operation that shares its fields
//!   with an update, with the fields creation needs required;
//! - [`links`]: links from each create operation to the operations that
//!   take the id it returns, so that tools (and readers) can follow them;
//! - and smaller ones below, for the client generators: one id per
//!   operation, titled `oneOf` variants as named schemas, a description on
//!   every success.
//!
//! The server serves the result at `/api/openapi.json`; `switchyard
//! openapi` prints it, which is what the typed clients in `clients/` are
//! generated from.

mod creation;
mod links;
mod rejections;
mod rules;
mod schemas;

pub(crate) use schemas::{
    DeliveryStatusFilter, RetryDelaySeconds, ScriptLanguage, ScriptSource, WasmModule,
};

use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use super::{
    AppState, api_keys, funnel_import, funnel_stages, health, leads, plugins, webhook_imports,
    webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard",
        description = "Webhook gateway for CRMs: funnel stages, leads, inbound funnel imports and outbound webhooks. \
                       Admin endpoints take `Authorization: Bearer <admin API key>`; the inbound funnel \
                       import endpoints take `Authorization: Bearer <webhook import token>`. Every error \
                       is JSON with an `error` message a person can act on."
    ),
    modifiers(&BearerSchemes),
    security(("admin_api_key" = [])),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "funnel-stages", description = "The account's ordered funnel"),
        (name = "leads", description = "Leads and their funnel history"),
        (name = "webhook-imports", description = "Inbound integrations: tokens, activation, stage mappings"),
        (name = "plugins", description = "WebAssembly plugins: upload, list, delete, dry run"),
        (name = "webhooks", description = "Outbound webhooks: subscriptions, payload previews, test sends, deliveries and their logs"),
        (name = "api-keys", description = "The account's admin API keys: list, create (shown once), revoke"),
        (name = "funnel-import", description = "Inbound funnel updates from CRMs, authenticated with a webhook import token"),
    )
)]
struct ApiDoc;

/// The two bearer schemes: admin API keys and webhook import tokens.
struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin API key (`sy_admin_...`), from the first start, \
                         `switchyard account create` or `POST /api/v1/api-keys`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "webhook_import_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A webhook import's token, shown when the import is created \
                         or its token regenerated",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every documented route of the API, with the document generated from
/// their annotations (not yet completed: see [`complete`]).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(funnel_stages::router())
        .merge(leads::router())
        .merge(webhook_imports::router())
        .merge(funnel_import::router())
        .merge(plugins::router())
        .merge(webhooks::router())
        .merge(api_keys::router())
}

/// The finished document, as served at `/api/openapi.json`.
pub(crate) fn document() -> Value {
    let (_, generated) = routes().split_for_parts();
    complete(generated)
}

/// Completes a generated document with the rejections and links of every
/// operation.
pub(crate) fn complete(generated: utoipa::openapi::OpenApi) -> Value {
    // Serialising plain data (maps, strings, numbers) cannot fail.
    let mut document =
        serde_json::to_value(generated).expect("the OpenAPI document serialises to JSON");
    unique_operation_ids(&mut document);
    describe_successes(&mut document);
    rules::add(&mut document);
    creation::add(&mut document);
    name_variants(&mut document);
    rejections::add(&mut document);
    links::add(&mut document);
    document
}

/// Gives each operation its own id. A handler routed under several
/// methods (the inbound endpoints take POST and PATCH) appears once per
/// method with its function's name as id; generated clients need one id
/// per operation, so all but the POST one get `_<method>` after it
/// (`update_one_patch`).
fn unique_operation_ids(document: &mut Value) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (_, _, operation) in operations(document) {
        if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
            *seen.entry(id.to_owned()).or_default() += 1;
        }
    }
    for (_, method, operation) in operations(document) {
        let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        if seen.get(id).is_some_and(|count| *count > 1) && method != "post" {
            let unique = format!("{id}_{method}");
            operation["operationId"] = Value::String(unique);
        }
    }
}

/// Moves the titled variants of a `oneOf` schema (`WebhookAuth`'s
/// `BasicAuth`, `HeadersAuth`, ...) into schemas of their own, referenced
/// by name: client generators then make one type per variant, named as the
/// title says, instead of numbering inline ones (and tripping over their
/// nested objects).
fn name_variants(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut lifted = Vec::new();
    for schema in schemas.values_mut() {
        let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        for variant in variants.iter_mut() {
            let Some(title) = variant.get("title").and_then(Value::as_str) else {
                continue;
            };
            let reference = serde_json::json!({"$ref": format!("#/components/schemas/{title}")});
            lifted.push((title.to_owned(), std::mem::replace(variant, reference)));
        }
    }
    for (title, variant) in lifted {
        schemas.entry(title).or_insert(variant);
    }
}

/// Success responses that their handler left without a description get
/// a plain one (OpenAPI requires one; some tools show it).
fn describe_successes(document: &mut Value) {
    for (_, _, operation) in operations(document) {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let described = response
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|text| !text.is_empty());
            if status.starts_with('2') && !described {
                let text = if status == "201" {
                    "Created"
                } else {
                    "Success"
                };
                response["description"] = Value::String(text.into());
            }
        }
    }
}

/// Each operation of the document with its path and method, mutably.
fn operations(document: &mut Value) -> impl Iterator<Item = (String, &str, &mut Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.iter_mut())
        .flat_map(|(path, item)| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|methods| methods.iter_mut())
                .filter_map(move |(method, operation)| {
                    let method = METHODS
                        .into_iter()
                        .find(|known| *known == method.as_str())?;
                    Some((path.clone(), method, operation))
                })
        })
}

#[cfg(test)]
mod tests;
