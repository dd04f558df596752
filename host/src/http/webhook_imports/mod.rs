//! `/api/v1/webhook-imports`: the admin side of inbound integrations.
//!
//! - `crud`: create (token shown once), list, read, rename and change the
//!   settings, delete, regenerate the token, activate, deactivate;
//! - `mappings`: the stage-name mappings;
//! - `transform`: attaching and detaching the transform;
//! - `transform_test`: trying one on a sample request;
//! - `views`: what the API answers.

mod crud;
mod mappings;
mod transform;
mod transform_test;
mod views;

use utoipa_axum::router::OpenApiRouter;

pub(crate) use transform::attach_transform;
pub(crate) use transform_test::{InboundSample, TransformTestResult, run_on_sample};
pub(crate) use views::ImportTransform;

use super::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(crud::router())
        .merge(mappings::router())
        .merge(transform::router())
        .merge(transform_test::router())
}
