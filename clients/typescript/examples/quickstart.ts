// Creates a webhook, sends it a test event, and lists its deliveries.
//
//   SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_API_KEY=sy_admin_... \
//   RECEIVER_URL=https://crm.example/hooks/switchyard node dist/examples/quickstart.js

import { createClient, unwrap } from "../src/index.js";

const client = createClient({
  baseUrl: process.env.SWITCHYARD_URL ?? "http://127.0.0.1:8080",
  token: process.env.SWITCHYARD_API_KEY ?? "",
});

const webhook = await unwrap(
  client.POST("/api/v1/webhooks", {
    body: {
      name: "CRM sync",
      url: process.env.RECEIVER_URL ?? "https://crm.example/hooks/switchyard",
      events: ["lead.stage_changed"],
      payload_format: "small",
    },
  }),
);
console.log(`created webhook ${webhook.id}; verify its requests with ${webhook.signing_secret}`);

const sent = await unwrap(
  client.POST("/api/v1/webhooks/{webhook_id}/test", { params: { path: { webhook_id: webhook.id } } }),
);
console.log(`test event ${sent.message_id}: ${sent.success ? `answered ${sent.status}` : `failed: ${sent.error}`}`);

const deliveries = await unwrap(
  client.GET("/api/v1/webhooks/{webhook_id}/deliveries", {
    params: { path: { webhook_id: webhook.id }, query: { limit: 10 } },
  }),
);
for (const delivery of deliveries.data) {
  console.log(`delivery ${delivery.id} ${delivery.event} ${delivery.status} after ${delivery.attempt_count} attempt(s)`);
}
