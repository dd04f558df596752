// The Switchyard client: the typed API client and the webhook verification
// helpers for receivers.

export { createClient, unwrap, SwitchyardError } from "./client.js";
export type { ClientOptions, Schemas, SwitchyardClient } from "./client.js";
export { verifyWebhook, verifyHmacSignature, payloadsOf, WebhookVerificationError } from "./webhooks.js";
export type { HeaderSource, VerifyOptions, WebhookPayload, WebhookView } from "./webhooks.js";
export type { components, paths, operations } from "./schema.js";
