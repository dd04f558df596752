//! Switchyard: a webhook gateway for CRMs.
//!
//! CRMs push funnel-stage updates (or arbitrary JSON that a Wasm transform
//! turns into updates) into Switchyard; lead events go out as signed webhooks
//! in whatever shape the receiver wants. The contracts live in `DESIGN.md`.
//!
//! # Layers
//!
//! ```text
//! cli, startup       wiring: flags, the database, the router, the worker
//! ui                 the admin web UI (reuses the API's rules in http)
//! http               the API, one module per resource
//! outbound, plugins  the delivery engine; the WebAssembly sandbox
//! storage            the SQL, each table's with the module that owns it
//! domain, config     values, rules and the webhook and plugin models; settings
//! ```
//!
//! Each layer uses only the layers below it (and `outbound` uses
//! `plugins`, which uses `storage` for uploads). Where a change goes:
//! a webhook setting starts in `domain::webhook`; retries, batching and
//! signing in `outbound/delivery/` (see below); a table's SQL in the
//! `storage` module that owns it; an endpoint in its `http` module; a
//! screen in its `ui` module.
//!
//! # Layout
//!
//! - [`cli`]: the `switchyard` command line (serve, migrate, account
//!   create and key create, openapi; the plugin subcommands run, build and
//!   new in `cli/plugin.rs`).
//! - [`config`]: every setting of `switchyard serve`, as flags with environment
//!   fallbacks.
//! - [`startup`]: builds the [`startup::Application`] (database, router,
//!   listener) so that tests can start the real server on a free port.
//! - `telemetry`: `tracing` set-up (human or JSON logs).
//! - `metrics`: Prometheus metrics (`GET /metrics`): the registry, the
//!   recording functions the other layers call, the scrape-time figures.
//! - [`domain`]: values parsed once into types that cannot be invalid (emails,
//!   stage titles, lead fields, ids, secrets), the pure funnel rules, and the
//!   models of what admins configure: `domain::webhook` (a webhook's
//!   settings, events and conditions, batching, payload format, and their
//!   one set of defaults) and [`domain::plugin`] (kind, limits). To add or
//!   change a webhook setting, start there.
//! - [`storage`]: the database (SQLite or PostgreSQL behind one pool type),
//!   its migrations, SQLite's writer thread (`sqlite_writer`: group
//!   commit) and checkpoint thread (`sqlite_checkpoints`), and the SQL
//!   for each resource: `deliveries/` (claims,
//!   batches, attempts, admin reads, retention), `webhook_health` (failing
//!   runs, deactivation), `delivery_results` (both, in one transaction),
//!   `lead_events/` (the outbox: recording a change's events, their rows
//!   and their deliveries', full batches released, reading events back),
//!   `funnel_updates/` (the inbound write
//!   path: the group-commit writer, a group's transaction, the history
//!   waiting to be written, the leads locked), `lead_sync/` (lead records
//!   in the same group commit: the candidates found, the records played
//!   in memory, the leads written, the admin creates answered),
//!   `funnel_history/` (reading a lead's history; writing a move's: one
//!   lead's, the stages reached, backward moves), `webhooks/` (crud, a webhook's columns in `row.rs`, the
//!   outbox's cached subscriptions), `webhook_imports/` (lifecycle and
//!   tokens, stage-name mappings, the lookup that authenticates an inbound
//!   request); `versioned_cache`, the one cache shape of its hot reads (an
//!   account's stages and webhooks, an import's stage directory), checked
//!   against version columns.
//! - `http`: the HTTP API, one module per resource, the larger ones split
//!   by concept: `webhooks/` (crud, input, try-out, deliveries, recovery,
//!   views); `webhook_imports/` (crud, mappings, transform, its trial on a
//!   sample, views); `funnel_import/`, the inbound endpoints (the import
//!   token, single and batch updates, each record parsed and resolved in
//!   `records.rs`, the attached transform, the contract's types);
//!   `plugins/` (upload, catalog, dry run, views). Beside them: the error
//!   type, extractors, the generated OpenAPI document,
//!   `http::flood_control` (import rate limits, the cap on undelivered
//!   deliveries: the 429s), and `http::plugin_trial` (one call of a plugin
//!   on a sample, for both the plugin dry run and an import's transform
//!   trial).
//! - `ui`: the admin web UI under `/`: server-rendered pages, sign-in
//!   sessions, CSRF and security headers.
//! - `outbound`: outbound webhooks: signing, payloads, the SSRF-safe HTTP
//!   client, and `outbound::delivery`, the delivery engine. Its decisions
//!   are pure functions with their tests:
//!   - to change retry behaviour (which answers are retried, when, 410,
//!     `Retry-After`), edit `outbound/delivery/outcome.rs` (the schedule's
//!     jitter and `Retry-After` bounds: `outbound::retry::retry_delay`);
//!   - to change batching (which deliveries go together, the batch body),
//!     edit `outbound/delivery/batches.rs`;
//!   - to change the headers sent, signing or what the log keeps of a
//!     request, edit `outbound/delivery/request.rs` (the signatures
//!     themselves: `outbound::signing`).
//! - [`plugins`]: the WebAssembly sandbox (wasmtime) for transforms and
//!   payload builders: named errors, the registry of built-ins and uploads.
//!   - to change a sandbox limit or what a call may import, edit
//!     `plugins/runtime/engine.rs` and `plugins/runtime/validate.rs`; how a
//!     call's end is named (out of fuel, trap, invalid output):
//!     `plugins/runtime/outcome.rs`;
//!   - JavaScript and TypeScript builds: `plugins/js/` (TypeScript's type
//!     stripping: `plugins/typescript/`, its rules for class members in
//!     `class_members.rs`); what `plugin new` writes: `plugins/scaffold.rs`
//!     and the templates in `plugin-sdk/`.

// Only what the binary, the end-to-end tests and the benches use is `pub`;
// the rest is `pub(crate)`, so that rustc reports what nothing uses.
#![warn(unreachable_pub)]

pub mod cli;
pub mod config;
pub mod domain;
// The fuzz targets (`fuzz/`, `scripts/fuzz`); in the unit tests, their smoke run.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod http;
pub(crate) mod metrics;
pub(crate) mod outbound;
pub mod plugins;
pub mod startup;
pub mod storage;
pub(crate) mod telemetry;
pub(crate) mod ui;
