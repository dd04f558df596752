//! "Recover failed deliveries" of a webhook: pick a time, see how many
//! deliveries failed since then, send them again (at most
//! [`MAX_RECOVER`] per click, oldest first) and see how many were queued
//! and how many are still failed. Backed by the API's own
//! [`crate::http::webhooks::recover`].

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{Duration, NaiveDateTime, Utc};
use serde::Deserialize;

use super::session::Session;
use super::{Flash, Layout, UiError, UiForm, UiResult, display_time, redirect_with_flash, render};
use crate::http::AppState;
use crate::http::webhooks::{MAX_RECOVER, Recovery, recover};
use crate::storage::webhooks;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/webhooks/{id}/recover",
        get(recover_form).post(recover_now),
    )
}

/// The form's value: a UTC time as `<input type="datetime-local">` sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SinceForm {
    since: String,
}

/// `2026-11-30T08:00` (or with seconds), taken as UTC, in µs.
fn parse_since(text: &str) -> Result<i64, UiError> {
    let text = text.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|time| time.and_utc().timestamp_micros())
        .ok_or_else(|| {
            UiError::new(
                StatusCode::BAD_REQUEST,
                format!("“Failed since” must be a date and time such as 2026-11-30T08:00 (UTC); “{text}” is not."),
            )
        })
}

/// What the form field shows for a time (µs): minutes, as the input takes.
fn field_value(micros: i64) -> String {
    chrono::DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|time| time.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// What a count found, for the page.
struct Found {
    since: String,
    failed: i64,
    /// How many one click sends.
    batch: i64,
}

#[derive(Template)]
#[template(path = "recover.html")]
struct RecoverPage {
    layout: Layout,
    webhook_id: String,
    webhook_name: String,
    since: String,
    max: i64,
    found: Option<Found>,
    refusal: Option<String>,
}

/// Without `since`: the form, set to a day ago. With it: the count, and the
/// button that sends them.
async fn recover_form(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path(id): Path<String>,
    Query(query): Query<SinceForm>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    let mut page = RecoverPage {
        layout: Layout::new(
            &session,
            flash,
            format!("Recover failed deliveries · {}", webhook.settings.name),
            "webhooks",
        ),
        webhook_id: webhook.id.clone(),
        webhook_name: webhook.settings.name.clone(),
        since: query.since.trim().to_owned(),
        max: MAX_RECOVER,
        found: None,
        refusal: None,
    };
    if page.since.is_empty() {
        let a_day_ago = (Utc::now() - Duration::days(1)).timestamp_micros();
        page.since = field_value(a_day_ago);
        return Ok(render(StatusCode::OK, &page));
    }
    let since = parse_since(&page.since)?;
    match recover(&state, &session.account_id, &id, since, Recovery::Count).await {
        Ok(counted) => {
            page.found = Some(Found {
                since: display_time(since),
                failed: counted.failed,
                batch: counted.failed.min(MAX_RECOVER),
            });
            Ok(render(StatusCode::OK, &page))
        }
        Err(error) => {
            let (status, message) = UiError::from(error).status_and_message();
            if status == StatusCode::CONFLICT {
                page.refusal = Some(message);
                Ok(render(status, &page))
            } else {
                Err(UiError::new(status, message))
            }
        }
    }
}

async fn recover_now(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<SinceForm>,
) -> UiResult {
    let since = parse_since(&form.since)?;
    let done = recover(
        &state,
        &session.account_id,
        &id,
        since,
        Recovery::Requeue { limit: MAX_RECOVER },
    )
    .await?;
    let mut message = format!(
        "{} of {} failed deliveries since {} queued to be sent again.",
        done.requeued,
        done.failed,
        display_time(since)
    );
    if done.remaining > 0 {
        message.push_str(&format!(
            " {} are still failed: recover again to send the next {}.",
            done.remaining,
            done.remaining.min(MAX_RECOVER)
        ));
    }
    Ok(redirect_with_flash(&format!("/webhooks/{id}"), &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_the_form_are_utc() {
        assert_eq!(
            parse_since("2026-11-23T00:00").ok(),
            Some(1_795_392_000_000_000)
        );
        assert_eq!(
            parse_since(" 2026-11-23T00:00:30 ").ok(),
            Some(1_795_392_030_000_000)
        );
        assert!(parse_since("yesterday").is_err());
        assert_eq!(field_value(1_795_392_030_000_000), "2026-11-23T00:00");
    }
}
