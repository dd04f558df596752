// A Switchyard inbound transform: the CRM's request in, funnel updates out.
// Try it:   switchyard plugin run transform.js --kind inbound-transform --config config.json --input input.json
// Build it: switchyard plugin build transform.js -o transform.wasm

/** @type {import("./switchyard-plugin").Transform<{stages?: Record<string, string>}, {objectId: string, propertyValue: string}[]>} */
export function transform(config, request) {
  console.log(`${request.body.length} events`);
  return request.body.map((event) => ({
    lead_profile_uid: event.objectId,
    funnel_stage: config.stages?.[event.propertyValue] ?? event.propertyValue,
  }));
}
