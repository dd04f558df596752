//! `template`: the built-in payload builder whose body the admin writes,
//! with merge tags filled in from the event, sent as JSON or as a form.
//!
//! ```json
//! {"body": "{\"email\": \"{{ lead.email }}\", \"stage\": \"{{lead.funnel_stage}}\"}",
//!  "format": "json", "stage_as_id": false}
//! ```
//!
//! - `body` (required): the template. `{{ name }}` is a merge tag (spaces
//!   inside the braces are allowed); the names are in [`TAGS`]. `{{` always
//!   opens a tag: an unknown name or a `{{` without its `}}` is an error
//!   naming it, so the host can refuse a bad template when it is saved.
//! - `format`: `"json"` (default) escapes every value as the inside of a
//!   JSON string and requires the rendered text to be valid JSON; `"form"`
//!   percent-encodes every value for `application/x-www-form-urlencoded`.
//!   The template's own text is never changed.
//! - `stage_as_id`: send the funnel stage's id instead of its title in
//!   `lead.funnel_stage` and `lead.previous_funnel_stage`.
//!
//! `null` renders as the empty string; `lead.score` as its digits.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use switchyard_plugin_sdk::event::{Lead, Stage};
use switchyard_plugin_sdk::{Error, LeadEvent, Payload, export_payload_builder};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub body: String,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub stage_as_id: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Form,
}

/// Every merge tag, in the order the error for an unknown tag lists them.
/// [`tag_value`] resolves exactly these.
pub const TAGS: &[&str] = &[
    "lead.lead_profile_uid",
    "lead.email",
    "lead.company",
    "lead.first_name",
    "lead.last_name",
    "lead.full_name",
    "lead.phone",
    "lead.website",
    "lead.position",
    "lead.twitter",
    "lead.linkedin",
    "lead.notes",
    "lead.score",
    "lead.funnel_stage",
    "lead.funnel_stage_id",
    "lead.previous_funnel_stage",
    "lead.created_at",
    "lead.updated_at",
    "event.id",
    "event.name",
    "event.webhook_id",
    "event.object_id",
    "event.timestamp",
    "event.actor.type",
    "event.actor.id",
    "event.actor.name",
];

/// The config arrives as a JSON value rather than as [`Config`] so that a
/// missing or wrong one is reported in this plugin's words (the SDK would
/// call it unreadable input); it is a few fields, so the tree is cheap.
pub fn build_payload(config: Value, event: LeadEvent) -> Result<Payload, Error> {
    let config = read_config(config)?;
    let body = render(&config, &event)?;
    let content_type = match config.format {
        Format::Json => {
            // Checked without building anything: the receiver gets exactly
            // this text, so it has to be JSON as it stands.
            serde_json::from_str::<IgnoredAny>(&body).map_err(|error| {
                Error::new(format!(
                    "the template does not render to valid JSON: {error}"
                ))
            })?;
            "application/json"
        }
        Format::Form => "application/x-www-form-urlencoded",
    };
    // A string body is sent as its raw text, byte for byte.
    Ok(Payload {
        body: body.into(),
        content_type: content_type.into(),
        headers: Default::default(),
    })
}

export_payload_builder!(build_payload);

fn read_config(config: Value) -> Result<Config, Error> {
    if config.is_null() {
        return Err(Error::new(
            "the template payload needs a config: \
             {\"body\": \"<template>\", \"format\": \"json\" or \"form\", \"stage_as_id\": false}",
        ));
    }
    serde_json::from_value(config)
        .map_err(|error| Error::new(format!("invalid template config: {error}")))
}

