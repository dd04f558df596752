// The verification helpers against real deliveries: a receiver on loopback
// gets a webhook's requests from the server (SWITCHYARD_URL, with the admin
// key SWITCHYARD_API_KEY) and verifies each. Run by tests/api with
// `node --test dist/test/`.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";

import {
  createClient,
  type Schemas,
  payloadsOf,
  unwrap,
  verifyHmacSignature,
  verifyWebhook,
  WebhookVerificationError,
} from "../src/index.js";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const received: Received[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks) });
    response.writeHead(200).end("ok");
  });
});
let receiverUrl = "";

const client = createClient({
  baseUrl: process.env.SWITCHYARD_URL ?? "http://127.0.0.1:8080",
  token: process.env.SWITCHYARD_API_KEY ?? "",
});

before(async () => {
  await new Promise<void>((ready) => receiver.listen(0, "127.0.0.1", ready));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

after(() => receiver.close());

async function arrivals(path: string, count: number): Promise<Received[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const matching = received.filter((request) => request.path === `/${path}`);
    if (matching.length >= count) {
      return matching;
    }
    if (Date.now() > deadline) {
      throw new Error(`${matching.length} of ${count} requests reached ${path}`);
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

async function webhookTo(path: string, settings: Partial<Schemas["NewWebhook"]>) {
  return unwrap(
    client.POST("/api/v1/webhooks", {
      body: {
        name: path,
        url: `${receiverUrl}/${path}`,
        events: ["lead.created"],
        ...settings,
      },
    }),
  );
}

async function createLead(email: string) {
  await unwrap(client.POST("/api/v1/leads", { body: { email } }));
}

test("a delivery's Standard Webhooks signature and X-Hmac-Signature verify", async () => {
  const webhook = await webhookTo("single", { send_hmac_header: true });
  await createLead("ts-single@example.com");
  const [request] = await arrivals("single", 1);
  assert.ok(request);
  const verified = verifyWebhook(webhook.signing_secret, request.headers as Record<string, string>, request.body);
  const [payload] = payloadsOf(verified);
  assert.equal(payload?.event, "lead.created");
  assert.equal(payload?.webhook_id, webhook.id);
  assert.equal(payload?.id, request.headers["webhook-id"]);
  const compatible = verifyHmacSignature(webhook.signing_secret, request.headers as Record<string, string>, request.body);
  assert.deepEqual(compatible, verified);

  // A changed body, another secret, or an old request is refused.
  const tampered = Buffer.from(request.body.toString("utf8").replace("ts-single", "ts-other"));
  assert.throws(
    () => verifyWebhook(webhook.signing_secret, request.headers as Record<string, string>, tampered),
    WebhookVerificationError,
  );
  assert.throws(
    () => verifyHmacSignature(webhook.signing_secret, request.headers as Record<string, string>, tampered),
    WebhookVerificationError,
  );
  const other = await unwrap(
    client.POST("/api/v1/webhooks/{webhook_id}/regenerate-secret", { params: { path: { webhook_id: webhook.id } } }),
  );
  assert.throws(
    () => verifyWebhook(other.signing_secret, request.headers as Record<string, string>, request.body),
    WebhookVerificationError,
  );
  const later = new Date(Date.now() + 3_600_000);
  assert.throws(
    () => verifyWebhook(webhook.signing_secret, request.headers as Record<string, string>, request.body, { now: later }),
    /more than 300 s/,
  );
});

test("a batched delivery is a verified array of single payloads", async () => {
  const webhook = await webhookTo("batch", { batch_mode: "any_event", batch_wait_seconds: 1 });
  await createLead("ts-batch-1@example.com");
  await createLead("ts-batch-2@example.com");
  const requests = await arrivals("batch", 1);
  const payloads = requests.flatMap((request) =>
    payloadsOf(verifyWebhook(webhook.signing_secret, request.headers as Record<string, string>, request.body)),
  );
  const deadline = Date.now() + 30_000;
  while (payloads.length < 2 && Date.now() < deadline) {
    await new Promise((wait) => setTimeout(wait, 100));
    const more = received.filter((request) => request.path === "/batch").slice(requests.length);
    for (const request of more) {
      requests.push(request);
      payloads.push(...payloadsOf(verifyWebhook(webhook.signing_secret, request.headers as Record<string, string>, request.body)));
    }
  }
  assert.ok(Array.isArray(JSON.parse(requests[0]!.body.toString("utf8"))), "a batch is a JSON array");
  assert.deepEqual(payloads.map((payload) => payload.event), ["lead.created", "lead.created"]);
  assert.equal(new Set(payloads.map((payload) => payload.id)).size, 2);
});

test("the Standard Webhooks specification's example verifies", () => {
  const headers = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };
  const verified = verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, '{"test": 2432232314}', {
    now: new Date(1614265330 * 1000),
  });
  assert.deepEqual(verified, { test: 2432232314 });
});
