//! A Switchyard inbound transform: the CRM's request in, funnel updates out.
//! Each event's `objectId` moves to the stage its `propertyValue` names,
//! renamed by the config's `stages` when it lists it.

use std::collections::HashMap;

use serde::Deserialize;
use switchyard_plugin_sdk::{Error, FunnelUpdate, InboundRequest, export_transform, log};

#[derive(Deserialize)]
pub struct Config {
    #[serde(default)]
    stages: HashMap<String, String>,
}

/// Name only the fields you read: serde skips the rest cheaply.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    object_id: String,
    property_value: String,
}

pub fn transform(
    config: Config,
    request: InboundRequest<Vec<Event>>,
) -> Result<Vec<FunnelUpdate>, Error> {
    log(&format!("{} events", request.body.len()));
    Ok(request
        .body
        .into_iter()
        .map(|event| {
            let stage = config
                .stages
                .get(&event.property_value)
                .cloned()
                .unwrap_or(event.property_value);
            FunnelUpdate::new(event.object_id, stage)
        })
        .collect())
}

export_transform!(transform);
