//! [`Deliverer`]: renders a payload with the webhook's payload builder
//! plugin, and signs and sends it, filling the attempt's log. The worker,
//! test sends and previews all go through it. What the request carries and
//! what the log keeps are decided in [`super::request`].

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{Value, json};

use super::micros;
use super::request::{Credentials, log_response, redacted_for_log, signed_headers, with_query};
use crate::domain::plugin::PluginKind;
use crate::domain::time::now_micros;
use crate::domain::webhook::WebhookMethod;
use crate::outbound::client::{OutboundRequest, OutboundResponse, SendError, WebhookClient};
use crate::outbound::payload::{
    BuiltPayload, Envelope, EventData, event_document, payload_from_output,
};
use crate::plugins::abi;
use crate::plugins::registry::{PluginRegistry, RegistryError};
use crate::storage::deliveries::{AttemptLog, ClaimedDelivery, RenderedPayload};
use crate::storage::lead_events::StoredEvent;
use crate::storage::leads::{FunnelEventView, LeadStageView};
use crate::storage::webhooks::Webhook;
use crate::storage::{Database, StoreError, funnel_history, funnel_stages};

/// Renders, signs and sends one message. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Deliverer {
    pub db: Database,
    pub plugins: PluginRegistry,
    pub client: WebhookClient,
}

/// Why a payload could not be built.
#[derive(Debug, thiserror::Error)]
#[error("payload builder {plugin_id} failed: {message}")]
pub(crate) struct RenderError {
    pub plugin_id: String,
    pub message: String,
    /// The plugin could not be loaded (a database error): worth retrying,
    /// unlike a plugin that ran and failed, which fails the same way again.
    pub transient: bool,
}

/// One attempt's request, response and log.
#[derive(Debug)]
pub(crate) struct Sent {
    pub log: AttemptLog,
    pub response: Result<OutboundResponse, SendError>,
}

impl Deliverer {
    /// Runs the webhook's payload builder on an event document.
    pub(crate) async fn render(
        &self,
        webhook: &Webhook,
        event: &Value,
    ) -> Result<BuiltPayload, RenderError> {
        let format = &webhook.settings.payload_format;
        let plugin_id = format.plugin_id();
        let failed = |message: String, transient: bool| RenderError {
            plugin_id: plugin_id.clone(),
            message,
            transient,
        };
        let plugin = self
            .plugins
            .resolve(&webhook.account_id, &plugin_id, PluginKind::PayloadBuilder)
            .await
            .map_err(|error| match error {
                RegistryError::Store(StoreError::Database(database)) => {
                    failed(database.to_string(), true)
                }
                other => failed(other.to_string(), false),
            })?;
        let document = abi::payload_call(&webhook.settings.payload_config, event);
        let call = self.plugins.call(&plugin, document).await;
        let output = call
            .outcome
            .map_err(|error| failed(error.to_string(), false))?;
        payload_from_output(output).map_err(|error| failed(error.to_string(), false))
    }

    /// Signs and sends a payload to the webhook under `message_id`,
    /// returning what to log. A `GET` carries `query` (the envelope) instead
    /// of a body.
    pub(crate) async fn send(
        &self,
        webhook: &Webhook,
        message_id: &str,
        query: &[(&'static str, String)],
        payload: &BuiltPayload,
    ) -> Sent {
        let settings = &webhook.settings;
        let (url, body) = match settings.method {
            WebhookMethod::Get => (with_query(&settings.url, query), None),
            _ => (settings.url.clone(), Some(payload.body.as_bytes().to_vec())),
        };
        let timestamp = now_micros() / 1_000_000;
        let headers = signed_headers(
            &Credentials::of(webhook),
            message_id,
            timestamp,
            payload,
            body.as_deref(),
        );
        let mut log = AttemptLog {
            url: Some(url.clone()),
            method: Some(settings.method.as_str().to_owned()),
            request_headers: Some(redacted_for_log(&headers, &settings.auth)),
            request_body: body
                .as_ref()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
            ..AttemptLog::default()
        };
        let started = Instant::now();
        let response = self
            .client
            .send(OutboundRequest {
                method: settings.method.into(),
                url,
                headers,
                body,
                timeout: settings.timeout,
            })
            .await;
        log.duration_us = micros(started.elapsed());
        log_response(&mut log, &response);
        Sent { log, response }
    }

    /// The event document for a stored event: the envelope, the lead as the
    /// change left it, the stage it left, and (for formats that show it) the
    /// funnel history as of the event.
    pub(super) async fn event_document(
        &self,
        delivery: &ClaimedDelivery,
        webhook: &Webhook,
        event: &StoredEvent,
        stages: &HashMap<String, LeadStageView>,
    ) -> Result<(Envelope, Value), StoreError> {
        let envelope = Envelope::for_stored(&delivery.id, &webhook.id, event);
        let data = EventData::parse(&event.data);
        let previous = data
            .previous_funnel_stage_id
            .and_then(|id| stages.get(&id).cloned());
        let history = if webhook.settings.payload_format.needs_history() {
            let events = funnel_history::list_as_of(
                &self.db,
                &delivery.account_id,
                &event.lead_id,
                event.occurred_at,
            )
            .await?;
            Some(events.into_iter().map(FunnelEventView::from).collect())
        } else {
            None
        };
        let document = event_document(&envelope, data.lead, previous, history);
        Ok((envelope, document))
    }
}

/// The stages the events' leads left, by id (for `previous_funnel_stage`).
pub(super) async fn previous_stages(
    db: &Database,
    events: impl Iterator<Item = &StoredEvent>,
) -> Result<HashMap<String, LeadStageView>, StoreError> {
    let stage_ids: Vec<String> = events
        .filter_map(|event| EventData::previous_stage_id(&event.data))
        .collect();
    if stage_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let stage_refs: Vec<&str> = stage_ids.iter().map(String::as_str).collect();
    funnel_stages::read_views_by_id(db, &stage_refs).await
}

/// The payload rendered at an earlier attempt, if any.
pub(super) fn stored_payload(delivery: &ClaimedDelivery) -> Option<BuiltPayload> {
    let body = delivery.payload_body.clone()?;
    Some(BuiltPayload {
        body,
        content_type: delivery
            .payload_content_type
            .clone()
            .unwrap_or_else(|| "application/json".into()),
        headers: delivery
            .payload_headers
            .as_deref()
            .and_then(|headers| serde_json::from_str(headers).ok())
            .unwrap_or_default(),
    })
}

/// A payload as stored for retries and resends.
pub(super) fn rendered(payload: &BuiltPayload) -> RenderedPayload {
    RenderedPayload {
        body: payload.body.clone(),
        content_type: payload.content_type.clone(),
        headers: json!(payload.headers).to_string(),
    }
}

/// What a GET sends: no body, so nothing to render.
pub(super) fn empty_payload() -> BuiltPayload {
    BuiltPayload {
        body: String::new(),
        content_type: String::new(),
        headers: BTreeMap::new(),
    }
}
