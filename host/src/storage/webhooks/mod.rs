//! Outbound webhooks (subscriptions).
//!
//! - `crud`: create, read, list, update, delete, activate and deactivate at
//!   the admin's request, regenerate the signing secret (deactivating with
//!   a reason, by Switchyard, is `webhook_health`'s);
//! - `row`: a webhook's columns, and its settings in and out of them;
//! - `subscriptions`: the active subscriptions the outbox matches events
//!   against, cached per account by a version every change bumps.

mod crud;
mod row;
mod subscriptions;

pub(crate) use crud::{
    create, delete, get, get_many, list, regenerate_secret, set_active, update, using_plugin,
};
pub(super) use subscriptions::bump_version;
pub(crate) use subscriptions::{SubscriptionCache, active_subscriptions};

use super::StoreError;
use crate::domain::webhook::WebhookSettings;

/// A stored webhook.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: String,
    pub account_id: String,
    pub settings: WebhookSettings,
    pub signing_secret: String,
    /// Why Switchyard deactivated it (410 Gone, failing for too long).
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) fn webhook_not_found(webhook_id: &str) -> StoreError {
    StoreError::NotFound(format!("Webhook {webhook_id} not found"))
}
