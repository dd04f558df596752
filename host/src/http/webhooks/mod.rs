//! `/api/v1/webhooks`: outbound subscriptions, split the way svix splits
//! its endpoint resource:
//!
//! - `crud`: create, list, read, update, delete; activate, deactivate,
//!   regenerate the signing secret;
//! - `input`: the fields an admin sends, the PATCH merge over the current
//!   settings and its checks;
//! - `try_out`: preview a payload, send a test event;
//! - `deliveries`: list a webhook's deliveries, read one with its
//!   attempts, resend one;
//! - `recovery`: send every delivery that failed since a time again, in
//!   bounded steps;
//! - `views`: what the API answers.
//!
//! The settings themselves are [`crate::domain::webhook`].

mod crud;
mod deliveries;
mod input;
mod recovery;
mod try_out;
mod views;

use utoipa_axum::router::OpenApiRouter;

pub(crate) use deliveries::resend;
pub(crate) use input::{WebhookInput, check_settings};
pub(crate) use recovery::{MAX_RECOVER, Recovery, recover};
pub(crate) use try_out::send_test;

use super::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(crud::router())
        .merge(try_out::router())
        .merge(deliveries::router())
        .merge(recovery::router())
}
