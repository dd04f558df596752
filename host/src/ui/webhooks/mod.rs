//! The outbound webhooks screens, one concept per file:
//!
//! - here: the list with each webhook's health (last response, failing
//!   since, deactivated and why), and what the other screens share;
//! - `page`: a webhook's page with its settings, activation, test send,
//!   signing secret, delete, and its deliveries (filtered by status, paged
//!   by cursor);
//! - `form`: creating and editing a webhook with every setting the API
//!   takes, checked by the API's own [`crate::http::webhooks::WebhookInput`];
//!   `fields` reads the form as typed and shows stored settings in it,
//!   `input` turns it into that input, `credentials` reads its auth
//!   (an empty secret keeps the stored one), `errors` places refusals
//!   next to their fields;
//! - `preview`: a payload rendered for a sample event from the form's
//!   current format (the template editor's live preview);
//! - `delivery`: a delivery's page with every attempt (request with secrets
//!   redacted, response, duration, error, "copy as curl") and Resend;
//! - `log`: the delivery log across all webhooks, filtered by webhook,
//!   status, event, lead and date.
//!
//! Backed by [`crate::storage::webhooks`] and [`crate::storage::deliveries`],
//! and the API's own rules.

mod credentials;
mod delivery;
mod errors;
mod fields;
mod form;
mod input;
mod log;
mod page;
mod preview;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::session::Session;
use super::{Flash, Layout, UiError, UiResult, display_time, page as render_page};
use crate::domain::delivery::DeliveryStatus;
use crate::http::AppState;
use crate::storage::deliveries::{self, Delivery};
use crate::storage::webhooks::{self, Webhook};

/// Deliveries per page.
const PAGE_SIZE: i64 = 50;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(form::create))
        .route("/webhooks/new", get(form::new))
        .route("/webhooks/preview", post(preview::preview))
        .route("/deliveries", get(log::all_deliveries))
        .route("/webhooks/{id}", get(page::show))
        .route("/webhooks/{id}/edit", get(form::edit).post(form::update))
        .route("/webhooks/{id}/activate", post(page::activate))
        .route("/webhooks/{id}/test", post(page::send_test))
        .route("/webhooks/{id}/deactivate", post(page::deactivate))
        .route(
            "/webhooks/{id}/delete",
            get(page::confirm_delete).post(page::delete),
        )
        .route(
            "/webhooks/{id}/regenerate-secret",
            get(page::confirm_regenerate_secret).post(page::regenerate_secret),
        )
        .route(
            "/webhooks/{id}/deliveries/{delivery}",
            get(delivery::delivery),
        )
        .route(
            "/webhooks/{id}/deliveries/{delivery}/resend",
            post(delivery::resend),
        )
}

/// A webhook's state in a word, and why.
struct Health {
    label: &'static str,
    /// `ok`, `warn` or empty, for the badge's colour.
    tone: &'static str,
    detail: Option<String>,
}

fn health(webhook: &Webhook) -> Health {
    match (
        &webhook.disabled_reason,
        webhook.settings.active,
        webhook.failing_since,
    ) {
        (Some(reason), false, _) => Health {
            label: "Deactivated by Switchyard",
            tone: "warn",
            detail: Some(reason.clone()),
        },
        (_, false, _) => Health {
            label: "Inactive",
            tone: "",
            detail: Some("Deactivated by an admin; deliveries wait until it is activated.".into()),
        },
        (_, true, Some(since)) => Health {
            label: "Failing",
            tone: "warn",
            detail: Some(format!(
                "Every attempt has failed since {}.",
                display_time(since)
            )),
        },
        (_, true, None) => Health {
            label: "Active",
            tone: "ok",
            detail: None,
        },
    }
}

struct WebhookRow {
    id: String,
    name: String,
    url: String,
    events: String,
    health: Health,
    last_status: Option<String>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    webhooks: Vec<WebhookRow>,
}

/// A status to filter deliveries by.
fn parse_status_filter(name: &str) -> Result<DeliveryStatus, UiError> {
    DeliveryStatus::parse_filter(name).map_err(|_| {
        UiError::new(
            StatusCode::BAD_REQUEST,
            "Filter by status pending, succeeded or failed.",
        )
    })
}

/// How the last delivery went, in a few words.
fn delivery_outcome(delivery: &Delivery) -> String {
    match (delivery.last_response_status, &delivery.last_error) {
        (Some(status), _) => format!("HTTP {status} ({})", delivery.status),
        (None, Some(error)) => format!("{} ({})", error, delivery.status),
        (None, None) => delivery.status.to_string(),
    }
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    let mut rows = Vec::new();
    for webhook in webhooks::list(&state.db, &session.account_id).await? {
        let last = deliveries::list_for_webhook(
            &state.db,
            &session.account_id,
            &webhook.id,
            None,
            None,
            1,
        )
        .await?;
        rows.push(WebhookRow {
            health: health(&webhook),
            last_status: last.first().map(delivery_outcome),
            events: event_names(&webhook),
            id: webhook.id,
            name: webhook.settings.name,
            url: webhook.settings.url,
        });
    }
    Ok(render_page(&WebhooksPage {
        layout: Layout::new(&session, flash, "Webhooks", "webhooks"),
        webhooks: rows,
    }))
}

fn event_names(webhook: &Webhook) -> String {
    webhook
        .settings
        .events
        .iter()
        .map(|event| event.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
