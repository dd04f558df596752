//! A delivery's page: the payload (raw and pretty), every attempt with
//! its request (secrets redacted as logged), response, duration and error,
//! "copy as curl", and Resend through the API's own rules.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::http::AppState;
use crate::storage::deliveries::{self, Attempt};
use crate::storage::webhooks;
use crate::ui::session::Session;
use crate::ui::{Flash, Layout, UiResult, display_time, page, redirect_with_flash};

/// A body as sent, and pretty-printed when it is JSON.
struct Body {
    raw: String,
    pretty: Option<String>,
}

fn body(raw: Option<String>) -> Option<Body> {
    raw.filter(|raw| !raw.is_empty()).map(|raw| Body {
        pretty: serde_json::from_str::<Value>(&raw)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .filter(|pretty| *pretty != raw),
        raw,
    })
}

/// A stored JSON object of headers, one `name: value` per line.
fn header_lines(stored: Option<&str>) -> Vec<(String, String)> {
    let Some(Value::Object(headers)) = stored.and_then(|text| serde_json::from_str(text).ok())
    else {
        return Vec::new();
    };
    headers
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (name, value)
        })
        .collect()
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The attempt's request as a curl command (with the log's redactions).
fn curl(attempt: &Attempt, headers: &[(String, String)]) -> Option<String> {
    let url = attempt.log.url.as_deref()?;
    let method = attempt.log.method.as_deref().unwrap_or("POST");
    let mut command = format!("curl -X {method} {}", shell_quote(url));
    for (name, value) in headers {
        command.push_str(&format!(
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        ));
    }
    if let Some(request_body) = attempt
        .log
        .request_body
        .as_deref()
        .filter(|body| !body.is_empty())
    {
        command.push_str(&format!(" \\\n  --data-raw {}", shell_quote(request_body)));
    }
    Some(command)
}

struct AttemptView {
    index: usize,
    when: String,
    triggered_by: String,
    url: String,
    method: String,
    request_headers: Vec<(String, String)>,
    request_body: Option<Body>,
    response_status: Option<i64>,
    response_headers: Vec<(String, String)>,
    response_body: Option<Body>,
    duration: String,
    error: Option<String>,
    curl: Option<String>,
}

#[derive(Template)]
#[template(path = "delivery.html")]
struct DeliveryPage {
    layout: Layout,
    webhook_id: String,
    webhook_name: String,
    id: String,
    summary: Vec<(&'static str, String)>,
    lead: Option<String>,
    payload: Option<Body>,
    lightweight: bool,
    attempts: Vec<AttemptView>,
}

pub(super) async fn delivery(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path((id, delivery_id)): Path<(String, String)>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    let delivery = deliveries::get(&state.db, &session.account_id, &id, &delivery_id).await?;
    let attempts = deliveries::attempts(&state.db, &delivery_id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(index, attempt)| {
            let request_headers = header_lines(attempt.log.request_headers.as_deref());
            AttemptView {
                index: index + 1,
                curl: curl(&attempt, &request_headers),
                when: display_time(attempt.attempted_at),
                triggered_by: attempt.triggered_by.clone(),
                url: attempt.log.url.clone().unwrap_or_default(),
                method: attempt.log.method.clone().unwrap_or_default(),
                request_headers,
                request_body: body(attempt.log.request_body.clone()),
                response_status: attempt.log.response_status,
                response_headers: header_lines(attempt.log.response_headers.as_deref()),
                response_body: body(attempt.log.response_body.clone()),
                duration: format!("{:.1} ms", attempt.log.duration_us as f64 / 1_000.0),
                error: attempt.log.error.clone(),
            }
        })
        .collect();
    let lightweight = webhook.settings.lightweight_logs;
    let summary = vec![
        ("Event", delivery.event_type.clone()),
        ("Status", delivery.status.to_string()),
        ("Attempts", delivery.attempt_count.to_string()),
        (
            "Next attempt",
            delivery
                .next_attempt_at
                .map(display_time)
                .unwrap_or_default(),
        ),
        ("Created", display_time(delivery.created_at)),
    ];
    Ok(page(&DeliveryPage {
        layout: Layout::new(
            &session,
            flash,
            format!("Delivery {delivery_id}"),
            "webhooks",
        ),
        webhook_id: webhook.id,
        webhook_name: webhook.settings.name,
        id: delivery.id,
        summary,
        lead: delivery.lead_id,
        // Lightweight logs keep no payloads, as the API shows none.
        payload: if lightweight {
            None
        } else {
            body(delivery.payload_body)
        },
        lightweight,
        attempts,
    }))
}

pub(super) async fn resend(
    State(state): State<AppState>,
    session: Session,
    Path((id, delivery_id)): Path<(String, String)>,
) -> UiResult {
    let delivery =
        crate::http::webhooks::resend(&state, &session.account_id, &id, &delivery_id).await?;
    Ok(redirect_with_flash(
        &format!("/webhooks/{id}/deliveries/{}", delivery.id),
        "Queued to be sent again now, with the same message id.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
    }

    #[test]
    fn headers_are_listed_from_their_stored_json() {
        let lines = header_lines(Some(r#"{"content-type": "application/json", "x-n": 1}"#));
        assert_eq!(
            lines,
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("x-n".to_owned(), "1".to_owned())
            ]
        );
        assert!(header_lines(Some("not json")).is_empty());
        assert!(header_lines(None).is_empty());
    }
}
