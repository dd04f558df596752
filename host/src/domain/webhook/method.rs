//! The HTTP method a webhook is sent with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::InvalidInput;

/// The methods a webhook can be sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum WebhookMethod {
    Post,
    Put,
    Patch,
    Delete,
    /// Carries no body: the envelope's fields go in the query string.
    Get,
}

impl WebhookMethod {
    pub const ALL: [WebhookMethod; 5] = [
        WebhookMethod::Post,
        WebhookMethod::Put,
        WebhookMethod::Patch,
        WebhookMethod::Delete,
        WebhookMethod::Get,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookMethod::Post => "POST",
            WebhookMethod::Put => "PUT",
            WebhookMethod::Patch => "PATCH",
            WebhookMethod::Delete => "DELETE",
            WebhookMethod::Get => "GET",
        }
    }

    /// A method by name, in any case (`post` or `POST`).
    pub fn parse(name: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                InvalidInput(format!(
                    "method must be one of {}, not `{name}`",
                    Self::ALL.map(Self::as_str).join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_in_any_case_and_round_trip() {
        for method in WebhookMethod::ALL {
            assert_eq!(WebhookMethod::parse(method.as_str()), Ok(method));
        }
        assert_eq!(WebhookMethod::parse("get"), Ok(WebhookMethod::Get));
        let error = WebhookMethod::parse("TRACE").unwrap_err();
        assert_eq!(
            error.0,
            "method must be one of POST, PUT, PATCH, DELETE, GET, not `TRACE`"
        );
    }
}
