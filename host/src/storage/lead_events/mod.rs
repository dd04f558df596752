//! The transactional outbox: every change to a lead writes, in the same
//! transaction, one `lead_events` row and one `deliveries` row per active
//! webhook whose events and conditions match. An event therefore exists
//! if and only if its change was committed, and a committed change cannot
//! lose its deliveries, whatever happens to the process afterwards.
//!
//! When a delivery is created the event keeps a snapshot of the lead as
//! the change left it, so payloads describe the lead at the time of the
//! event (and a deleted lead can still be described). The delivery engine
//! reads events back with [`events_by_id`].
//!
//! - `record`: recording a transaction's events: the webhooks each goes
//!   to, the leads' snapshots;
//! - `insert`: the `lead_events` and `deliveries` rows, a hundred of each
//!   kind per statement;
//! - `batches`: full batches released at once;
//! - `stored`: reading events back, for the delivery engine.

mod batches;
mod insert;
mod record;
mod stored;

pub(crate) use record::{record, record_with_known};
pub(crate) use stored::{StoredEvent, events_by_id};

use crate::domain::actor::Actor;
use crate::domain::webhook::EventName;

/// One change to a lead, about to be committed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadEvent<'a> {
    pub account_id: &'a str,
    pub lead_id: &'a str,
    pub name: EventName,
    pub actor: &'a Actor,
    /// For `lead.stage_changed`: the stage the lead left (`None`: it was
    /// outside the funnel).
    pub previous_stage: Option<&'a str>,
    /// The lead's stage once the change is made (for a deletion, the stage
    /// it had).
    pub stage_after: Option<&'a str>,
}

/// A lead moving from one stage to another.
pub(crate) fn stage_changed<'a>(
    account_id: &'a str,
    lead_id: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    actor: &'a Actor,
) -> LeadEvent<'a> {
    LeadEvent {
        account_id,
        lead_id,
        name: EventName::LeadStageChanged,
        actor,
        previous_stage: from,
        stage_after: to,
    }
}
