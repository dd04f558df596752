//! How Switchyard authenticates to a webhook's receiver (none, HTTP Basic,
//! a bearer token, or headers of the admin's choosing), the headers that
//! auth adds, and how its secrets are redacted in API answers and logs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::InvalidInput;

/// How Switchyard authenticates to the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum WebhookAuth {
    // The titles name each kind in the OpenAPI document (and so in the
    // generated clients).
    #[schema(title = "NoAuth")]
    None,
    #[schema(title = "BasicAuth")]
    Basic {
        /// Without `:` (Basic's separator) or control characters.
        #[schema(pattern = r"^[^:\u0000-\u001f\u007f-\u009f]*$")]
        username: String,
        /// Without control characters.
        #[schema(pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
        password: String,
    },
    #[schema(title = "BearerAuth")]
    Bearer {
        /// Not empty; without control characters.
        #[schema(min_length = 1, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
        token: String,
    },
    /// Headers sent as they are, e.g. `{"X-Api-Key": "..."}`.
    #[schema(title = "HeadersAuth")]
    Headers {
        #[schema(schema_with = auth_headers_schema)]
        headers: BTreeMap<String, String>,
    },
}

/// The document's schema of [`WebhookAuth::Headers`]' map: what
/// [`WebhookAuth::validate`] accepts, said so that generated clients and
/// tools send only that.
fn auth_headers_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let text = |pattern: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .build()
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Header name to value. Names are HTTP tokens, other than the headers Switchyard \
             sets itself (content-type, content-length, host, user-agent, webhook-id, \
             webhook-timestamp, webhook-signature, x-webhook-secret, x-hmac-signature, in \
             any case); values have no control characters.",
        ))
        .property_names(Some(text(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")))
        .additional_properties(Some(utoipa::openapi::schema::Schema::Object(text(
            r"^[^\u0000-\u001f\u007f-\u009f]*$",
        ))))
        .build()
}

/// What a redacted credential reads as in API answers and delivery logs.
pub(crate) const REDACTED: &str = "[redacted]";

impl WebhookAuth {
    /// The headers this auth adds to every request.
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        use base64::Engine;
        match self {
            WebhookAuth::None => Vec::new(),
            WebhookAuth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                vec![("authorization".into(), format!("Basic {encoded}"))]
            }
            WebhookAuth::Bearer { token } => {
                vec![("authorization".into(), format!("Bearer {token}"))]
            }
            WebhookAuth::Headers { headers } => headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                .collect(),
        }
    }

    /// The same auth with its secrets replaced, for API answers.
    pub(crate) fn redacted(&self) -> WebhookAuth {
        match self {
            WebhookAuth::None => WebhookAuth::None,
            WebhookAuth::Basic { username, .. } => WebhookAuth::Basic {
                username: username.clone(),
                password: REDACTED.into(),
            },
            WebhookAuth::Bearer { .. } => WebhookAuth::Bearer {
                token: REDACTED.into(),
            },
            WebhookAuth::Headers { headers } => WebhookAuth::Headers {
                headers: headers
                    .keys()
                    .map(|name| (name.clone(), REDACTED.into()))
                    .collect(),
            },
        }
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidInput> {
        let header_safe = |field: &str, value: &str| {
            if value.chars().any(|c| c.is_control()) {
                Err(InvalidInput(format!(
                    "auth {field} must not contain control characters"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            WebhookAuth::None => Ok(()),
            WebhookAuth::Basic { username, password } => {
                if username.contains(':') {
                    return Err(InvalidInput(
                        "auth username must not contain `:` (HTTP Basic uses it as the separator)"
                            .into(),
                    ));
                }
                header_safe("username", username)?;
                header_safe("password", password)
            }
            WebhookAuth::Bearer { token } => {
                if token.is_empty() {
                    return Err(InvalidInput("auth token must not be empty".into()));
                }
                header_safe("token", token)
            }
            WebhookAuth::Headers { headers } => {
                for (name, value) in headers {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(InvalidInput(format!(
                            "auth header name `{name}` is not a valid HTTP header name"
                        )));
                    }
                    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                        return Err(InvalidInput(format!(
                            "auth header `{name}` is set by Switchyard and cannot be overridden"
                        )));
                    }
                    header_safe(&format!("header `{name}`"), value)?;
                }
                Ok(())
            }
        }
    }

    /// Header names whose values are secrets, to redact in delivery logs.
    pub(crate) fn secret_header_names(&self) -> Vec<String> {
        match self {
            WebhookAuth::None => Vec::new(),
            WebhookAuth::Basic { .. } | WebhookAuth::Bearer { .. } => vec!["authorization".into()],
            WebhookAuth::Headers { headers } => headers
                .keys()
                .map(|name| name.to_ascii_lowercase())
                .collect(),
        }
    }
}

/// Headers Switchyard sets itself.
pub(crate) const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-secret",
    "x-hmac-signature",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_header_rules_are_the_checked_ones() {
        let schema = serde_json::to_value(auth_headers_schema()).expect("JSON");
        let description = schema["description"].as_str().expect("a description");
        for reserved in RESERVED_HEADERS {
            assert!(
                description.contains(reserved),
                "{reserved} is not documented"
            );
        }
        let name = regex_lite(&schema["propertyNames"]["pattern"]);
        for (header, accepted) in [("X-Api-Key", true), ("bad header", false), ("a:b", false)] {
            let auth = WebhookAuth::Headers {
                headers: [(header.to_owned(), "v".to_owned())].into(),
            };
            assert_eq!(auth.validate().is_ok(), accepted, "{header}");
            assert_eq!(name(header), accepted, "{header}");
        }
    }

    /// The token pattern's class, applied by hand (the crate has no regex
    /// engine): every character is one the class lists.
    fn regex_lite(pattern: &serde_json::Value) -> impl Fn(&str) -> bool {
        let pattern = pattern.as_str().expect("a pattern");
        assert_eq!(pattern, r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$");
        |text: &str| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+.^_`|~-".contains(c))
        }
    }

    #[test]
    fn auth_headers_and_redaction() {
        let basic = WebhookAuth::Basic {
            username: "ada".into(),
            password: "s3cret".into(),
        };
        assert_eq!(
            basic.headers(),
            vec![(
                "authorization".to_owned(),
                "Basic YWRhOnMzY3JldA==".to_owned()
            )]
        );
        assert_eq!(
            basic.redacted(),
            WebhookAuth::Basic {
                username: "ada".into(),
                password: REDACTED.into()
            }
        );
        let headers = WebhookAuth::Headers {
            headers: BTreeMap::from([("X-Api-Key".to_owned(), "k".to_owned())]),
        };
        assert_eq!(
            headers.headers(),
            vec![("x-api-key".to_owned(), "k".to_owned())]
        );
        assert_eq!(headers.secret_header_names(), vec!["x-api-key".to_owned()]);
    }

    #[test]
    fn auth_validation_names_the_problem() {
        let reserved = WebhookAuth::Headers {
            headers: BTreeMap::from([("Webhook-Signature".to_owned(), "x".to_owned())]),
        };
        assert!(
            reserved
                .validate()
                .unwrap_err()
                .0
                .contains("set by Switchyard")
        );
        let bad_name = WebhookAuth::Headers {
            headers: BTreeMap::from([("bad header".to_owned(), "x".to_owned())]),
        };
        assert!(
            bad_name
                .validate()
                .unwrap_err()
                .0
                .contains("not a valid HTTP header name")
        );
        let newline = WebhookAuth::Bearer {
            token: "a\nb".into(),
        };
        assert!(
            newline
                .validate()
                .unwrap_err()
                .0
                .contains("control characters")
        );
    }
}
