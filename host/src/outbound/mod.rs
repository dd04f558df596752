//! Outbound webhooks: turning committed lead events into signed HTTP
//! deliveries. [`client`] sends one request to a receiver, refusing private
//! destinations.

pub mod client;
