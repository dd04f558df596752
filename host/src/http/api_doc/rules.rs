//! Rules between fields that the derive cannot say, added to the schemas
//! as JSON Schema conditionals (`if`/`then`), so that a body a tool builds
//! from the document is one the server accepts:
//!
//! - a `template` payload needs its config (`TemplateConfig`);
//! - batching needs POST, a format other than `full` and JSON payloads;
//! - each kind of `WebhookAuth` takes only its own fields (serde's
//!   `deny_unknown_fields` on the enum, which the derive does not carry
//!   over to the variants).
//!
//! The server's own checks stay where they are (`domain::webhook`); the
//! tests below hold the two together. A webhook's create body is derived
//! from `WebhookInput` afterwards (see `creation`), so it carries them too.

use serde_json::{Value, json};

/// The schemas that take a webhook's settings.
const WEBHOOK_SCHEMAS: [&str; 1] = ["WebhookInput"];

/// Adds `TemplateConfig` and the webhook rules.
pub(super) fn add(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    schemas.insert("TemplateConfig".into(), template_config());
    if let Some(kinds) = schemas
        .get_mut("WebhookAuth")
        .and_then(|auth| auth.get_mut("oneOf"))
        .and_then(Value::as_array_mut)
    {
        for kind in kinds.iter_mut().filter_map(Value::as_object_mut) {
            kind.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for name in WEBHOOK_SCHEMAS {
        if let Some(schema) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            schema.insert("allOf".into(), webhook_rules());
        }
    }
}

/// The `template` payload builder's config (plugins/template).
fn template_config() -> Value {
    json!({
        "type": "object",
        "title": "TemplateConfig",
        "description": "The `template` payload's config. `{{ name }}` in `body` is a merge tag \
                        (`lead.email`, `lead.full_name`, `event.name`, ...; an unknown one is \
                        refused); with `format` `json` (the default) the rendered body must be \
                        JSON, with `form` it is sent as `application/x-www-form-urlencoded`.",
        "properties": {
            "body": {"type": "string"},
            "format": {"type": "string", "enum": ["json", "form"]},
            "stage_as_id": {
                "type": "boolean",
                "description": "Send the funnel stage's id instead of its title"
            }
        },
        "required": ["body"],
        "additionalProperties": false
    })
}

fn webhook_rules() -> Value {
    json!([
        {
            "description": "A `template` payload needs its config.",
            "if": {"properties": {"payload_format": {"const": "template"}},
                   "required": ["payload_format"]},
            "then": {"properties": {"payload_config": {"$ref": "#/components/schemas/TemplateConfig"}},
                     "required": ["payload_config"]}
        },
        {
            "description": "Batching needs POST, a format other than `full`, and JSON payloads \
                            (a batch is a JSON array in the body).",
            "if": {"properties": {"batch_mode": {"enum": ["same_event", "same_event_type", "any_event"]}},
                   "required": ["batch_mode"]},
            "then": {"properties": {
                "method": {"enum": ["POST", null]},
                "payload_format": {"not": {"const": "full"}},
                "payload_config": {"not": {"type": "object",
                                           "properties": {"format": {"const": "form"}},
                                           "required": ["format"]}}
            }}
        }
    ])
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::domain::webhook::{BatchMode, BuiltinFormat, WebhookMethod, WebhookSettings};
    use crate::http::webhooks::WebhookInput;

    fn refusal(body: Value) -> String {
        let input: WebhookInput = serde_json::from_value(body.clone()).expect("a WebhookInput");
        input
            .apply(WebhookSettings::default())
            .expect_err(&body.to_string())
            .0
    }

    #[test]
    fn the_batching_rule_names_what_the_server_refuses() {
        let rule = &super::webhook_rules()[1]["then"]["properties"];
        let batching = super::webhook_rules()[1]["if"]["properties"]["batch_mode"]["enum"].clone();
        let modes: Vec<Value> = [
            BatchMode::SameEvent,
            BatchMode::SameEventType,
            BatchMode::AnyEvent,
        ]
        .into_iter()
        .map(|mode| json!(mode))
        .collect();
        assert_eq!(batching, json!(modes));
        assert_eq!(rule["method"]["enum"], json!([WebhookMethod::Post, null]));
        assert_eq!(
            rule["payload_format"]["not"]["const"],
            BuiltinFormat::Full.as_str()
        );
        for (body, refused) in [
            (
                json!({"batch_mode": "any_event", "method": "PUT"}),
                "method POST",
            ),
            (
                json!({"batch_mode": "same_event", "payload_format": "full"}),
                "full",
            ),
            (
                json!({"batch_mode": "any_event", "payload_format": "template",
                       "payload_config": {"body": "e={{lead.email}}", "format": "form"}}),
                "form",
            ),
        ] {
            assert!(refusal(body.clone()).contains(refused), "{body}");
        }
    }

    #[test]
    fn each_kind_of_auth_takes_only_its_own_fields() {
        let document = super::super::document();
        for kind in ["NoAuth", "BasicAuth", "BearerAuth", "HeadersAuth"] {
            assert_eq!(
                document["components"]["schemas"][kind]["additionalProperties"],
                json!(false),
                "{kind}"
            );
        }
        let error = serde_json::from_value::<crate::domain::webhook::WebhookAuth>(
            json!({"type": "basic", "username": "a", "password": "b", "token": "c"}),
        )
        .expect_err("a field of another kind");
        assert!(
            error.to_string().contains("unknown field `token`"),
            "{error}"
        );
    }

    #[test]
    fn the_template_config_is_the_template_plugins() {
        let config = super::template_config();
        assert_eq!(config["required"], json!(["body"]));
        let document = super::super::document();
        for schema in ["WebhookInput", "NewWebhook"] {
            assert_eq!(
                document["components"]["schemas"][schema]["allOf"],
                super::webhook_rules(),
                "{schema}"
            );
        }
        assert_eq!(document["components"]["schemas"]["TemplateConfig"], config);
    }
}
