//! `json-mapper`: the built-in inbound transform that needs no code. Its
//! config names, as JSON Pointers (RFC 6901), where the lead id and the stage
//! are in the CRM's body, and optionally where an array of records is, so
//! that one request carrying many events becomes many updates.
//!
//! ```json
//! {"records_pointer": "", "uid_pointer": "/objectId", "stage_pointer": "/propertyValue"}
//! ```
//!
//! `records_pointer` absent: the body is one record. `""`: the body itself is
//! the array. Numbers are accepted as ids and stages and used as text.
//!
//! With `lead` instead of the two pointers, each record becomes a lead
//! record (lead sync): the CRM's id, the lead's fields and the stage are
//! each read from a pointer, and `match` says which keys find the lead.
//!
//! ```json
//! {"lead": {"external_id": "/vid", "match": ["external_id", "email"],
//!           "fields": {"email": "/properties/email/value", "first_name": "/properties/firstname/value"},
//!           "funnel_stage": "/properties/lifecyclestage/value"}}
//! ```
//!
//! A pointer that finds nothing leaves its field out (the lead keeps what
//! it has); a JSON `null` clears the field. A record whose match keys are
//! all missing is still returned, and Switchyard fails that record alone.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_plugin_sdk::{Error, FunnelUpdate, LeadRecord, LeadSync, Record, export_transform};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the array of records is; absent when the body is one record.
    #[serde(default)]
    pub records_pointer: Option<String>,
    /// Where the lead's `lead_profile_uid` is, inside a record (funnel updates).
    #[serde(default)]
    pub uid_pointer: Option<String>,
    /// Where the stage name is, inside a record (funnel updates).
    #[serde(default)]
    pub stage_pointer: Option<String>,
    /// Makes each record a lead record instead.
    #[serde(default)]
    pub lead: Option<LeadMapping>,
}

/// Where a lead record's parts are, inside a CRM record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadMapping {
    /// The keys that find the lead, tried in this order: `external_id`,
    /// `email` (read from `fields.email`), `lead_profile_uid`. Default:
    /// `external_id` when mapped, then `email`.
    #[serde(default, rename = "match")]
    pub match_keys: Option<Vec<MatchKey>>,
    /// Where the CRM's own id for the lead is.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Where the lead's `lead_profile_uid` is, for `match: ["lead_profile_uid"]`.
    #[serde(default)]
    pub lead_profile_uid: Option<String>,
    /// Lead field name (`email`, `first_name`, `score`, ...) to pointer.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Where the stage name is; absent: the lead is not moved.
    #[serde(default)]
    pub funnel_stage: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKey {
    ExternalId,
    Email,
    LeadProfileUid,
}

/// The part of the request the mapper reads: the body alone. Naming only
/// it lets serde skip the headers instead of building a map of them, which
/// is a good part of a small request's fuel.
#[derive(Debug, Deserialize)]
pub struct MappedRequest {
    pub body: Value,
}

pub fn transform(config: Config, request: MappedRequest) -> Result<Vec<Record>, Error> {
    let records: Vec<&Value> = match &config.records_pointer {
        None => vec![&request.body],
        Some(pointer) => match request.body.pointer(pointer) {
            Some(Value::Array(records)) => records.iter().collect(),
            Some(_) => {
                return Err(
                    format!("the value at records_pointer `{pointer}` is not an array").into(),
                );
            }
            None => return Err(format!("nothing at records_pointer `{pointer}`").into()),
        },
    };
    if let Some(mapping) = &config.lead {
        if config.uid_pointer.is_some() || config.stage_pointer.is_some() {
            return Err(
                "use either `lead` (lead records) or `uid_pointer` and `stage_pointer` (funnel updates), not both"
                    .into(),
            );
        }
        return Ok(records
            .into_iter()
            .map(|record| lead_record(mapping, record).into())
            .collect());
    }
    let (Some(uid_pointer), Some(stage_pointer)) = (&config.uid_pointer, &config.stage_pointer)
    else {
        return Err("the config needs `uid_pointer` and `stage_pointer`, or `lead`".into());
    };
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            Ok(FunnelUpdate::new(
                text_at(record, uid_pointer, index)?,
                text_at(record, stage_pointer, index)?,
            )
            .into())
        })
        .collect()
}

/// One CRM record as a lead record.
fn lead_record(mapping: &LeadMapping, record: &Value) -> LeadRecord {
    let mut fields = Map::new();
    for (field, pointer) in &mapping.fields {
        if let Some(value) = record.pointer(pointer) {
            fields.insert(field.clone(), field_value(field, value));
        }
    }
    let default_keys = [MatchKey::ExternalId, MatchKey::Email];
    let keys = mapping.match_keys.as_deref().unwrap_or(&default_keys);
    let mut matching = Map::new();
    for key in keys {
        let (name, value) = match key {
            MatchKey::ExternalId => (
                "external_id",
                mapping
                    .external_id
                    .as_deref()
                    .and_then(|p| record.pointer(p)),
            ),
            MatchKey::Email => ("email", fields.get("email")),
            MatchKey::LeadProfileUid => (
                "lead_profile_uid",
                mapping
                    .lead_profile_uid
                    .as_deref()
                    .and_then(|p| record.pointer(p)),
            ),
        };
        if let Some(text) = value.and_then(as_text) {
            matching.insert(name.to_owned(), Value::String(text));
        }
    }
    let funnel_stage = mapping
        .funnel_stage
        .as_deref()
        .and_then(|pointer| record.pointer(pointer))
        .and_then(as_text)
        .filter(|stage| !stage.trim().is_empty());
    LeadRecord {
        lead: LeadSync {
            matching,
            fields,
            funnel_stage,
        },
    }
}

