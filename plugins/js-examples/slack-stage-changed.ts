// A Slack incoming-webhook message for each lead that changes stage:
// "Ada Lovelace (ada@example.com) moved from Inquiry to Enrolled".
// Attach it to a webhook whose events are `lead.stage_changed` and whose URL
// is the Slack webhook's.
//
// Config (optional): {"channel": "#admissions", "emoji": ":tada:"}

interface Stage { id: string; title: string; position: number | null }
interface LeadEvent {
  id: string;
  event: string;
  lead: {
    lead_profile_uid: string;
    email: string;
    first_name: string | null;
    last_name: string | null;
    funnel_stage: Stage | null;
  };
  previous_funnel_stage?: Stage | null;
}
type Config = { channel?: string; emoji?: string } | null;

export function buildPayload(config: Config, event: LeadEvent) {
  const lead = event.lead;
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ") || lead.email;
  const from = event.previous_funnel_stage?.title ?? "no stage";
  const to = lead.funnel_stage?.title ?? "no stage";
  const text = `${config?.emoji ?? ":arrow_right:"} ${name} (${lead.email}) moved from ${from} to ${to}`;
  const message: Record<string, unknown> = { text };
  if (config?.channel) message.channel = config.channel;
  return {
    // A string body is sent byte for byte.
    body: JSON.stringify(message),
    content_type: "application/json",
    headers: { "x-switchyard-event": event.id },
  };
}
