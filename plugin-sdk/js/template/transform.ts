// A Switchyard inbound transform: the CRM's request in, funnel updates out.
// Try it:   switchyard plugin run transform.ts --kind inbound-transform --config config.json --input input.json
// Build it: switchyard plugin build transform.ts -o transform.wasm
import type { FunnelUpdate, InboundRequest } from "./switchyard-plugin";

type Config = { stages?: Record<string, string> };
type Event = { objectId: string; propertyValue: string };

export function transform(config: Config, request: InboundRequest<Event[]>): FunnelUpdate[] {
  console.log(`${request.body.length} events`);
  return request.body.map((event) => ({
    lead_profile_uid: event.objectId,
    funnel_stage: config.stages?.[event.propertyValue] ?? event.propertyValue,
  }));
}
