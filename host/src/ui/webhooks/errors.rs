//! Refusals of the webhook form, placed next to the field they are about.

use std::collections::BTreeMap;

/// Refusals by the part of the form they belong to: `name`, `url`,
/// `method`, `events`, `conditions`, `auth`, `payload`, `batching`,
/// `timeout`, `retry`, `in_flight`, or `form` for one that names no field.
#[derive(Debug, Default)]
pub(super) struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub(super) fn add(&mut self, field: &'static str, message: String) {
        self.0
            .entry(field)
            .and_modify(|kept| {
                kept.push(' ');
                kept.push_str(&message);
            })
            .or_insert(message);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }

    /// An API refusal placed at the field its message names.
    pub(super) fn from_message(message: &str) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field_of(message), capitalised(message));
        errors
    }
}

/// Which part of the form an API message is about. Its messages start
/// with the field's name (`timeout_seconds must be ...`, `url: ...`); the
/// order matters where one names two (`batching needs method POST`).
fn field_of(message: &str) -> &'static str {
    let starts = |prefix: &str| message.starts_with(prefix);
    let has = |part: &str| message.contains(part);
    if starts("url") {
        "url"
    } else if starts("name") {
        "name"
    } else if starts("max_in_flight") {
        "in_flight"
    } else if has("batch") {
        "batching"
    } else if has("retry_schedule") {
        "retry"
    } else if has("timeout_seconds") {
        "timeout"
    } else if has("payload_") || has("template") {
        "payload"
    } else if starts("conditions") {
        "conditions"
    } else if starts("auth") {
        "auth"
    } else if starts("events") || starts("unknown event") {
        "events"
    } else if starts("method") {
        "method"
    } else {
        "form"
    }
}

pub(super) fn capitalised(message: &str) -> String {
    // A message that starts with an API field name (`timeout_seconds must
    // be ...`) keeps it as written: it is the name the API documents.
    let first_word = message.split_whitespace().next().unwrap_or_default();
    if first_word.contains('_') {
        return message.to_owned();
    }
    let mut characters = message.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_messages_land_on_their_fields() {
        for (message, field) in [
            ("name must not be empty", "name"),
            ("url: loopback addresses are refused", "url"),
            ("events must name at least one of: lead.created", "events"),
            ("unknown event `lead.x`; the events are: ...", "events"),
            ("auth token must not be empty", "auth"),
            ("timeout_seconds must be between 1 and 60", "timeout"),
            ("max_in_flight must be between 1 and 1000", "in_flight"),
            (
                "each delay in retry_schedule_seconds must be at most 604800 seconds",
                "retry",
            ),
            ("payload_format: unknown merge tag `lead.nope`", "payload"),
            ("batching needs method POST (a batch is ...)", "batching"),
            ("batch_wait_seconds must be between 1 and 900", "batching"),
            (
                "conditions: funnel stage stg_1 does not exist",
                "conditions",
            ),
            ("something else entirely", "form"),
        ] {
            assert_eq!(field_of(message), field, "{message}");
        }
    }
}
