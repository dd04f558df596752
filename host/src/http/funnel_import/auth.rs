//! Authenticating an inbound request by its webhook import's Bearer token,
//! and its flood control, before the body is read.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::error::InboundError;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::plugin::Transform;
use crate::domain::stage_matching::StageDirectory;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::bearer_token;
use crate::metrics;
use crate::metrics::record::InboundOutcome;
use crate::storage::webhook_imports;

/// The webhook import an inbound request authenticated as.
#[derive(Debug, Clone)]
pub(crate) struct ImportAuth {
    pub account_id: String,
    /// How this import resolves stage names, read with the token.
    pub directory: Arc<StageDirectory>,
    /// The transform, when one is attached.
    pub transform: Option<Transform>,
    /// Whether the transform's lead records may create leads.
    pub create_leads: bool,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for ImportAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = InboundError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("Authorization token required".into()))?;
        let invalid = || ApiError::Unauthorized("Invalid or inactive webhook import token".into());
        let (import, directory) =
            webhook_imports::authenticate(&state.db, &state.directory_cache, token)
                .await?
                .ok_or_else(invalid)?;
        if import.active == 0 {
            return Err(invalid().into());
        }
        // Flood control, before the body is read: nothing is written.
        let flood = &state.flood_control;
        flood
            .admit_import(&import.id, import.rate_limit)
            .and_then(|()| flood.admit_lead_write(&import.account_id))
            .map_err(|(refusal, error)| {
                metrics::record::inbound(InboundOutcome::Rejected(refusal));
                error
            })?;
        Ok(ImportAuth {
            directory,
            transform: import.transform,
            create_leads: import.create_leads,
            account_id: import.account_id,
            actor: Actor {
                kind: ActorKind::WebhookImport,
                id: import.id,
                name: import.name,
            },
        })
    }
}
