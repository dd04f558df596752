//! Example inbound transform for Pipedrive: its `updated.deal` webhook
//! (v1) carries the deal before and after the change. When the deal's
//! `stage_id` changed, this emits one funnel update for the lead whose
//! Switchyard id is kept in a custom deal field.
//!
//! Config:
//!
//! ```json
//! {"lead_uid_field": "9f3c...", "stages": {"1": "Inquiry", "4": "Enrolled"}}
//! ```
//!
//! `lead_uid_field` is the key of the custom field holding the
//! `lead_profile_uid`; `stages` names Pipedrive stage ids in the funnel
//! (unlisted stages are sent as `pipedrive stage <id>`, which an import
//! mapping can then resolve).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_plugin_sdk::{Error, FunnelUpdate, InboundRequest, export_transform, log};

#[derive(Debug, Deserialize)]
pub struct Config {
    pub lead_uid_field: String,
    #[serde(default)]
    pub stages: BTreeMap<String, String>,
}

/// The parts of Pipedrive's webhook this transform reads; serde skips the
/// rest of the (large) body without building it.
#[derive(Debug, Deserialize)]
pub struct DealWebhook {
    #[serde(default)]
    pub event: String,
    pub current: Option<Map<String, Value>>,
    pub previous: Option<PreviousDeal>,
}

#[derive(Debug, Deserialize)]
pub struct PreviousDeal {
    pub stage_id: Option<i64>,
}

pub fn transform(
    config: Config,
    request: InboundRequest<DealWebhook>,
) -> Result<Vec<FunnelUpdate>, Error> {
    let webhook = request.body;
    if webhook.event != "updated.deal" && webhook.event != "added.deal" {
        log(&format!("ignoring a `{}` event", webhook.event));
        return Ok(Vec::new());
    }
    let current = webhook.current.ok_or("the webhook has no `current` deal")?;
    let stage_id = current
        .get("stage_id")
        .and_then(Value::as_i64)
        .ok_or("the deal has no numeric `stage_id`")?;
    if webhook.previous.and_then(|previous| previous.stage_id) == Some(stage_id) {
        return Ok(Vec::new());
    }
    let lead = match current.get(&config.lead_uid_field) {
        Some(Value::String(uid)) if !uid.is_empty() => uid.clone(),
        _ => {
            log("the deal has no Switchyard lead id; skipped");
            return Ok(Vec::new());
        }
    };
    let stage = config
        .stages
        .get(&stage_id.to_string())
        .cloned()
        .unwrap_or_else(|| format!("pipedrive stage {stage_id}"));
    Ok(vec![FunnelUpdate::new(lead, stage)])
}

export_transform!(transform);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(body: Value) -> Result<Vec<FunnelUpdate>, Error> {
        let config = Config {
            lead_uid_field: "lead_uid_key".into(),
            stages: BTreeMap::from([("4".into(), "Enrolled".into())]),
        };
        let request = InboundRequest {
            headers: Default::default(),
            content_type: Some("application/json".into()),
            body: serde_json::from_value(body).map_err(Error::from)?,
        };
        transform(config, request)
    }

    #[test]
    fn a_stage_change_becomes_a_funnel_update() {
        let body = json!({
            "v": 1,
            "event": "updated.deal",
            "meta": {"action": "updated", "object": "deal", "id": 77},
            "current": {"id": 77, "title": "Ada's application", "stage_id": 4, "lead_uid_key": "lead_123"},
            "previous": {"id": 77, "stage_id": 2}
        });
        assert_eq!(
            run(body).unwrap(),
            vec![FunnelUpdate::new("lead_123", "Enrolled")]
        );
    }

    #[test]
    fn unmapped_stages_are_named_by_id_and_other_changes_are_ignored() {
        let moved = json!({"event": "updated.deal", "current": {"stage_id": 9, "lead_uid_key": "lead_1"}, "previous": {"stage_id": 4}});
        assert_eq!(
            run(moved).unwrap(),
            vec![FunnelUpdate::new("lead_1", "pipedrive stage 9")]
        );
        let renamed = json!({"event": "updated.deal", "current": {"stage_id": 4, "lead_uid_key": "lead_1"}, "previous": {"stage_id": 4}});
        assert_eq!(run(renamed).unwrap(), vec![]);
        let person = json!({"event": "updated.person", "current": {}});
        assert_eq!(run(person).unwrap(), vec![]);
        let unlinked = json!({"event": "updated.deal", "current": {"stage_id": 4}, "previous": {"stage_id": 1}});
        assert_eq!(run(unlinked).unwrap(), vec![]);
    }

    #[test]
    fn a_deal_without_a_stage_is_an_error() {
        let body = json!({"event": "updated.deal", "current": {"title": "x"}});
        assert_eq!(
            run(body).unwrap_err().0,
            "the deal has no numeric `stage_id`"
        );
    }
}
