//! Links from the operations that create something to the operations that
//! take its id: `create_webhook`'s 201 links to `get_webhook`,
//! `list_deliveries`, `test_webhook`, ... with `webhook_id` set to the
//! `id` it returned. Readers see what to call next; tools that follow
//! links (schemathesis' stateful tests) reach past the 404s of made-up ids.
//!
//! The creators are listed in [`CREATORS`]; the operations they link to
//! are found in the document: every operation with a path parameter of the
//! created id's name whose other path parameters the creator's own request
//! supplies.

use serde_json::{Map, Value, json};

use super::operations;

/// An operation that creates something, and where its answer holds the id.
struct Creator {
    operation_id: &'static str,
    status: &'static str,
    /// JSON pointer to the id in the response body.
    id_at: &'static str,
    /// The path parameter that takes that id.
    parameter: &'static str,
}

const CREATORS: &[Creator] = &[
    Creator {
        operation_id: "create_stage",
        status: "201",
        id_at: "/id",
        parameter: "stage_id",
    },
    Creator {
        operation_id: "create_lead",
        status: "201",
        id_at: "/lead_profile_uid",
        parameter: "lead_profile_uid",
    },
    Creator {
        operation_id: "create_import",
        status: "201",
        id_at: "/id",
        parameter: "import_id",
    },
    Creator {
        operation_id: "upload_plugin",
        status: "201",
        id_at: "/id",
        parameter: "plugin_id",
    },
    Creator {
        operation_id: "create_webhook",
        status: "201",
        id_at: "/id",
        parameter: "webhook_id",
    },
    Creator {
        operation_id: "create_key",
        status: "201",
        id_at: "/id",
        parameter: "key_id",
    },
    // A test send is logged as a delivery, under its message id.
    Creator {
        operation_id: "test_webhook",
        status: "200",
        id_at: "/message_id",
        parameter: "delivery_id",
    },
    // A resend answers with the delivery it queued again.
    Creator {
        operation_id: "resend_delivery",
        status: "202",
        id_at: "/id",
        parameter: "delivery_id",
    },
];

/// An operation that takes ids in its path.
struct Consumer {
    operation_id: String,
    path_parameters: Vec<String>,
}

/// Adds the links of every creator.
pub(super) fn add(document: &mut Value) {
    let consumers: Vec<Consumer> = operations(document)
        .filter_map(|(path, _, operation)| {
            Some(Consumer {
                operation_id: operation.get("operationId")?.as_str()?.to_owned(),
                path_parameters: path_parameters(&path),
            })
        })
        .collect();
    for (path, _, operation) in operations(document) {
        let Some(creator) = operation
            .get("operationId")
            .and_then(Value::as_str)
            .and_then(|id| CREATORS.iter().find(|creator| creator.operation_id == id))
        else {
            continue;
        };
        let known = path_parameters(&path);
        let mut links = Map::new();
        for consumer in &consumers {
            if consumer.operation_id == creator.operation_id
                || !consumer
                    .path_parameters
                    .iter()
                    .any(|p| p == creator.parameter)
            {
                continue;
            }
            let mut parameters = Map::new();
            let mut complete = true;
            for parameter in &consumer.path_parameters {
                if parameter == creator.parameter {
                    let expression = format!("$response.body#{}", creator.id_at);
                    parameters.insert(parameter.clone(), json!(expression));
                } else if known.contains(parameter) {
                    parameters.insert(
                        parameter.clone(),
                        json!(format!("$request.path.{parameter}")),
                    );
                } else {
                    complete = false;
                }
            }
            if complete {
                links.insert(
                    consumer.operation_id.clone(),
                    json!({"operationId": consumer.operation_id, "parameters": parameters}),
                );
            }
        }
        if let Some(response) = operation
            .pointer_mut(&format!("/responses/{}", creator.status))
            .and_then(Value::as_object_mut)
            && !links.is_empty()
        {
            response.insert("links".into(), Value::Object(links));
        }
    }
}

/// The names of a path's parameters: `{webhook_id}` and `{delivery_id}` in
/// `/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}`.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}
