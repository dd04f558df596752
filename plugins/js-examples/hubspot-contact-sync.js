// HubSpot's contact webhooks (`contact.creation` and
// `contact.propertyChange` events, many per request) to lead records (lead
// sync): the events of one contact become one record that finds the lead by
// HubSpot's contact id (and by email once it is known), sets the changed
// properties as lead fields, and moves the lead when `lifecyclestage`
// changes. A new contact becomes a new lead where the import's
// `create_leads` is on (its email must be among the events: HubSpot sends
// it as a property change with the creation).
//
// Config (all optional):
// {"fields": {"jobtitle": "position"}, "stage_property": "lifecyclestage",
//  "stages": {"customer": "Won"}}

const FIELDS = {
  email: "email",
  firstname: "first_name",
  lastname: "last_name",
  company: "company",
  phone: "phone",
  website: "website",
  jobtitle: "position",
  hubspotscore: "score",
};

export function transform(config, request) {
  const fieldsByProperty = { ...FIELDS, ...(config?.fields ?? {}) };
  const stageProperty = config?.stage_property ?? "lifecyclestage";
  const stages = config?.stages ?? {};
  if (!Array.isArray(request.body)) {
    throw new Error(`expected HubSpot's list of events, got ${typeof request.body}`);
  }
  // HubSpot does not promise the order of a request's events.
  const events = request.body
    .filter((event) => event.subscriptionType === "contact.creation"
      || event.subscriptionType === "contact.propertyChange")
    .sort((a, b) => (a.occurredAt ?? 0) - (b.occurredAt ?? 0));
  const records = new Map();
  for (const event of events) {
    const id = String(event.objectId);
    let record = records.get(id);
    if (!record) {
      record = { lead: { match: { external_id: id }, fields: {} } };
      records.set(id, record);
    }
    if (event.subscriptionType !== "contact.propertyChange") continue;
    // HubSpot clears a property by sending it empty.
    const value = event.propertyValue === "" ? null : event.propertyValue;
    if (event.propertyName === stageProperty) {
      if (value !== null) record.lead.funnel_stage = stages[value] ?? value;
      continue;
    }
    const field = fieldsByProperty[event.propertyName];
    if (!field) continue;
    const number = Number(value);
    record.lead.fields[field] =
      field === "score" && value !== null && Number.isInteger(number) ? number : value;
    if (field === "email" && value !== null) record.lead.match.email = value;
  }
  console.log(`${records.size} contacts from ${request.body.length} events`);
  return [...records.values()];
}
