//! What an admin sends to create or change a webhook, merged over the
//! current settings (or the defaults) and checked: [`WebhookInput::apply`]
//! checks what needs nothing else, [`check_settings`] what needs the
//! server (the destination policy, the funnel, the payload builder).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::try_out::{probe_webhook, sample, stage_views};
use crate::domain::InvalidInput;
use crate::domain::webhook::{
    BatchMode, Conditions, EventName, PayloadFormat, WebhookAuth, WebhookMethod, WebhookSettings,
    check_retry_schedule, parse_event_list, parse_max_in_flight, parse_timeout,
};
use crate::http::AppState;
use crate::http::api_doc::RetryDelaySeconds;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::AdminAuth;
use crate::http::integers;
use crate::storage::funnel_stages;

/// The fields of a webhook. Creating needs `name`, `url` and `events`;
/// updating (`PATCH`) changes only the fields given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookInput {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// `http://` or `https://`, without credentials (use `auth`); private
    /// and loopback destinations are refused unless the server allows them
    /// (`--outbound-allow-cidr`).
    #[schema(pattern = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s\u0000]*)?$")]
    pub url: Option<String>,
    /// POST (default), PUT, PATCH, DELETE or GET (no body: the envelope goes
    /// in the query string).
    pub method: Option<WebhookMethod>,
    /// lead.created, lead.updated, lead.deleted, lead.stage_changed,
    /// lead.saved (created or updated); at least one.
    #[schema(value_type = Option<Vec<EventName>>, min_items = 1)]
    pub events: Option<Vec<String>>,
    pub conditions: Option<Conditions>,
    pub auth: Option<WebhookAuth>,
    pub send_secret_header: Option<bool>,
    pub send_hmac_header: Option<bool>,
    /// 1 to 60 seconds (default 30).
    #[schema(minimum = 1, maximum = 60)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub timeout_seconds: Option<u64>,
    /// Seconds before each retry (default 5, 300, 1800, 7200, 18000, 36000,
    /// 36000), each with ±20% jitter; a receiver's `Retry-After` replaces it.
    /// At most 20 retries, each at most 7 days after the attempt before it.
    #[schema(value_type = Option<Vec<RetryDelaySeconds>>, max_items = 20)]
    #[serde(default, deserialize_with = "integers::optional_list")]
    pub retry_schedule_seconds: Option<Vec<u64>>,
    /// Deliveries of this webhook a worker process sends at once, 1 to
    /// 1000 (default 64): a receiver that hangs holds no more of the
    /// worker's slots than this, and the other webhooks keep theirs.
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub max_in_flight: Option<u32>,
    /// event-only, small (default), full, template, or an uploaded
    /// payload-builder plugin's id.
    #[schema(pattern = r"^(event-only|small|full|template|plg_[^\s\u0000]+)$")]
    pub payload_format: Option<String>,
    /// The payload builder's config (for `template`: `{"body", "format",
    /// "stage_as_id"}`).
    pub payload_config: Option<Value>,
    /// Keep only status, duration and error of each attempt; such
    /// deliveries cannot be resent.
    pub lightweight_logs: Option<bool>,
    /// Send events together, as one JSON array: none (default), same_event,
    /// same_event_type or any_event. Needs POST and a JSON format other
    /// than full.
    pub batch_mode: Option<BatchMode>,
    /// How long a batch waits for more events, 1 to 900 seconds (default 10).
    #[schema(minimum = 1, maximum = 900)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub batch_wait_seconds: Option<u64>,
    /// A batch goes out at once when it holds this many, 1 to 1000 (default 100).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub max_items_per_batch: Option<u32>,
    pub active: Option<bool>,
}

