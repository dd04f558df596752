//! The outbound webhooks screens: the list with each webhook's health (last
//! response, failing since, deactivated and why); a webhook's page with its
//! settings, activation, delete, and its deliveries (filtered by status,
//! paged by cursor); a delivery's page with every attempt (request with
//! secrets redacted, response, duration, error, "copy as curl") and
//! Resend; and the delivery log across all webhooks, filtered by webhook,
//! status, event, lead and date. Creating and editing webhooks is API-only for now. Backed by
//! [`crate::storage::webhooks`] and [`crate::storage::deliveries`], and the
//! API's own resend rules.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiResult, display_time, page, redirect_with_flash,
};
use crate::domain::delivery::DeliveryStatus;
use crate::domain::webhook::EventName;
use crate::http::AppState;
use crate::storage::deliveries::{self, Attempt, Delivery};
use crate::storage::delivery_search::{self, DeliveryFilter};
use crate::storage::webhooks::{self, Webhook};

/// Deliveries per page.
const PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list))
        .route("/deliveries", get(all_deliveries))
        .route("/webhooks/{id}", get(show))
        .route("/webhooks/{id}/activate", post(activate))
        .route("/webhooks/{id}/test", post(send_test))
        .route("/webhooks/{id}/deactivate", post(deactivate))
        .route("/webhooks/{id}/delete", get(confirm_delete).post(delete))
        .route(
            "/webhooks/{id}/regenerate-secret",
            get(confirm_regenerate_secret).post(regenerate_secret),
        )
        .route("/webhooks/{id}/deliveries/{delivery}", get(delivery))
        .route("/webhooks/{id}/deliveries/{delivery}/resend", post(resend))
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
    Ok(page(&WebhooksPage {
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
struct DeliveriesQuery {
    #[serde(default)]
    status: String,
    before: Option<String>,
    /// `secret` opens the signing secret.
    #[serde(default)]
    reveal: String,
}

async fn show(
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
            serde_json::to_string(&settings.conditions).unwrap_or_default(),
        ),
        (
            "Payload format",
            settings.payload_format.as_str().to_owned(),
        ),
        ("Timeout", format!("{} s", settings.timeout.as_secs())),
        ("Retries after", retries),
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

async fn activate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, true).await
}

async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, false).await
}

async fn confirm_delete(
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

async fn delete(
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
/// and the answer got.
async fn send_test(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let sent =
        crate::http::webhooks::send_test(&state, &session.account_id, &session.actor, &id).await?;
    let answer = match (sent.status, &sent.error) {
        (Some(status), _) => format!("the receiver answered HTTP {status}"),
        (None, Some(error)) => format!("it failed: {error}"),
        (None, None) => "no answer".to_owned(),
    };
    Ok(redirect_with_flash(
        &format!("/webhooks/{id}/deliveries/{}", sent.message_id),
        &format!(
            "Test sent in {:.1} ms; {answer}. The request and the answer are below.",
            sent.duration_ms
        ),
    ))
}

async fn confirm_regenerate_secret(
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

async fn regenerate_secret(
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

async fn delivery(
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

async fn resend(
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

struct LogRow {
    id: String,
    webhook_id: String,
    webhook: String,
    event: String,
    lead: Option<String>,
    status: String,
    outcome: String,
    created: String,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    layout: Layout,
    webhooks: Vec<(String, String)>,
    events: Vec<&'static str>,
    query: LogQuery,
    rows: Vec<LogRow>,
    next: Option<String>,
    paged: bool,
    filtered: bool,
}

/// The delivery log's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogQuery {
    webhook: String,
    status: String,
    event: String,
    lead: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    from: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    to: String,
    before: String,
}

impl LogQuery {
    /// The query string of these filters (without the cursor).
    fn filters(&self) -> String {
        [
            ("webhook", &self.webhook),
            ("status", &self.status),
            ("event", &self.event),
            ("lead", &self.lead),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", super::leads::encode(value.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date, plus `days`, in µs.
fn day_start(date: &str, days: i64, field: &str) -> Result<Option<i64>, UiError> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        UiError::new(
            StatusCode::BAD_REQUEST,
            format!("The “{field}” date must look like 2026-11-23; “{date}” does not."),
        )
    })?;
    Ok(day
        .checked_add_days(chrono::Days::new(days.unsigned_abs()))
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc().timestamp_micros()))
}

async fn all_deliveries(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Query(query): Query<LogQuery>,
) -> UiResult {
    let text = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
    let status = text(&query.status)
        .map(|name| parse_status_filter(&name))
        .transpose()?;
    let filter = DeliveryFilter {
        webhook_id: text(&query.webhook),
        status,
        event_type: text(&query.event),
        lead_id: text(&query.lead),
        since: day_start(&query.from, 0, "from")?,
        until: day_start(&query.to, 1, "to")?,
    };
    let before = text(&query.before);
    let mut found = delivery_search::search(
        &state.db,
        &session.account_id,
        &filter,
        before.as_deref(),
        PAGE_SIZE + 1,
    )
    .await?;
    let filters = query.filters();
    let next = if found.len() as i64 > PAGE_SIZE {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|last| {
            let cursor = format!("before={}", last.id);
            if filters.is_empty() {
                format!("/deliveries?{cursor}")
            } else {
                format!("/deliveries?{filters}&{cursor}")
            }
        })
    } else {
        None
    };
    let webhooks: Vec<(String, String)> = webhooks::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|webhook| (webhook.id, webhook.settings.name))
        .collect();
    let name_of = |id: &str| {
        webhooks
            .iter()
            .find(|(webhook, _)| webhook == id)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let rows = found
        .into_iter()
        .map(|delivery| LogRow {
            outcome: delivery_outcome(&delivery),
            created: display_time(delivery.created_at),
            webhook: name_of(&delivery.webhook_id),
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            event: delivery.event_type,
            lead: delivery.lead_id,
            status: delivery.status.to_string(),
        })
        .collect();
    Ok(page(&DeliveriesPage {
        layout: Layout::new(&session, flash, "Deliveries", "webhooks"),
        events: EventName::ALL
            .into_iter()
            .filter(|event| *event != EventName::LeadSaved)
            .map(EventName::as_str)
            .chain([deliveries::BATCH_EVENT, deliveries::TEST_EVENT])
            .collect(),
        filtered: !filters.is_empty(),
        paged: before.is_some(),
        webhooks,
        query,
        rows,
        next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_utc_days() {
        assert_eq!(
            day_start("2026-11-23", 0, "from").ok().flatten(),
            Some(1_795_392_000_000_000)
        );
        assert_eq!(
            day_start("2026-11-23", 1, "to").ok().flatten(),
            Some(1_795_478_400_000_000)
        );
        assert!(day_start("", 0, "from").ok().flatten().is_none());
        assert!(day_start("23/11/2026", 0, "from").is_err());
    }

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
