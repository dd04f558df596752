//! Bodies that create what another operation changes. A webhook is created
//! and changed with the same fields (`WebhookInput`), but creating one
//! needs some of them; the document says so with a schema of its own for
//! the create operation, derived here from the shared one so that a new
//! setting appears in both.

use serde_json::{Value, json};

use super::operations;

/// A create operation whose body is a shared schema with some fields
/// required.
struct Creation {
    operation_id: &'static str,
    /// The shared schema (in `components/schemas`).
    from: &'static str,
    /// The name of the derived schema.
    name: &'static str,
    required: &'static [&'static str],
    description: &'static str,
}

const CREATIONS: &[Creation] = &[Creation {
    operation_id: "create_webhook",
    from: "WebhookInput",
    name: "NewWebhook",
    required: &["name", "url", "events"],
    description: "A new webhook: `name`, `url` and `events` are required; every other \
                  field has a default",
}];

/// Adds each derived schema and points its create operation at it.
pub(super) fn add(document: &mut Value) {
    for creation in CREATIONS {
        let Some(mut schema) = document
            .pointer(&format!("/components/schemas/{}", creation.from))
            .cloned()
        else {
            continue;
        };
        schema["required"] = json!(creation.required);
        schema["description"] = json!(creation.description);
        for field in creation.required {
            if let Some(property) = schema.pointer_mut(&format!("/properties/{field}")) {
                not_null(property);
            }
        }
        if let Some(schemas) = document
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.insert(creation.name.into(), schema);
        }
        for (_, _, operation) in operations(document) {
            if operation.get("operationId").and_then(Value::as_str) == Some(creation.operation_id)
                && let Some(body) = operation.pointer_mut("/requestBody/content/application~1json")
            {
                body["schema"] = json!({"$ref": format!("#/components/schemas/{}", creation.name)});
            }
        }
    }
}

/// Takes `null` out of what a property accepts: `["string", "null"]`
/// becomes `"string"`, and a `oneOf` loses its `{"type": "null"}` branch.
fn not_null(property: &mut Value) {
    if let Some(types) = property.get("type").and_then(Value::as_array) {
        let kept: Vec<Value> = types
            .iter()
            .filter(|kind| kind.as_str() != Some("null"))
            .cloned()
            .collect();
        property["type"] = match kept.as_slice() {
            [only] => only.clone(),
            _ => Value::Array(kept),
        };
    }
    if let Some(branches) = property.get_mut("oneOf").and_then(Value::as_array_mut) {
        branches.retain(|branch| branch.get("type").and_then(Value::as_str) != Some("null"));
        if let [only] = branches.as_slice() {
            let only = only.clone();
            if let Some(object) = property.as_object_mut() {
                object.remove("oneOf");
                if let Some(fields) = only.as_object() {
                    for (key, value) in fields {
                        object.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
    }
}