impl WebhookInput {
    /// These fields applied over `base`, checked (except what needs the
    /// database or the plugins: see [`check_settings`]).
    pub(crate) fn apply(self, mut base: WebhookSettings) -> Result<WebhookSettings, InvalidInput> {
        if let Some(name) = self.name {
            base.name = crate::domain::parse_name(&name)?;
        }
        if let Some(url) = self.url {
            crate::domain::reject_nul("url", &url)?;
            base.url = url.trim().to_owned();
        }
        if let Some(method) = self.method {
            base.method = method;
        }
        if let Some(events) = self.events {
            base.events = parse_event_list(&events)?;
        }
        if let Some(conditions) = self.conditions {
            base.conditions = conditions;
        }
        if let Some(auth) = self.auth {
            auth.validate()?;
            base.auth = auth;
        }
        if let Some(flag) = self.send_secret_header {
            base.send_secret_header = flag;
        }
        if let Some(flag) = self.send_hmac_header {
            base.send_hmac_header = flag;
        }
        if let Some(seconds) = self.timeout_seconds {
            base.timeout = parse_timeout(seconds)?;
        }
        if let Some(schedule) = self.retry_schedule_seconds {
            check_retry_schedule(&schedule)?;
            base.retry_schedule = schedule;
        }
        if let Some(cap) = self.max_in_flight {
            base.max_in_flight = parse_max_in_flight(cap)?;
        }
        let format_changed = self.payload_format.is_some();
        if let Some(format) = self.payload_format {
            base.payload_format = PayloadFormat::parse(&format)?;
        }
        match self.payload_config {
            Some(config) => base.payload_config = config,
            // A new format does not inherit the old one's config.
            None if format_changed => base.payload_config = Value::Null,
            None => {}
        }
        if let Some(flag) = self.lightweight_logs {
            base.lightweight_logs = flag;
        }
        if let Some(mode) = self.batch_mode {
            base.batching.mode = mode;
        }
        if let Some(seconds) = self.batch_wait_seconds {
            base.batching.wait = Duration::from_secs(seconds);
        }
        if let Some(items) = self.max_items_per_batch {
            base.batching.max_items = items;
        }
        base.batching
            .check(base.method, &base.payload_format, &base.payload_config)?;
        if let Some(flag) = self.active {
            base.active = flag;
        }
        Ok(base)
    }
}

