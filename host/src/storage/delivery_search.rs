//! Finding deliveries across all of an account's webhooks, for the admin
//! UI's delivery log: filtered by webhook, status, event, lead and creation
//! time, newest first, paged by id like
//! [`super::deliveries::list_for_webhook`].
//!
//! Two filters have indexes of their own (migration
//! `20261201600001_delivery_log_lookups`): failed deliveries are read from
//! the partial index `deliveries_failed`, which the statement can only use
//! when it names the status as a literal (a bound `status = $n` proves
//! nothing about the index's predicate in a generic plan, nor to SQLite),
//! and a lead's deliveries are found through its events
//! (`lead_events_delivered`, which holds only the events that made
//! deliveries, then `deliveries_event`).

use super::deliveries::{DELIVERY_COLUMNS, Delivery};
use super::sql::{self, Arg};
use super::{Database, StoreResult};
use crate::domain::delivery::DeliveryStatus;

/// What to look for; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeliveryFilter {
    pub webhook_id: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    pub lead_id: Option<String>,
    /// Created at or after (µs).
    pub since: Option<i64>,
    /// Created before (µs).
    pub until: Option<i64>,
}

/// Up to `limit` deliveries matching `filter` with ids below `before`,
/// newest first.
pub(crate) async fn search(
    db: &Database,
    account_id: &str,
    filter: &DeliveryFilter,
    before: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let mut sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE account_id = $1");
    let mut args: Vec<Arg<'_>> = vec![account_id.into()];
    // ` AND {condition} ${n}`, `arg` bound as `$n`, with `tail` after it.
    let mut condition = |condition: &str, arg: Arg<'static>, tail: &str| {
        args.push(arg);
        sql.push_str(&format!(" AND {condition} ${}{tail}", args.len()));
    };
    if let Some(webhook) = &filter.webhook_id {
        condition("webhook_id =", webhook.clone().into(), "");
    }
    if let Some(event) = &filter.event_type {
        condition("event_type =", event.clone().into(), "");
    }
    if let Some(lead) = &filter.lead_id {
        // Every delivery with a lead was made for one of the lead's events,
        // and only events that made deliveries are indexed by lead (the
        // literal `delivery_count > 0` lets both engines use that index).
        condition(
            "event_id IN (SELECT id FROM lead_events WHERE delivery_count > 0 AND lead_id =",
            lead.clone().into(),
            ")",
        );
    }
    if let Some(since) = filter.since {
        condition("created_at >=", since.into(), "");
    }
    if let Some(until) = filter.until {
        condition("created_at <", until.into(), "");
    }
    if let Some(before) = before {
        condition("id <", before.to_owned().into(), "");
    }
    if let Some(status) = filter.status {
        // A literal from a closed set, never the user's text.
        sql.push_str(&format!(" AND status = '{}'", status.as_str()));
    }
    args.push(limit.into());
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
    sql::fetch_all(db.reader(), &sql, &args).await
}
