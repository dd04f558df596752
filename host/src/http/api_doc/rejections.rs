//! The statuses an operation answers because of how it is reached, whatever
//! its handler does: a missing or unknown credential (401), a malformed
//! body or query string (400), a body over the size limit (413), a body
//! that is not JSON (415), an id that names nothing (404), and the
//! internal error every operation can end in (500). They come from the
//! shared extractors (`extract::AdminAuth`, `extract::JsonBody`,
//! `extract::ApiQuery`, the import token of `funnel_import`) and the
//! lookups every `{id}` route starts with, so they are added here, from
//! what each operation declares (its security, parameters and request
//! body), instead of by hand on each handler. A handler documents only the
//! statuses its own logic adds (409 for a conflict, 422 for a broken
//! rule, 503 when the plugin sandbox is busy); one it does document keeps
//! its own description.
//!
//! To document a new rejection, add a [`Rejection`] to [`REJECTIONS`]
//! saying which operations it applies to, as the 429 of flood control
//! (`http::flood_control`) does for the inbound endpoints.

use serde_json::{Map, Value, json};

use super::operations;

/// How an operation is reached, read from what it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reach {
    pub auth: Auth,
    /// Takes ids in its path: each names something that may not exist.
    pub path_ids: bool,
    /// Takes a query string (read with `ApiQuery`: unknown or ill-typed
    /// parameters are refused).
    pub query: bool,
    pub body: Option<Body>,
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    /// The health probes and the document itself.
    Public,
    /// `Authorization: Bearer <admin API key>`.
    AdminKey,
    /// `Authorization: Bearer <webhook import token>`: the inbound
    /// endpoints, whose errors carry `success: false`.
    ImportToken,
}

/// What an operation's request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    /// JSON read with `JsonBody`: other content types are refused (415).
    Json,
    /// JSON read whatever the content type says (the inbound endpoints,
    /// whose transforms take forms and text too).
    AnyContentType,
    /// Bytes (a plugin module or script).
    Bytes,
}

/// One status an operation can answer, and which operations can.
pub(super) struct Rejection {
    pub status: &'static str,
    pub description: &'static str,
    pub applies: fn(&Reach) -> bool,
    /// Headers the answer carries, with what each says (a 429 carries
    /// `Retry-After`).
    pub headers: &'static [(&'static str, &'static str)],
}

/// Every rejection that follows from how an operation is reached.
pub(super) const REJECTIONS: &[Rejection] = &[
    Rejection {
        status: "400",
        description: "Malformed JSON, a missing or ill-typed field, or a bad query parameter; \
                      the message names the field",
        applies: |reach| {
            reach.query || matches!(reach.body, Some(Body::Json | Body::AnyContentType))
        },
        headers: &[],
    },
    Rejection {
        status: "401",
        description: "No `Authorization: Bearer` header, or a credential this server does not \
                      know (or, for an import token, one whose import is inactive)",
        applies: |reach| reach.auth != Auth::Public,
        headers: &[("WWW-Authenticate", "`Bearer`, as RFC 6750 asks")],
    },
    Rejection {
        status: "404",
        description: "An id in the path names nothing in this account",
        applies: |reach| reach.path_ids,
        headers: &[],
    },
    Rejection {
        status: "413",
        description: "The body is larger than the server accepts (`--max-body-bytes`; \
                      plugin uploads have their own, larger limit)",
        applies: |reach| reach.body.is_some(),
        headers: &[],
    },
    Rejection {
        status: "415",
        description: "The body is not JSON: send `Content-Type: application/json`",
        applies: |reach| reach.body == Some(Body::Json),
        headers: &[],
    },
    Rejection {
        status: "429",
        description: "Flood control: the import is over its rate limit, or the account has more \
                      undelivered deliveries than the server's cap \
                      (`--max-pending-deliveries-per-account`); nothing was written, retry after \
                      `Retry-After` seconds",
        applies: |reach| reach.auth == Auth::ImportToken,
        headers: &[("Retry-After", "Seconds to wait before retrying")],
    },
    Rejection {
        status: "500",
        description: "An internal error; the details are in the server's log",
        applies: |_| true,
        headers: &[],
    },
];

/// Adds every rejection that applies to each operation, unless its handler
/// documents that status itself.
pub(super) fn add(document: &mut Value) {
    let default_security = document.get("security").cloned();
    for (_, _, operation) in operations(document) {
        let reach = reach(operation, default_security.as_ref());
        let error_body = match reach.auth {
            Auth::ImportToken => "#/components/schemas/InboundErrorBody",
            Auth::Public | Auth::AdminKey => "#/components/schemas/ErrorBody",
        };
        let Some(responses) = operation
            .as_object_mut()
            .map(|operation| operation.entry("responses").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for rejection in REJECTIONS
            .iter()
            .filter(|rejection| (rejection.applies)(&reach))
        {
            let response = responses
                .entry(rejection.status)
                .or_insert_with(|| json!({"description": rejection.description}));
            complete_error_response(response, error_body);
            add_headers(response, rejection.headers);
        }
        // A handler's own error statuses carry the same body.
        for (status, response) in responses.iter_mut() {
            if status.starts_with('4') || status.starts_with('5') {
                complete_error_response(response, error_body);
            }
        }
        sort_by_status(responses);
    }
}

/// Gives an error response the error body, when its handler named none.
fn complete_error_response(response: &mut Value, error_body: &str) {
    if let Some(response) = response.as_object_mut() {
        response
            .entry("content")
            .or_insert_with(|| json!({"application/json": {"schema": {"$ref": error_body}}}));
    }
}

/// Documents the headers a rejection's answer carries.
fn add_headers(response: &mut Value, headers: &[(&str, &str)]) {
    if headers.is_empty() {
        return;
    }
    let Some(documented) = response
        .as_object_mut()
        .map(|response| response.entry("headers").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, description) in headers {
        documented
            .entry(*name)
            .or_insert_with(|| json!({"description": description, "schema": {"type": "string"}}));
    }
}

/// Puts the responses in status order, for readers.
fn sort_by_status(responses: &mut Map<String, Value>) {
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    responses.extend(sorted);
}

/// How `operation` is reached; `default_security` is the document's.
pub(super) fn reach(operation: &Value, default_security: Option<&Value>) -> Reach {
    let security = operation.get("security").or(default_security);
    let schemes: Vec<&str> = security
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().map(String::as_str))
        .collect();
    let auth = if schemes.contains(&"webhook_import_token") {
        Auth::ImportToken
    } else if schemes.contains(&"admin_api_key") {
        Auth::AdminKey
    } else {
        Auth::Public
    };
    let parameters_in = |place: &str| {
        operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|parameter| parameter.get("in").and_then(Value::as_str) == Some(place))
    };
    let content_types: Vec<&str> = operation
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|content| content.keys().map(String::as_str))
        .collect();
    let is_json = |content_type: &&str| {
        *content_type == "application/json" || content_type.ends_with("+json")
    };
    let body = if content_types.is_empty() {
        None
    } else if !content_types.iter().any(is_json) {
        Some(Body::Bytes)
    } else if auth == Auth::ImportToken {
        Some(Body::AnyContentType)
    } else {
        Some(Body::Json)
    };
    Reach {
        auth,
        path_ids: parameters_in("path"),
        query: parameters_in("query"),
        body,
    }
}