impl WebhookInput {
    /// A change to `current`: like [`WebhookInput::apply`], but a change
    /// that is valid by itself (over the defaults) and only breaks a rule
    /// together with the webhook's stored settings (batching turned on for
    /// a webhook that uses PUT, say) is a conflict with its state, a 409,
    /// rather than a 422 blaming a field the request did not send.
    pub(crate) fn apply_change(self, current: WebhookSettings) -> ApiResult<WebhookSettings> {
        match self.clone().apply(current) {
            Ok(settings) => Ok(settings),
            Err(error) if self.apply(WebhookSettings::default()).is_ok() => {
                Err(ApiError::Conflict(format!(
                    "{error}; send the other settings in the same request"
                )))
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The checks that need the server: the URL against the destination
/// policy, condition stages against the account's funnel, and the payload
/// format by rendering a sample event with it (which catches a template
/// with an unknown merge tag, say, before any event is lost to it).
pub(crate) async fn check_settings(
    state: &AppState,
    auth: &AdminAuth,
    settings: &WebhookSettings,
) -> ApiResult<()> {
    let url = state
        .deliverer
        .client
        .check_url(&settings.url)
        .map_err(|error| ApiError::Unprocessable(format!("url: {error}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::Unprocessable(
            "url: credentials in the URL would be shown in every delivery log; \
             use auth {\"type\": \"basic\", ...} instead"
                .into(),
        ));
    }
    let stages = funnel_stages::list(&state.db, &auth.account_id).await?;
    for stage_id in settings.conditions.stage_ids() {
        if !stages.iter().any(|stage| stage.id == stage_id) {
            return Err(ApiError::Unprocessable(format!(
                "conditions: funnel stage {stage_id} does not exist"
            )));
        }
    }
    let probe = probe_webhook(auth, settings.clone());
    let (_, event) = sample(&probe, &auth.actor, &stage_views(stages));
    state
        .deliverer
        .render(&probe, &event)
        .await
        .map_err(|error| ApiError::Unprocessable(format!("payload_format: {error}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::webhook::{BuiltinFormat, EventName};

    fn input(fields: Value) -> WebhookInput {
        serde_json::from_value(fields).expect("a valid WebhookInput")
    }

    fn existing() -> WebhookSettings {
        input(json!({
            "name": "CRM",
            "url": "https://crm.example/hook",
            "events": ["lead.saved"],
            "method": "PUT",
            "timeout_seconds": 5,
            "payload_format": "template",
            "payload_config": {"body": "{{lead.email}}"},
        }))
        .apply(WebhookSettings::default())
        .expect("valid settings")
    }

    #[test]
    fn fields_left_out_keep_their_values() {
        let before = existing();
        assert_eq!(input(json!({})).apply(before.clone()), Ok(before.clone()));
        let renamed = input(json!({"name": "  CRM sync  "}))
            .apply(before.clone())
            .expect("renamed");
        assert_eq!(renamed.name, "CRM sync");
        assert_eq!(
            WebhookSettings {
                name: before.name.clone(),
                ..renamed
            },
            before
        );
    }

    #[test]
    fn a_new_webhook_starts_from_the_defaults() {
        let created = existing();
        let defaults = WebhookSettings::default();
        assert_eq!(created.events, vec![EventName::LeadSaved]);
        assert_eq!(created.method, WebhookMethod::Put);
        assert_eq!(created.timeout, Duration::from_secs(5));
        assert_eq!(created.retry_schedule, defaults.retry_schedule);
        assert_eq!(created.max_in_flight, defaults.max_in_flight);
        assert_eq!(created.batching, defaults.batching);
        assert!(created.active);
    }

    #[test]
    fn a_new_format_does_not_inherit_the_old_ones_config() {
        let before = existing();
        let small = input(json!({"payload_format": "small"}))
            .apply(before.clone())
            .expect("small");
        assert_eq!(
            small.payload_format,
            PayloadFormat::Builtin(BuiltinFormat::Small)
        );
        assert_eq!(small.payload_config, Value::Null);
        let reconfigured = input(json!({"payload_config": {"body": "{{event}}"}}))
            .apply(before)
            .expect("config alone");
        assert_eq!(
            reconfigured.payload_format,
            PayloadFormat::Builtin(BuiltinFormat::Template)
        );
        assert_eq!(reconfigured.payload_config, json!({"body": "{{event}}"}));
    }

    #[test]
    fn a_change_valid_alone_but_not_with_the_stored_settings_is_a_conflict() {
        // `existing` uses PUT: batching alone conflicts with it (409), batching
        // with PUT in the same request is the request's own fault (422).
        let conflict = input(json!({"batch_mode": "any_event"}))
            .apply_change(existing())
            .expect_err("batching a PUT webhook");
        assert!(
            matches!(&conflict, ApiError::Conflict(message) if message.contains("batching needs method POST")),
            "{conflict:?}"
        );
        let own_fault = input(json!({"batch_mode": "any_event", "method": "PUT"}))
            .apply_change(existing())
            .expect_err("batching with PUT");
        assert!(
            matches!(&own_fault, ApiError::Unprocessable(message) if message.contains("batching needs method POST")),
            "{own_fault:?}"
        );
        let fixed = input(json!({"batch_mode": "any_event", "method": "POST",
                                 "payload_format": "small"}))
        .apply_change(existing())
        .expect("batching with POST");
        assert_eq!(fixed.batching.mode, BatchMode::AnyEvent);
    }

    #[test]
    fn each_refusal_names_the_field() {
        let cases = [
            (json!({"name": " "}), "name must not be empty"),
            (
                json!({"url": "https://a\u{0}b"}),
                "url must not contain NUL",
            ),
            (json!({"events": []}), "events must name at least one of"),
            (
                json!({"events": ["lead.exploded"]}),
                "unknown event `lead.exploded`",
            ),
            (
                json!({"auth": {"type": "bearer", "token": ""}}),
                "auth token must not be empty",
            ),
            (
                json!({"timeout_seconds": 61}),
                "timeout_seconds must be between 1 and 60",
            ),
            (
                json!({"retry_schedule_seconds": [700_000]}),
                "retry_schedule_seconds must be at most",
            ),
            (
                json!({"payload_format": "xml"}),
                "payload_format must be one of",
            ),
            (
                json!({"batch_wait_seconds": 0}),
                "batch_wait_seconds must be between 1 and 900",
            ),
            // Batching is checked against the merged settings: this webhook
            // uses PUT.
            (
                json!({"batch_mode": "any_event"}),
                "batching needs method POST",
            ),
        ];
        for (fields, expected) in cases {
            let error = input(fields.clone())
                .apply(existing())
                .expect_err(&fields.to_string());
            assert!(error.0.contains(expected), "{fields}: {error}");
        }
    }
}
