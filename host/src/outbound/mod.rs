//! Outbound webhooks: turning committed lead events into signed HTTP
//! deliveries. What a webhook is (its settings, events and conditions)
//! is the domain's: [`crate::domain::webhook`].
//!
//! - [`retry`]: when a retry falls due (jitter, `Retry-After`).
//! - [`signing`]: Standard Webhooks signatures and the compatibility headers.
//! - [`payload`]: the event a payload builder plugin receives, and the
//!   request built from its answer.
//! - [`client`]: the HTTP client that refuses private destinations.
//! - [`delivery`]: the delivery engine: renders, signs and sends a message,
//!   claims due deliveries, batches them, decides what an answer means
//!   (retry, give up, deactivate) and records every attempt.

pub(crate) mod client;
pub(crate) mod delivery;
pub(crate) mod payload;
pub(crate) mod retry;
pub(crate) mod signing;
