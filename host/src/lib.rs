//! Switchyard: a webhook gateway for CRMs.
//!
//! CRMs push funnel-stage updates (or arbitrary JSON that a Wasm transform
//! turns into updates) into Switchyard; lead events go out as signed webhooks
//! in whatever shape the receiver wants. The contracts live in `DESIGN.md`.
//!
//! # Layout
//!
//! - [`cli`]: the `switchyard` command line (serve, migrate, account create).
//! - [`config`]: every setting of `switchyard serve`, as flags with environment
//!   fallbacks.
//! - [`startup`]: builds the [`startup::Application`] (database, router,
//!   listener) so that tests can start the real server on a free port.
//! - [`telemetry`]: `tracing` set-up (human or JSON logs).
//! - [`domain`]: values parsed once into types that cannot be invalid (emails,
//!   stage titles, lead fields, ids, secrets), the pure funnel rules, and the
//!   models of what admins configure: [`domain::webhook`] (a webhook's
//!   settings, events and conditions, batching, payload format, and their
//!   one set of defaults) and [`domain::plugin`] (kind, limits). To add or
//!   change a webhook setting, start there.
//! - [`storage`]: the database (SQLite or PostgreSQL behind one pool type),
//!   its migrations, and the SQL for each resource.
//! - [`http`]: the HTTP API, one module per resource, plus the error type,
//!   extractors and the generated OpenAPI document.
//! - [`ui`]: the admin web UI under `/`: server-rendered pages, sign-in
//!   sessions, CSRF and security headers.
//! - [`outbound`]: outbound webhooks: signing, payloads, the SSRF-safe HTTP
//!   client, and [`outbound::delivery`], the delivery engine. Its decisions
//!   are pure functions with their tests:
//!   - to change retry behaviour (which answers are retried, when, 410,
//!     `Retry-After`), edit `outbound/delivery/outcome.rs` (the schedule's
//!     jitter and `Retry-After` bounds: [`outbound::retry::retry_delay`]);
//!   - to change batching (which deliveries go together, the batch body),
//!     edit `outbound/delivery/batches.rs`;
//!   - to change the headers sent, signing or what the log keeps of a
//!     request, edit `outbound/delivery/request.rs` (the signatures
//!     themselves: [`outbound::signing`]).
//! - [`plugins`]: the WebAssembly sandbox (wasmtime) for transforms and
//!   payload builders: named errors, the registry of built-ins and uploads.

pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod outbound;
pub mod plugins;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod ui;
