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

use serde::Deserialize;
use serde_json::Value;
use switchyard_plugin_sdk::{Error, FunnelUpdate, export_transform};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the array of records is; absent when the body is one record.
    #[serde(default)]
    pub records_pointer: Option<String>,
    /// Where the lead's `lead_profile_uid` is, inside a record.
    pub uid_pointer: String,
    /// Where the stage name is, inside a record.
    pub stage_pointer: String,
}

/// The part of the request the mapper reads: the body alone. Naming only
/// it lets serde skip the headers instead of building a map of them, which
/// is a good part of a small request's fuel.
#[derive(Debug, Deserialize)]
pub struct MappedRequest {
    pub body: Value,
}

pub fn transform(config: Config, request: MappedRequest) -> Result<Vec<FunnelUpdate>, Error> {
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
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            Ok(FunnelUpdate::new(
                text_at(record, &config.uid_pointer, index)?,
                text_at(record, &config.stage_pointer, index)?,
            ))
        })
        .collect()
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
            uid_pointer: "/objectId".into(),
            stage_pointer: "/propertyValue".into(),
        }
    }

    #[test]
    fn maps_an_array_of_hubspot_style_events() {
        let body = json!([
            {"objectId": "lead_1", "propertyName": "lifecyclestage", "propertyValue": "lead"},
            {"objectId": 42, "propertyName": "lifecyclestage", "propertyValue": "customer"},
        ]);
        let updates = transform(config(Some("")), request(body)).unwrap();
        assert_eq!(
            updates,
            vec![
                FunnelUpdate::new("lead_1", "lead"),
                FunnelUpdate::new("42", "customer")
            ]
        );
    }

    #[test]
    fn maps_a_single_record_body() {
        let body = json!({"objectId": "lead_1", "propertyValue": "Enrolled"});
        assert_eq!(
            transform(config(None), request(body)).unwrap(),
            vec![FunnelUpdate::new("lead_1", "Enrolled")]
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
