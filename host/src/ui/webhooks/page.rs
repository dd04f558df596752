//! A webhook's page: its settings, health, activation, test send, signing
//! secret (reveal, copy, regenerate), delete, and its deliveries filtered
//! by status and paged by cursor.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{Health, PAGE_SIZE, delivery_outcome, event_names, health, parse_status_filter};
use crate::domain::delivery::DeliveryStatus;
use crate::domain::webhook::{Conditions, WebhookAuth};
use crate::http::AppState;
use crate::storage::deliveries;
use crate::storage::funnel_stages::{self, FunnelStage};
use crate::storage::webhooks;
use crate::ui::session::Session;
use crate::ui::{
    ConfirmPage, Flash, Layout, UiResult, display_time, page, redirect_with_flash,
    redirect_with_warning,
};

struct DeliveryRow {
    id: String,
    event: String,
    lead: Option<String>,
    status: String,
    attempts: i64,
    outcome: String,
    created: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    layout: Layout,
    id: String,
    name: String,
    active: bool,
    health: Health,
    settings: Vec<(&'static str, String)>,
    signing_secret: String,
    /// Open the signing secret (just regenerated).
    reveal_secret: bool,
    status: String,
    deliveries: Vec<DeliveryRow>,
    next: Option<String>,
    paged: bool,
}

#[derive(Deserialize)]
pub(super) struct DeliveriesQuery {
    #[serde(default)]
    status: String,
    before: Option<String>,
    /// `secret` opens the signing secret.
    #[serde(default)]
    reveal: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    let status = match query.status.as_str() {
        "" => None,
        name => Some(parse_status_filter(name)?),
    };
    let before = query.before.as_deref().filter(|before| !before.is_empty());
    let mut found = deliveries::list_for_webhook(
        &state.db,
        &session.account_id,
        &id,
        status,
        before,
        PAGE_SIZE + 1,
    )
    .await?;
    let next = if found.len() as i64 > PAGE_SIZE {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|last| match status {
            Some(status) => format!("/webhooks/{id}?status={status}&before={}", last.id),
            None => format!("/webhooks/{id}?before={}", last.id),
        })
    } else {
        None
    };
    let settings = &webhook.settings;
    let retries = if settings.retry_schedule.is_empty() {
        "none: one attempt".to_owned()
    } else {
        settings
            .retry_schedule
            .iter()
            .map(|seconds| format!("{seconds} s"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_owned();
    let summary = vec![
        (
            "URL",
            format!("{} {}", settings.method.as_str(), settings.url),
        ),
        ("Events", event_names(&webhook)),
        (
            "Conditions",
            conditions_summary(
                &settings.conditions,
                &funnel_stages::list(&state.db, &session.account_id).await?,
            ),
        ),
        ("Authentication", auth_summary(&settings.auth)),
        (
            "Payload format",
            settings.payload_format.as_str().to_owned(),
        ),
        ("Timeout", format!("{} s", settings.timeout.as_secs())),
        ("Retries after", retries),
        (
            "Deliveries in flight",
            format!("at most {} at once", settings.max_in_flight),
        ),
        ("Batching", settings.batching.mode.as_str().to_owned()),
        (
            "X-Webhook-Secret header",
            yes_no(settings.send_secret_header),
        ),
        ("X-Hmac-Signature header", yes_no(settings.send_hmac_header)),
        ("Lightweight logs", yes_no(settings.lightweight_logs)),
        ("Created", display_time(webhook.created_at)),
    ];
    Ok(page(&WebhookPage {
        layout: Layout::new(&session, flash, settings.name.clone(), "webhooks"),
        health: health(&webhook),
        active: settings.active,
        name: settings.name.clone(),
        settings: summary,
        signing_secret: webhook.signing_secret.clone(),
        reveal_secret: query.reveal == "secret",
        status: status
            .map(DeliveryStatus::as_str)
            .unwrap_or_default()
            .to_owned(),
        deliveries: found
            .into_iter()
            .map(|delivery| DeliveryRow {
                outcome: delivery_outcome(&delivery),
                created: display_time(delivery.created_at),
                id: delivery.id,
                event: delivery.event_type,
                lead: delivery.lead_id,
                status: delivery.status.to_string(),
                attempts: delivery.attempt_count,
            })
            .collect(),
        next,
        paged: before.is_some(),
        id,
    }))
}

async fn set_active(state: &AppState, session: &Session, id: &str, active: bool) -> UiResult {
    let webhook = webhooks::set_active(&state.db, &session.account_id, id, active).await?;
    let message = if active {
        format!(
            "“{}” is active; deliveries held while it was inactive go out now.",
            webhook.settings.name
        )
    } else {
        format!(
            "“{}” is inactive; new deliveries wait until it is activated again.",
            webhook.settings.name
        )
    };
    Ok(redirect_with_flash(
        &format!("/webhooks/{}", webhook.id),
        &message,
    ))
}

pub(super) async fn activate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, true).await
}

pub(super) async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, false).await
}

pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete a webhook", "webhooks"),
        heading: format!("Delete the webhook “{}”?", webhook.settings.name),
        message: "No more events are sent to it, and its delivery log is deleted with it.".into(),
        action: format!("/webhooks/{}/delete", webhook.id),
        button: "Delete webhook",
        cancel: format!("/webhooks/{}", webhook.id),
    }))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    webhooks::delete(&state.db, &session.account_id, &id).await?;
    Ok(redirect_with_flash(
        "/webhooks",
        &format!("Webhook “{}” deleted.", webhook.settings.name),
    ))
}

/// Sends a sample event now and opens its delivery, with the request sent
/// and the answer got. A receiver that refused it, or could not be
/// reached, is reported as a warning with its status or error.
pub(super) async fn send_test(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let sent =
        crate::http::webhooks::send_test(&state, &session.account_id, &session.actor, &id).await?;
    let to = format!("/webhooks/{id}/deliveries/{}", sent.message_id);
    let took = format!("{:.1} ms", sent.duration_ms);
    Ok(match (sent.success, sent.status, &sent.error) {
        (true, Some(status), _) => redirect_with_flash(
            &to,
            &format!(
                "Test sent in {took}; the receiver answered HTTP {status}. \
                 The request and the answer are below."
            ),
        ),
        (_, Some(status), _) => redirect_with_warning(
            &to,
            &format!(
                "Test failed: the receiver answered HTTP {status} (after {took}). \
                 The request and the answer are below."
            ),
        ),
        (_, None, Some(error)) => redirect_with_warning(
            &to,
            &format!("Test failed after {took}: {error}. The request is below."),
        ),
        (_, None, None) => redirect_with_warning(
            &to,
            &format!("Test failed after {took}: no answer. The request is below."),
        ),
    })
}

pub(super) async fn confirm_regenerate_secret(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(
            &session,
            Flash::default(),
            "Regenerate the signing secret",
            "webhooks",
        ),
        heading: format!(
            "Regenerate the signing secret of “{}”?",
            webhook.settings.name
        ),
        message: "Requests are signed with the new secret at once: receivers that verify \
                  signatures reject them until they have the new one. The old secret stops \
                  working now."
            .into(),
        action: format!("/webhooks/{}/regenerate-secret", webhook.id),
        button: "Regenerate secret",
        cancel: format!("/webhooks/{}", webhook.id),
    }))
}

pub(super) async fn regenerate_secret(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let webhook = webhooks::regenerate_secret(&state.db, &session.account_id, &id).await?;
    Ok(redirect_with_flash(
        &format!(
            "/webhooks/{}?reveal=secret#signing-secret-heading",
            webhook.id
        ),
        "New signing secret made: give it to the receivers, which must verify with it from now on.",
    ))
}

/// How the webhook authenticates, without its secrets.
fn auth_summary(auth: &WebhookAuth) -> String {
    match auth {
        WebhookAuth::None => "none (signature headers only)".into(),
        WebhookAuth::Basic { username, .. } => format!("HTTP Basic as “{username}”"),
        WebhookAuth::Bearer { .. } => "bearer token".into(),
        WebhookAuth::Headers { headers } => format!(
            "headers {}",
            headers.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The stage conditions in words, by stage title (an id whose stage is
/// gone is shown as it is).
fn conditions_summary(conditions: &Conditions, stages: &[FunnelStage]) -> String {
    let titles = |ids: &[String]| {
        ids.iter()
            .map(|id| {
                stages
                    .iter()
                    .find(|stage| stage.id == *id)
                    .map_or_else(|| id.clone(), |stage| format!("“{}”", stage.title))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parts: Vec<String> = [
        ("stage is one of", &conditions.funnel_stage_in),
        ("stage is none of", &conditions.funnel_stage_not_in),
        ("a stage change to", &conditions.stage_changed_to),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .map(|(label, ids)| format!("{label} {}", titles(ids)))
    .collect();
    if parts.is_empty() {
        "none: every event listened to".into()
    } else {
        parts.join("; ")
    }
}
