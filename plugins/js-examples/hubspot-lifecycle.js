// HubSpot's contact webhook (a list of `contact.propertyChange` events) to
// funnel updates: every change of the watched property (`lifecyclestage` by
// default) moves the lead to the stage of the same name, or to the stage
// the config's `stages` maps it to.
//
// Config: {"property": "lifecyclestage", "stages": {"customer": "Won"}}
// The HubSpot contact id is the lead id here (`objectId`); with another
// property holding Switchyard's id, map it in HubSpot or read it from
// `event.properties` as your subscription sends it.

export function transform(config, request) {
  const property = config?.property ?? "lifecyclestage";
  const stages = config?.stages ?? {};
  if (!Array.isArray(request.body)) {
    throw new Error(`expected HubSpot's list of events, got ${typeof request.body}`);
  }
  const updates = [];
  for (const event of request.body) {
    if (event.subscriptionType !== "contact.propertyChange") continue;
    if (event.propertyName !== property) continue;
    updates.push({
      lead_profile_uid: String(event.objectId),
      funnel_stage: stages[event.propertyValue] ?? event.propertyValue,
    });
  }
  console.log(`${updates.length} of ${request.body.length} events move a lead`);
  return updates;
}
