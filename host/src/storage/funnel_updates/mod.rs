//! Applying funnel updates sent by webhook imports: lists of (lead, stage)
//! records, each applied by the funnel rules and committed before the
//! caller answers, and lead records ([`lead_sync`](super::lead_sync)):
//! those of lead sync and the admin API's creates, which go through the
//! same group commit after a request's plain records.
//!
//! Requests go through a [`FunnelWriter`], which commits the requests that
//! arrive together in one transaction (group commit): one `BEGIN`/`COMMIT`
//! and one fsync serve many requests, which is what lets a single SQLite
//! writer keep up with many concurrent CRMs. Results stay per request and
//! per record; if a grouped transaction fails, each of its requests is
//! retried alone so one request's failure never fails another's.
//!
//! A record fails (lead not found, stage not in the funnel) only before it
//! has written anything, so failed records need no savepoint and never
//! disturb the others. Leads are locked in a fixed (account, id) order
//! before any record is applied, so concurrent transactions touching the
//! same leads wait for each other instead of deadlocking.
//!
//! - `writer`: the [`FunnelWriter`], its tasks gathering requests into
//!   groups, a group's commit, and a failed group's requests retried alone;
//! - `apply`: one group's transaction, record by record: the leads locked,
//!   each plain record planned by the funnel rules, the leads' stages and
//!   the outbox written once at the end, then the lead records;
//! - `waiting`: the moves whose history is not written yet ([`Waiting`]),
//!   written a few statements per account (lead sync's moves too);
//! - `locks`: the leads locked in id order, their stages and the account's
//!   versions read in the same statement.

mod apply;
mod locks;
mod waiting;
mod writer;

pub(super) use waiting::Waiting;
pub(crate) use writer::FunnelWriter;

use super::lead_sync::{LeadRecord, RecordSource, SyncFailure, Synced};
use crate::domain::actor::Actor;

/// One record to apply: a lead and the stage it should be at.
#[derive(Debug, Clone)]
pub(crate) struct FunnelUpdate {
    pub lead_id: String,
    pub stage_id: String,
}

/// What happened to one applied record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateStatus {
    Updated,
    Unchanged,
}

/// Why one record was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordFailure {
    LeadNotFound,
    InvalidStage,
}

pub(crate) type RecordResults = Vec<Result<UpdateStatus, RecordFailure>>;

/// The results of one request's lead records, in order.
pub(crate) type LeadResults = Vec<Result<Synced, SyncFailure>>;

/// The updates of one inbound request.
#[derive(Debug, Clone)]
pub(crate) struct UpdateRequest {
    pub account_id: String,
    pub actor: Actor,
    pub updates: Vec<FunnelUpdate>,
    /// Lead records (a transform's, or an admin create), applied after
    /// `updates`, and where they came from; `None` on the plain path.
    pub lead_records: Option<(RecordSource, Vec<LeadRecord>)>,
}

impl UpdateRequest {
    fn records(&self) -> usize {
        self.updates.len()
            + self
                .lead_records
                .as_ref()
                .map_or(0, |(_, records)| records.len())
    }
}

/// What happened to each record of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestResults {
    pub updates: RecordResults,
    pub leads: LeadResults,
}