/// The template with every merge tag replaced by its encoded value.
fn render(config: &Config, event: &LeadEvent) -> Result<String, Error> {
    let mut out = String::with_capacity(config.body.len() + config.body.len() / 2);
    let mut rest = config.body.as_str();
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        // A `{{` before the next `}}` means this tag was never closed; taking
        // the text up to the far `}}` would report a confusing tag name.
        let close = match (after.find("}}"), after.find("{{")) {
            (Some(close), Some(next)) if next < close => return Err(unclosed(after)),
            (Some(close), _) => close,
            (None, _) => return Err(unclosed(after)),
        };
        let tag = after[..close].trim();
        let value = tag_value(tag, event, config.stage_as_id).ok_or_else(|| unknown(tag))?;
        match config.format {
            Format::Json => escape_json(&value, &mut out),
            Format::Form => encode_form(&value, &mut out),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The text of a merge tag (`null` as ""), or `None` for an unknown tag.
pub fn tag_value<'a>(tag: &str, event: &'a LeadEvent, stage_as_id: bool) -> Option<Cow<'a, str>> {
    let lead = &event.lead;
    let text = |value: &'a Option<String>| Cow::Borrowed(value.as_deref().unwrap_or(""));
    Some(match tag {
        "lead.lead_profile_uid" => Cow::Borrowed(lead.lead_profile_uid.as_str()),
        "lead.email" => text(&lead.email),
        "lead.company" => text(&lead.company),
        "lead.first_name" => text(&lead.first_name),
        "lead.last_name" => text(&lead.last_name),
        "lead.full_name" => full_name(lead),
        "lead.phone" => text(&lead.phone),
        "lead.website" => text(&lead.website),
        "lead.position" => text(&lead.position),
        "lead.twitter" => text(&lead.twitter),
        "lead.linkedin" => text(&lead.linkedin),
        "lead.notes" => text(&lead.notes),
        "lead.score" => Cow::Owned(lead.score.to_string()),
        "lead.funnel_stage" => Cow::Borrowed(stage(&lead.funnel_stage, stage_as_id)),
        "lead.funnel_stage_id" => Cow::Borrowed(
            lead.funnel_stage
                .as_ref()
                .map_or("", |stage| stage.id.as_str()),
        ),
        "lead.previous_funnel_stage" => {
            Cow::Borrowed(stage(&event.previous_funnel_stage, stage_as_id))
        }
        "lead.created_at" => text(&lead.created_at),
        "lead.updated_at" => text(&lead.updated_at),
        "event.id" => Cow::Borrowed(event.id.as_str()),
        "event.name" => Cow::Borrowed(event.event.as_str()),
        "event.webhook_id" => Cow::Borrowed(event.webhook_id.as_str()),
        "event.object_id" => Cow::Borrowed(event.object_id.as_str()),
        "event.timestamp" => Cow::Borrowed(event.timestamp.as_str()),
        "event.actor.type" => Cow::Borrowed(event.actor.kind.as_str()),
        "event.actor.id" => text(&event.actor.id),
        "event.actor.name" => text(&event.actor.name),
        _ => return None,
    })
}

/// A stage as its title, or its id when the config asks for ids.
fn stage(stage: &Option<Stage>, as_id: bool) -> &str {
    match stage {
        Some(stage) if as_id => &stage.id,
        Some(stage) => &stage.title,
        None => "",
    }
}

/// First and last name joined by one space, whichever are there.
fn full_name(lead: &Lead) -> Cow<'_, str> {
    let first = lead.first_name.as_deref().filter(|name| !name.is_empty());
    let last = lead.last_name.as_deref().filter(|name| !name.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => Cow::Owned(format!("{first} {last}")),
        (Some(name), None) | (None, Some(name)) => Cow::Borrowed(name),
        (None, None) => Cow::Borrowed(""),
    }
}

fn unknown(tag: &str) -> Error {
    if tag.is_empty() {
        return Error::new("empty merge tag `{{}}`");
    }
    Error::new(format!(
        "unknown merge tag `{{{{{tag}}}}}`; the merge tags are {}",
        TAGS.join(", ")
    ))
}

