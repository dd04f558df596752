//! The webhook form's fields as the admin typed them: read from the
//! posted form, and shown from stored settings. `input` turns them into
//! the API's own [`WebhookInput`](crate::http::webhooks::WebhookInput);
//! `credentials` reads the auth fields, where an empty credential keeps
//! the stored one. Credentials are never put back in the page.

use serde_json::{Value, json};

use crate::domain::webhook::{BuiltinFormat, PayloadFormat, WebhookAuth, WebhookSettings};

/// The form's fields as typed, kept to show again when refused.
#[derive(Debug, Clone, Default)]
pub(super) struct WebhookForm {
    pub name: String,
    pub url: String,
    pub method: String,
    pub events: Vec<String>,
    pub stage_in: Vec<String>,
    pub stage_not_in: Vec<String>,
    pub stage_changed_to: Vec<String>,
    /// `none`, `basic`, `bearer` or `headers`.
    pub auth_type: String,
    pub auth_username: String,
    /// Left empty on an edit: the stored password is kept.
    pub auth_password: String,
    pub auth_token: String,
    /// One `Name: value` per line.
    pub auth_headers: String,
    pub send_secret_header: bool,
    pub send_hmac_header: bool,
    pub timeout_seconds: String,
    /// Seconds, separated by commas.
    pub retry_schedule: String,
    /// Deliveries a worker sends to this webhook at once; empty keeps
    /// the stored cap.
    pub max_in_flight: String,
    pub payload_format: String,
    pub template_body: String,
    /// `json` or `form`.
    pub template_format: String,
    pub stage_as_id: bool,
    /// An uploaded payload builder's config, JSON.
    pub plugin_config: String,
    pub lightweight_logs: bool,
    pub batch_mode: String,
    pub batch_wait_seconds: String,
    pub max_items_per_batch: String,
    pub active: bool,
    /// `preview` renders the payload instead of saving.
    pub intent: String,
}

