//! The delivery log across all webhooks, filtered by webhook, status,
//! event, lead and date (whole UTC days), paged by cursor.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{PAGE_SIZE, delivery_outcome, parse_status_filter};
use crate::domain::webhook::EventName;
use crate::http::AppState;
use crate::storage::deliveries;
use crate::storage::delivery_search::{self, DeliveryFilter};
use crate::storage::webhooks;
use crate::ui::session::Session;
use crate::ui::{Flash, Layout, UiError, UiResult, display_time, page};

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
pub(super) struct LogQuery {
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
        .map(|(name, value)| format!("{name}={}", crate::ui::leads::encode(value.trim())))
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

pub(super) async fn all_deliveries(
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
}