/// `after` is the template after the unclosed `{{`; the error quotes what
/// was meant as the tag name: up to the next tag, line or 40 characters.
fn unclosed(after: &str) -> Error {
    let end = after.find(['\n', '\r']).unwrap_or(after.len());
    let end = after[..end].find("{{").unwrap_or(end);
    let name = after[..end].trim();
    let name = match name.char_indices().nth(40) {
        Some((cut, _)) => &name[..cut],
        None => name,
    };
    Error::new(format!(
        "unclosed merge tag `{{{{{name}`: no `}}}}` closes it"
    ))
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `value` as the inside of a JSON string: quotes, backslashes and
/// control characters escaped, everything else (non-ASCII included) as it is.
fn escape_json(value: &str, out: &mut String) {
    let mut plain = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `index` is at an ASCII byte, so always on a character boundary.
        out.push_str(&value[plain..index]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX_LOWER[usize::from(byte >> 4)] as char);
            out.push(HEX_LOWER[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        plain = index + 1;
    }
    out.push_str(&value[plain..]);
}

/// Writes `value` encoded for `application/x-www-form-urlencoded`: space as
/// `+`, ALPHA / DIGIT / `*-._` as they are, every other byte of its UTF-8 as
/// `%XX`.
fn encode_form(value: &str, out: &mut String) {
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX_UPPER[usize::from(byte >> 4)] as char);
                out.push(HEX_UPPER[usize::from(byte & 0xf)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An event as the host sends it, with a funnel history and a field the
    /// plugin does not read.
    const EVENT: &str = r#"{
        "id": "msg_01", "event": "lead.stage_changed", "webhook_id": "wh_01",
        "object_id": "lead_01", "timestamp": "2026-11-23T14:00:00.123456Z",
        "actor": {"type": "admin_api_key", "id": "key_01", "name": "default"},
        "lead": {
            "lead_profile_uid": "lead_01", "email": "ada@example.com", "company": "Engines Ltd",
            "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20", "website": "https://ada.example",
            "position": "CTO", "twitter": "@ada", "linkedin": "in/ada", "notes": "hi", "score": -12,
            "funnel_stage": {"id": "stage_02", "title": "Enrolled", "position": 2},
            "created_at": "2026-11-23T13:59:00.000000Z", "updated_at": "2026-11-23T14:00:00.123456Z"
        },
        "previous_funnel_stage": {"id": "stage_01", "title": "Inquiry", "position": null},
        "funnel_history": [{"id": "fev_01"}],
        "added_later": 1
    }"#;

    fn event() -> LeadEvent {
        serde_json::from_str(EVENT).unwrap()
    }

    /// The event with some lead fields replaced.
    fn event_with(lead: Value) -> LeadEvent {
        let mut document: Value = serde_json::from_str(EVENT).unwrap();
        for (field, value) in lead.as_object().unwrap() {
            document["lead"][field] = value.clone();
        }
        serde_json::from_value(document).unwrap()
    }

    fn body(payload: &Payload) -> &str {
        payload.body.as_str().expect("the body is sent as raw text")
    }

    #[test]
    fn renders_every_tag_as_json() {
        let template = TAGS
            .iter()
            .map(|tag| format!("\"{tag}\": \"{{{{{tag}}}}}\""))
            .collect::<Vec<_>>()
            .join(",\n  ");
        let payload =
            build_payload(json!({"body": format!("{{\n  {template}\n}}")}), event()).unwrap();
        assert_eq!(
            body(&payload),
            r#"{
  "lead.lead_profile_uid": "lead_01",
  "lead.email": "ada@example.com",
  "lead.company": "Engines Ltd",
  "lead.first_name": "Ada",
  "lead.last_name": "Lovelace",
  "lead.full_name": "Ada Lovelace",
  "lead.phone": "+44 20",
  "lead.website": "https://ada.example",
  "lead.position": "CTO",
  "lead.twitter": "@ada",
  "lead.linkedin": "in/ada",
  "lead.notes": "hi",
  "lead.score": "-12",
  "lead.funnel_stage": "Enrolled",
  "lead.funnel_stage_id": "stage_02",
  "lead.previous_funnel_stage": "Inquiry",
  "lead.created_at": "2026-11-23T13:59:00.000000Z",
  "lead.updated_at": "2026-11-23T14:00:00.123456Z",
  "event.id": "msg_01",
  "event.name": "lead.stage_changed",
  "event.webhook_id": "wh_01",
  "event.object_id": "lead_01",
  "event.timestamp": "2026-11-23T14:00:00.123456Z",
  "event.actor.type": "admin_api_key",
  "event.actor.id": "key_01",
  "event.actor.name": "default"
}"#
        );
        assert_eq!(payload.content_type, "application/json");
        assert!(payload.headers.is_empty());
    }

    #[test]
    fn the_body_is_a_string_so_the_host_sends_it_unchanged() {
        let template = r#"{"z": "{{ lead.email }}", "a": {{lead.score}} }"#;
        let payload = build_payload(json!({"body": template, "format": "json"}), event()).unwrap();
        assert_eq!(
            serde_json::to_string(&payload.body).unwrap(),
            r#""{\"z\": \"ada@example.com\", \"a\": -12 }""#
        );
    }

    #[test]
    fn whitespace_inside_the_braces_is_allowed() {
        let payload = build_payload(
            json!({"body": "[\"{{lead.email}}\", \"{{  lead.email\t}}\", \"{{\nevent.name\n}}\"]"}),
            event(),
        )
        .unwrap();
        assert_eq!(
            body(&payload),
            r#"["ada@example.com", "ada@example.com", "lead.stage_changed"]"#
        );
    }

    #[test]
    fn json_values_are_escaped_as_string_contents() {
        let event = event_with(json!({
            "first_name": "Zoë 🚀",
            "last_name": "say \"hi\"",
            "notes": "C:\\temp\nline\ttab\r\u{8}\u{c}\u{1}\u{1f}",
        }));
        let template = r#"{"name": "{{lead.full_name}}", "notes": "{{lead.notes}}"}"#;
        let payload = build_payload(json!({"body": template}), event).unwrap();
        assert_eq!(
            body(&payload),
            r#"{"name": "Zoë 🚀 say \"hi\"", "notes": "C:\\temp\nline\ttab\r\b\f\u0001\u001f"}"#
        );
        // And the receiver reads back exactly the lead's values.
        let parsed: Value = serde_json::from_str(body(&payload)).unwrap();
        assert_eq!(parsed["name"], "Zoë 🚀 say \"hi\"");
        assert_eq!(
            parsed["notes"],
            "C:\\temp\nline\ttab\r\u{8}\u{c}\u{1}\u{1f}"
        );
    }

    #[test]
    fn form_values_are_percent_encoded_and_the_template_is_left_as_written() {
        let event = event_with(json!({
            "first_name": "Zoë 🚀",
            "last_name": "a&b=c+d e",
            "notes": "*-._~/?%",
        }));
        let template = "name={{lead.full_name}}&notes={{ lead.notes }}&raw=a b+c";
        let payload = build_payload(json!({"body": template, "format": "form"}), event).unwrap();
        assert_eq!(
            body(&payload),
            "name=Zo%C3%AB+%F0%9F%9A%80+a%26b%3Dc%2Bd+e&notes=*-._%7E%2F%3F%25&raw=a b+c"
        );
        assert_eq!(payload.content_type, "application/x-www-form-urlencoded");
    }

    #[test]
    fn form_bodies_need_not_be_json() {
        let payload = build_payload(json!({"body": "{{event.id", "format": "form"}), event());
        // Tags are still checked, ...
        assert!(payload.unwrap_err().0.starts_with("unclosed merge tag"));
        // ... but the text around them is the admin's business.
        let payload = build_payload(
            json!({"body": "}{ id={{event.id}}", "format": "form"}),
            event(),
        );
        assert_eq!(body(&payload.unwrap()), "}{ id=msg_01");
    }

    #[test]
    fn stage_as_id_sends_the_stage_ids() {
        let template = r#"["{{lead.funnel_stage}}", "{{lead.funnel_stage_id}}", "{{lead.previous_funnel_stage}}"]"#;
        let by_title = build_payload(json!({"body": template}), event()).unwrap();
        assert_eq!(body(&by_title), r#"["Enrolled", "stage_02", "Inquiry"]"#);
        let by_id = build_payload(json!({"body": template, "stage_as_id": true}), event()).unwrap();
        assert_eq!(body(&by_id), r#"["stage_02", "stage_02", "stage_01"]"#);
    }

    #[test]
    fn null_values_render_as_empty_text() {
        let mut document: Value = serde_json::from_str(EVENT).unwrap();
        document["previous_funnel_stage"] = Value::Null;
        document["actor"]["name"] = Value::Null;
        for field in [
            "email",
            "company",
            "first_name",
            "last_name",
            "funnel_stage",
        ] {
            document["lead"][field] = Value::Null;
        }
        let event: LeadEvent = serde_json::from_value(document).unwrap();
        let template = "{{lead.email}}|{{lead.company}}|{{lead.full_name}}|{{lead.funnel_stage}}|\
                        {{lead.funnel_stage_id}}|{{lead.previous_funnel_stage}}|{{event.actor.name}}|{{lead.score}}";
        let payload = build_payload(json!({"body": template, "format": "form"}), event).unwrap();
        assert_eq!(body(&payload), "|||||||-12");
    }

    #[test]
    fn full_name_takes_whichever_names_exist() {
        for (first, last, expected) in [
            (json!("Ada"), json!(null), "Ada"),
            (json!(null), json!("Lovelace"), "Lovelace"),
            (json!(""), json!("Lovelace"), "Lovelace"),
            (json!(null), json!(null), ""),
        ] {
            let event = event_with(json!({"first_name": first, "last_name": last}));
            let payload = build_payload(json!({"body": "\"{{lead.full_name}}\""}), event).unwrap();
            assert_eq!(body(&payload), format!("\"{expected}\""));
        }
    }

    #[test]
    fn an_unknown_tag_is_named() {
        let error =
            build_payload(json!({"body": "{\"a\": \"{{ lead.emial }}\"}"}), event()).unwrap_err();
        assert!(
            error
                .0
                .starts_with("unknown merge tag `{{lead.emial}}`; the merge tags are lead.lead_profile_uid, lead.email,"),
            "{error}"
        );
        let error = build_payload(json!({"body": "{{}}", "format": "form"}), event()).unwrap_err();
        assert_eq!(error.0, "empty merge tag `{{}}`");
    }

    #[test]
    fn an_unclosed_tag_is_named() {
        let error =
            build_payload(json!({"body": "{\"a\": \"{{ lead.email\"}"}), event()).unwrap_err();
        assert_eq!(
            error.0,
            "unclosed merge tag `{{lead.email\"}`: no `}}` closes it"
        );
        // Closed later, but only after another tag opens.
        let error = build_payload(
            json!({"body": "{{lead.email {{event.id}}", "format": "form"}),
            event(),
        )
        .unwrap_err();
        assert_eq!(
            error.0,
            "unclosed merge tag `{{lead.email`: no `}}` closes it"
        );
    }

    #[test]
    fn a_template_that_does_not_render_to_json_is_refused() {
        // The stage title is not a JSON value outside quotes.
        let error = build_payload(
            json!({"body": "{\"stage\": {{lead.funnel_stage}}}"}),
            event(),
        )
        .unwrap_err();
        assert!(
            error.0.starts_with(
                "the template does not render to valid JSON: expected value at line 1 column 11"
            ),
            "{error}"
        );
        let error = build_payload(json!({"body": "{} trailing"}), event()).unwrap_err();
        assert!(error.0.contains("trailing characters"), "{error}");
    }

    #[test]
    fn a_missing_or_invalid_config_is_explained() {
        let error = build_payload(Value::Null, event()).unwrap_err();
        assert!(
            error.0.starts_with("the template payload needs a config"),
            "{error}"
        );
        let error = build_payload(json!({}), event()).unwrap_err();
        assert_eq!(error.0, "invalid template config: missing field `body`");
        let error = build_payload(json!({"body": "{}", "format": "xml"}), event()).unwrap_err();
        assert_eq!(
            error.0,
            "invalid template config: unknown variant `xml`, expected `json` or `form`"
        );
        let error =
            build_payload(json!({"body": "{}", "stage_as_title": true}), event()).unwrap_err();
        assert!(
            error
                .0
                .starts_with("invalid template config: unknown field `stage_as_title`"),
            "{error}"
        );
    }

    #[test]
    fn every_listed_tag_resolves() {
        let event = event();
        for tag in TAGS {
            assert!(tag_value(tag, &event, false).is_some(), "{tag}");
        }
        assert!(tag_value("lead.nope", &event, false).is_none());
    }
}
