//! Who made a change: recorded as the source of funnel events and sent as
//! the `actor` of outbound events.

use serde::Serialize;
use utoipa::ToSchema;

/// The kind of caller that made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActorKind {
    /// A call to the admin API, made with an admin API key.
    AdminApiKey,
    /// An inbound request authenticated with a webhook import's token.
    WebhookImport,
}

impl ActorKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ActorKind::AdminApiKey => "admin_api_key",
            ActorKind::WebhookImport => "webhook_import",
        }
    }

    pub(crate) fn parse(stored: &str) -> Option<Self> {
        match stored {
            "admin_api_key" => Some(ActorKind::AdminApiKey),
            "webhook_import" => Some(ActorKind::WebhookImport),
            _ => None,
        }
    }
}

/// A caller, by kind, id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
    pub name: String,
}
