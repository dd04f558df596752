// Verifying Switchyard's webhook requests in a receiver: the Standard
// Webhooks signature (`webhook-id`, `webhook-timestamp`,
// `webhook-signature`), the compatibility `X-Hmac-Signature`, and batched
// payloads (a JSON array of single payloads).

import { createHmac, timingSafeEqual } from "node:crypto";

import type { Schemas } from "./client.js";

/** Why a request was refused; answer it with a 4xx and do not act on it. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** Request headers as a plain object (any case) or a `Headers`. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300), against replays. */
  toleranceSeconds?: number;
  /** The time to check against (default: now). */
  now?: Date;
}

/** The envelope every payload carries (formats add `data`). */
export interface WebhookPayload {
  id: string;
  event: string;
  webhook_id: string;
  object_id: string;
  timestamp: string;
  actor: { type: string; id: string; name: string };
  data?: unknown;
  [field: string]: unknown;
}

/** The HMAC key of a `whsec_...` secret: the bytes its base64 encodes. */
function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === wanted) {
      return Array.isArray(value) ? value[0] : value;
    }
  }
  return undefined;
}

function bytesOf(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks the Standard Webhooks signature of a request and returns its
 * payload: one payload, or an array of them for a batching webhook (see
 * {@link payloadsOf}). Pass the raw body exactly as received, before any
 * JSON parsing. Throws {@link WebhookVerificationError} when a header is
 * missing, the timestamp is outside the tolerance, or no signature
 * matches.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): WebhookPayload | WebhookPayload[] {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  const sentAt = Number(timestamp);
  if (!/^[0-9]+$/.test(timestamp) || !Number.isSafeInteger(sentAt)) {
    throw new WebhookVerificationError(`webhook-timestamp ${JSON.stringify(timestamp)} is not a Unix time`);
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - sentAt) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now: a replay, or a clock off`);
  }
  const raw = bytesOf(body);
  const expected = createHmac("sha256", keyOf(secret))
    .update(`${id}.${timestamp}.`)
    .update(raw)
    .digest();
  const matches = signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",", 2);
    return version === "v1" && signature !== undefined && sameBytes(Buffer.from(signature, "base64"), expected);
  });
  if (!matches) {
    throw new WebhookVerificationError("no webhook-signature matches: wrong secret, or the body was changed");
  }
  return JSON.parse(raw.toString("utf8")) as WebhookPayload | WebhookPayload[];
}

/**
 * Checks the compatibility `X-Hmac-Signature` header (hex HMAC-SHA256 of
 * the body alone, keyed like the standard signature), for receivers that
 * cannot use Standard Webhooks. It does not protect against replays: prefer
 * {@link verifyWebhook}.
 */
export function verifyHmacSignature(secret: string, headers: HeaderSource, body: string | Uint8Array): WebhookPayload | WebhookPayload[] {
  const signature = header(headers, "x-hmac-signature");
  if (!signature) {
    throw new WebhookVerificationError("missing X-Hmac-Signature header (turn send_hmac_header on for the webhook)");
  }
  const raw = bytesOf(body);
  const expected = createHmac("sha256", keyOf(secret)).update(raw).digest();
  if (!/^[0-9a-fA-F]+$/.test(signature) || !sameBytes(Buffer.from(signature, "hex"), expected)) {
    throw new WebhookVerificationError("X-Hmac-Signature does not match: wrong secret, or the body was changed");
  }
  return JSON.parse(raw.toString("utf8")) as WebhookPayload | WebhookPayload[];
}

/**
 * The single payloads of a verified request: a batching webhook sends a
 * JSON array of them, the others one. Deduplicate on each payload's `id`
 * (delivery is at least once).
 */
export function payloadsOf(verified: WebhookPayload | WebhookPayload[]): WebhookPayload[] {
  return Array.isArray(verified) ? verified : [verified];
}

/** The webhook settings a receiver verifies against. */
export type WebhookView = Schemas["WebhookView"];