fn joined(numbers: impl IntoIterator<Item = u64>) -> String {
    numbers
        .into_iter()
        .map(|number| number.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl WebhookForm {
    /// The form showing these settings. Credentials are never put in the
    /// page: their fields stay empty and an empty one keeps what is stored.
    pub(super) fn from_settings(settings: &WebhookSettings) -> Self {
        let mut form = WebhookForm {
            name: settings.name.clone(),
            url: settings.url.clone(),
            method: settings.method.as_str().to_owned(),
            events: settings
                .events
                .iter()
                .map(|event| event.as_str().to_owned())
                .collect(),
            stage_in: settings.conditions.funnel_stage_in.clone(),
            stage_not_in: settings.conditions.funnel_stage_not_in.clone(),
            stage_changed_to: settings.conditions.stage_changed_to.clone(),
            auth_type: "none".into(),
            send_secret_header: settings.send_secret_header,
            send_hmac_header: settings.send_hmac_header,
            timeout_seconds: settings.timeout.as_secs().to_string(),
            retry_schedule: joined(settings.retry_schedule.iter().copied()),
            max_in_flight: settings.max_in_flight.to_string(),
            payload_format: settings.payload_format.as_str().to_owned(),
            template_format: "json".into(),
            lightweight_logs: settings.lightweight_logs,
            batch_mode: settings.batching.mode.as_str().to_owned(),
            batch_wait_seconds: settings.batching.wait.as_secs().to_string(),
            max_items_per_batch: settings.batching.max_items.to_string(),
            active: settings.active,
            ..WebhookForm::default()
        };
        match &settings.auth {
            WebhookAuth::None => {}
            WebhookAuth::Basic { username, .. } => {
                form.auth_type = "basic".into();
                form.auth_username = username.clone();
            }
            WebhookAuth::Bearer { .. } => form.auth_type = "bearer".into(),
            WebhookAuth::Headers { headers } => {
                form.auth_type = "headers".into();
                form.auth_headers = headers
                    .keys()
                    .map(|name| format!("{name}:"))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
        }
        let config = &settings.payload_config;
        match &settings.payload_format {
            PayloadFormat::Builtin(BuiltinFormat::Template) => {
                let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_owned);
                form.template_body = text("body").unwrap_or_default();
                form.template_format = text("format").unwrap_or_else(|| "json".into());
                form.stage_as_id = config
                    .get("stage_as_id")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            }
            PayloadFormat::Plugin(_) if !config.is_null() => {
                form.plugin_config = serde_json::to_string_pretty(config).unwrap_or_default();
            }
            _ => {}
        }
        form
    }

    /// Reads the submitted fields; a checkbox left unticked is absent.
    pub(super) fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = WebhookForm::default();
        for (key, value) in fields {
            match key.as_str() {
                "name" => form.name = value,
                "url" => form.url = value,
                "method" => form.method = value,
                "events" => form.events.push(value),
                "stage_in" => form.stage_in.push(value),
                "stage_not_in" => form.stage_not_in.push(value),
                "stage_changed_to" => form.stage_changed_to.push(value),
                "auth_type" => form.auth_type = value,
                "auth_username" => form.auth_username = value,
                "auth_password" => form.auth_password = value,
                "auth_token" => form.auth_token = value,
                "auth_headers" => form.auth_headers = value,
                "send_secret_header" => form.send_secret_header = true,
                "send_hmac_header" => form.send_hmac_header = true,
                "timeout_seconds" => form.timeout_seconds = value,
                "retry_schedule" => form.retry_schedule = value,
                "max_in_flight" => form.max_in_flight = value,
                "payload_format" => form.payload_format = value,
                "template_body" => form.template_body = value,
                "template_format" => form.template_format = value,
                "stage_as_id" => form.stage_as_id = true,
                "plugin_config" => form.plugin_config = value,
                "lightweight_logs" => form.lightweight_logs = true,
                "batch_mode" => form.batch_mode = value,
                "batch_wait_seconds" => form.batch_wait_seconds = value,
                "max_items_per_batch" => form.max_items_per_batch = value,
                "active" => form.active = true,
                "intent" => form.intent = value,
                _ => {}
            }
        }
        form
    }

    /// Whether the webhook listens to `event`.
    pub(super) fn listens(&self, event: &str) -> bool {
        self.events.iter().any(|listened| listened == event)
    }

    /// Whether the condition list named `list` (`stage_in`,
    /// `stage_not_in`, `stage_changed_to`) holds `stage`.
    pub(super) fn condition(&self, list: &str, stage: &str) -> bool {
        let stages = match list {
            "stage_in" => &self.stage_in,
            "stage_not_in" => &self.stage_not_in,
            _ => &self.stage_changed_to,
        };
        stages.iter().any(|id| id == stage)
    }

    /// The payload builder's config these fields describe.
    pub(super) fn payload_config(&self) -> Result<Value, String> {
        match self.payload_format.trim() {
            "template" => Ok(json!({
                "body": self.template_body,
                "format": if self.template_format == "form" { "form" } else { "json" },
                "stage_as_id": self.stage_as_id,
            })),
            plugin if plugin.starts_with("plg_") => {
                if self.plugin_config.trim().is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_str(&self.plugin_config)
                    .map_err(|error| format!("The plugin's config is not valid JSON: {error}"))
            }
            _ => Ok(Value::Null),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::webhook::EventName;

    pub(in crate::ui::webhooks) fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let settings = WebhookSettings {
            name: "CRM".into(),
            url: "https://crm.example/hook".into(),
            events: vec![EventName::LeadCreated, EventName::LeadDeleted],
            retry_schedule: vec![5, 60],
            payload_format: PayloadFormat::Builtin(BuiltinFormat::Template),
            payload_config: json!({"body": "{\"e\": \"{{lead.email}}\"}", "format": "json", "stage_as_id": true}),
            auth: WebhookAuth::Bearer {
                token: "s3cret".into(),
            },
            ..WebhookSettings::default()
        };
        let shown = WebhookForm::from_settings(&settings);
        assert_eq!(shown.auth_token, "", "credentials never reach the page");
        let input = shown
            .to_input(Some(&settings))
            .expect("the shown form is valid");
        let read = input.apply(settings.clone()).expect("valid settings");
        assert_eq!(read, settings);
    }
}
