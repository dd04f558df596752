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
//!   stage titles, lead fields, ids, secrets) and the pure funnel rules.
//! - [`storage`]: the database (SQLite or PostgreSQL behind one pool type),
//!   its migrations, and the SQL for each resource.
//! - [`http`]: the HTTP API, one module per resource, plus the error type,
//!   extractors and the generated OpenAPI document.
//! - [`ui`]: the admin web UI under `/`: server-rendered pages, sign-in
//!   sessions, CSRF and security headers.

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
