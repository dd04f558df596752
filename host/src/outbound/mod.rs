//! Outbound webhooks: turning committed lead events into signed HTTP
//! deliveries.
//!
//! - [`events`]: event names and which webhooks an event goes to.
//! - [`settings`]: a webhook's checked settings (method, auth, retries,
//!   payload format).
//! - [`signing`]: Standard Webhooks signatures and the compatibility headers.
//! - [`payload`]: the event a payload builder plugin receives, and the
//!   request built from its answer.
//! - [`client`]: the HTTP client that refuses private destinations.
//! - [`delivery`]: the delivery engine: renders, signs and sends a message,
//!   claims due deliveries, batches them, decides what an answer means
//!   (retry, give up, deactivate) and records every attempt.

pub mod client;
pub mod delivery;
pub mod events;
pub mod payload;
pub mod settings;
pub mod signing;