/// A field's value as Switchyard expects it: text as text (numbers too),
/// `score` as an integer (CRMs often send it as text), `null` as is.
fn field_value(field: &str, value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::String(text) if field == "score" => text
            .trim()
            .parse::<i64>()
            .map_or_else(|_| value.clone(), Value::from),
        Value::Number(_) if field == "score" => value.clone(),
        Value::Number(number) => Value::String(number.to_string()),
        other => other.clone(),
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn text_at(record: &Value, pointer: &str, index: usize) -> Result<String, Error> {
    match record.pointer(pointer) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(other) => {
            Err(format!("record {index}: the value at `{pointer}` is not text: {other}").into())
        }
        None => Err(format!("record {index}: nothing at `{pointer}`").into()),
    }
}

export_transform!(transform);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: Value) -> MappedRequest {
        MappedRequest { body }
    }

    fn config(records: Option<&str>) -> Config {
        Config {
            records_pointer: records.map(str::to_owned),
            uid_pointer: Some("/objectId".into()),
            stage_pointer: Some("/propertyValue".into()),
            lead: None,
        }
    }

    fn updates(pairs: &[(&str, &str)]) -> Vec<Record> {
        pairs
            .iter()
            .map(|(uid, stage)| FunnelUpdate::new(*uid, *stage).into())
            .collect()
    }

    /// The mapping of `examples/hubspot-contact.json`.
    fn hubspot_config() -> Config {
        serde_json::from_str(include_str!("../examples/hubspot-contact.config.json"))
            .expect("the example config parses")
    }

    #[test]
    fn a_hubspot_contact_becomes_a_lead_record() {
        let body: Value =
            serde_json::from_str(include_str!("../examples/hubspot-contact.json")).unwrap();
        let records = transform(hubspot_config(), request(body)).unwrap();
        assert_eq!(
            serde_json::to_value(&records).unwrap(),
            json!([{"lead": {
                "match": {"external_id": "1201", "email": "ada@example.com"},
                "fields": {
                    "email": "ada@example.com",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "company": "Analytical Engines",
                    "phone": "+44 20 7946 0000",
                    "score": 42
                },
                "funnel_stage": "lead"
            }}])
        );
    }

    #[test]
    fn missing_values_are_left_out_and_null_clears() {
        let body = json!({"vid": 7, "properties": {"email": {"value": "x@example.com"}, "company": {"value": null}}});
        let records = transform(hubspot_config(), request(body)).unwrap();
        let Record::Lead(record) = &records[0] else {
            panic!("a lead record: {records:?}");
        };
        assert_eq!(record.lead.fields.get("company"), Some(&Value::Null));
        assert!(!record.lead.fields.contains_key("first_name"));
        assert_eq!(record.lead.funnel_stage, None);
        assert_eq!(record.lead.matching["external_id"], "7");
    }

    #[test]
    fn lead_and_funnel_pointers_do_not_mix() {
        let mut config = hubspot_config();
        config.uid_pointer = Some("/vid".into());
        let error = transform(config, request(json!({}))).unwrap_err();
        assert!(error.0.contains("not both"), "{}", error.0);
        let error = transform(
            Config {
                records_pointer: None,
                uid_pointer: None,
                stage_pointer: None,
                lead: None,
            },
            request(json!({})),
        )
        .unwrap_err();
        assert!(error.0.contains("uid_pointer"), "{}", error.0);
    }

    #[test]
    fn maps_an_array_of_hubspot_style_events() {
        let body = json!([
            {"objectId": "lead_1", "propertyName": "lifecyclestage", "propertyValue": "lead"},
            {"objectId": 42, "propertyName": "lifecyclestage", "propertyValue": "customer"},
        ]);
        let records = transform(config(Some("")), request(body)).unwrap();
        assert_eq!(records, updates(&[("lead_1", "lead"), ("42", "customer")]));
    }

    #[test]
    fn maps_a_single_record_body() {
        let body = json!({"objectId": "lead_1", "propertyValue": "Enrolled"});
        assert_eq!(
            transform(config(None), request(body)).unwrap(),
            updates(&[("lead_1", "Enrolled")])
        );
    }

    #[test]
    fn explains_what_is_missing() {
        let error = transform(config(Some("/events")), request(json!({"events": {}}))).unwrap_err();
        assert_eq!(
            error.0,
            "the value at records_pointer `/events` is not an array"
        );
        let error = transform(config(None), request(json!({"objectId": "x"}))).unwrap_err();
        assert_eq!(error.0, "record 0: nothing at `/propertyValue`");
        let error = transform(
            config(None),
            request(json!({"objectId": ["x"], "propertyValue": "y"})),
        )
        .unwrap_err();
        assert!(
            error
                .0
                .starts_with("record 0: the value at `/objectId` is not text")
        );
    }
}
