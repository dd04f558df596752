// Types of Switchyard plugins written in JavaScript or TypeScript (ABI v1,
// see plugin-sdk/ABI.md). A transform exports
//   transform(config, request): FunnelUpdate[] | Promise<FunnelUpdate[]>
// and a payload builder exports
//   buildPayload(config, event): Payload | Promise<Payload>
// Fields may be added to any of these objects later: ignore the ones you do
// not know.

/** A JSON value, as plugins receive and return them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The CRM's request, as an inbound transform receives it. */
export interface InboundRequest<Body = Json> {
  /** Lowercase names, each once (the last value of a repeated header);
   * `authorization` and `cookie` are left out. */
  headers: Record<string, string>;
  content_type: string;
  /** Parsed for `application/json` and `application/*+json`; the raw text
   * for any other content type (a form, XML, plain text). */
  body: Body;
}

/** One funnel update, applied as if a CRM had sent it to the batch endpoint. */
export interface FunnelUpdate {
  /** The lead's id (`lead_...`). */
  lead_profile_uid: string;
  /** A stage title, a stage id, or a name the import maps to a stage. */
  funnel_stage: string;
}

export interface Stage {
  id: string;
  title: string;
  position: number | null;
}

export interface Actor {
  type: "admin_api_key" | "webhook_import" | string;
  id: string;
  name: string;
}

export interface Lead {
  lead_profile_uid: string;
  email: string;
  company: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  website: string | null;
  position: string | null;
  twitter: string | null;
  linkedin: string | null;
  notes: string | null;
  score: number;
  /** Null when the lead is in no stage. */
  funnel_stage: Stage | null;
  created_at?: string;
  updated_at?: string;
}

export interface HistoryEntry {
  id: string;
  funnel_stage: Stage | null;
  occurred_at?: string;
  source: { type: string; id: string; name: string } | null;
  backfilled: boolean;
  archived_at: string | null;
}

export type EventName = "lead.created" | "lead.updated" | "lead.deleted" | "lead.stage_changed";

/** The event a payload builder receives. */
export interface LeadEvent {
  /** The message id, also the receiver's idempotency key (`msg_...`). */
  id: string;
  event: EventName;
  webhook_id: string;
  object_id: string;
  /** RFC 3339: when the change happened. */
  timestamp: string;
  actor: Actor;
  lead: Lead;
  /** The stage the lead left; meaningful for `lead.stage_changed` only. */
  previous_funnel_stage?: Stage | null;
  /** The lead's funnel history, oldest first. */
  funnel_history?: HistoryEntry[];
}

/** What a payload builder returns: the request the receiver gets. */
export interface Payload {
  /** A string is sent byte for byte (use it for forms, XML, or JSON whose
   * key order matters); any other value is serialised as JSON. */
  body: Json;
  content_type: string;
  headers?: Record<string, string>;
}

/** `transform(config, request)`: the records to apply, or throw. */
export type Transform<Config = Json, Body = Json> = (
  config: Config,
  request: InboundRequest<Body>,
) => FunnelUpdate[] | Promise<FunnelUpdate[]>;

/** `buildPayload(config, event)`: the request to send, or throw. */
export type PayloadBuilder<Config = Json> = (
  config: Config,
  event: LeadEvent,
) => Payload | Promise<Payload>;

declare global {
  /** Each call writes one line to the call's log (dry runs and
   * `switchyard plugin run` show it): strings as they are, other values as
   * JSON. */
  const console: {
    log(...values: unknown[]): void;
    info(...values: unknown[]): void;
    warn(...values: unknown[]): void;
    error(...values: unknown[]): void;
    debug(...values: unknown[]): void;
  };
}
