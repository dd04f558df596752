//! The inbound funnel import contract: `POST|PATCH
//! /api/v1/webhook-import/update` and `.../batch-update`, authenticated by a
//! webhook import's Bearer token. Responses always carry `success`, and the
//! error messages are part of the contract (DESIGN.md).
//!
//! - `contract`: what the endpoints accept and answer, and the messages of
//!   a record's two failures;
//! - `error`: the `{"success": false, "error": ...}` answer of every error;
//! - `auth`: the import token, and flood control before the body is read;
//! - `single`: `update`, one record;
//! - `batch`: `batch-update`, and applying records each on its own and
//!   reporting each (a transform's records go through it too);
//! - `records`: parsing and resolving each record on its own, funnel
//!   updates and a transform's lead records;
//! - `transform`: running the import's transform on the request as it came.

mod auth;
mod batch;
mod contract;
mod error;
mod records;
mod single;
mod transform;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use utoipa_axum::router::OpenApiRouter;

// The fuzz targets parse requests as the endpoints do.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use contract::{BatchUpdateRequest, FunnelUpdateRecord};
pub(crate) use error::InboundErrorBody;
pub(crate) use records::{RecordKinds, resolve_records};
pub(crate) use transform::{WITHHELD_FROM_TRANSFORMS, check_record_count};

use super::AppState;
use super::error::ApiError;
use super::extract::{body_rejection, parse_json};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(single::router())
        .merge(batch::router())
}

/// Reads a JSON body whatever the `Content-Type` says: CRMs often send JSON
/// as `text/plain` or with no type at all, and what matters is whether the
/// body parses.
fn read_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| body_rejection(rejection, max_body_bytes))?;
    parse_json(&bytes)
}
