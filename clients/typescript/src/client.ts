// A small typed fetch wrapper over the generated `paths` (src/schema.ts):
// every path, method, parameter, body and answer is checked by the
// compiler against the OpenAPI document the server serves.

import createFetchClient from "openapi-fetch";
import type { Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

/** Every schema of the document, by name: `Schemas["WebhookView"]`. */
export type Schemas = components["schemas"];

/** The typed client: `client.GET("/api/v1/webhooks/{webhook_id}", {params: {path: {webhook_id}}})`. */
export type SwitchyardClient = Client<paths>;

export interface ClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** An admin API key (`sy_admin_...`) or, for the inbound endpoints, a webhook import's token. */
  token: string;
  /** A `fetch` of your own (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** A client that sends `Authorization: Bearer <token>` with every call. */
export function createClient(options: ClientOptions): SwitchyardClient {
  return createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${options.token}` },
    fetch: options.fetch,
  });
}

/** An error answer of the API: its status and the message it gave. */
export class SwitchyardError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(`${status}: ${message}`);
    this.name = "SwitchyardError";
  }
}

/**
 * The answer's data, or a thrown {@link SwitchyardError} carrying the
 * server's `error` message:
 * `const webhook = await unwrap(client.POST("/api/v1/webhooks", {body}))`.
 */
export async function unwrap<Data>(
  call: Promise<{ data?: Data; error?: unknown; response: Response }>,
): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const message =
      typeof error === "object" && error !== null && "error" in error
        ? String((error as { error: unknown }).error)
        : response.statusText;
    throw new SwitchyardError(response.status, message, error);
  }
  return data as Data;
}
