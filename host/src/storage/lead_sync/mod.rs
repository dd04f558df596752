//! Lead sync: the lead records a transform may return beside plain funnel
//! updates. A record finds its lead by uid, by the import's external id or
//! by email, creates it when nothing matches (if the import allows it),
//! otherwise updates the fields it names, then moves it by the funnel
//! rules; it emits the events an admin change of the same kind emits, with
//! the import as the actor.
//!
//! The admin API's creates are lead records too, of another source
//! ([`RecordSource::AdminCreate`]): each creates its lead or fails on the
//! email another lead holds, so that concurrent creates share a
//! transaction and a multi-row statement of each kind.
//!
//! Records go through the [`FunnelWriter`](super::funnel_updates::FunnelWriter)'s
//! group commit, after the group's plain records, in three steps that give
//! every transaction the same lock order and cost a few statements per
//! group rather than several round trips per record:
//!
//! 1. [`candidates()`], before the group locks anything: the existing leads
//!    its records may touch (by uid, by their import's external id, by an
//!    email they match or set), one statement per account.
//! 2. The group writer locks them with its other leads, in one statement,
//!    in id order (PostgreSQL; SQLite's one writer needs no locks).
//! 3. [`apply()`]: the records are played in memory, in request order, against
//!    those rows ([`plan`]): a record may create the lead a later one
//!    matches, and a failed one leaves the state as it was, so results are
//!    those of records applied one by one. Then [`write`] writes the leads
//!    (one `UPDATE`, one `INSERT` in email order, per 100), the history
//!    (a few statements) and the events with the outbox.
//!
//! A lead another transaction creates, or gives a key, between steps 1 and
//! 2 is not among the locked rows: writing the same key then fails on a
//! unique index, the transaction rolls back, and the group writer runs the
//! request again, when the other lead is committed and matched.
//!
//! The files: `candidates` (step 1), `apply` (step 3, and the admin
//! creates' answers), `plan` (the records played in memory) and `write`
//! (the leads' rows written).

mod apply;
mod candidates;
mod plan;
mod write;

pub(crate) use apply::apply;
pub(crate) use candidates::candidates;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::leads::Lead;
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;

/// Turns a lead's current fields (`None` when the record creates it) into
/// the fields it should have, or says which field is invalid.
pub(crate) type FieldEdit =
    dyn Fn(Option<LeadFields>) -> Result<LeadFields, InvalidInput> + Send + Sync;

/// How a record names its lead; the keys given are tried in this order:
/// uid, external id, email. The external id is also stored on the lead the
/// record lands on (created, or found by email without one).
#[derive(Debug, Clone, Default)]
pub(crate) struct LeadMatch {
    pub lead_id: Option<String>,
    pub external_id: Option<String>,
    pub email: Option<EmailAddress>,
}

/// One lead record, parsed and with its stage resolved.
#[derive(Clone)]
pub(crate) struct LeadRecord {
    pub matching: LeadMatch,
    pub fields: Arc<FieldEdit>,
    /// The email `fields` sets, if it names a valid one: the lead holding
    /// it is locked with the others, since the record may collide with it.
    pub named_email: Option<EmailAddress>,
    /// The stage to move the lead to, if the record names one.
    pub stage_id: Option<String>,
}

impl LeadRecord {
    /// An admin API create: a new lead with `fields`, placed at `stage_id`
    /// if given (a [`RecordSource::AdminCreate`] record).
    pub(crate) fn new_lead(fields: LeadFields, stage_id: Option<String>) -> Self {
        Self {
            matching: LeadMatch::default(),
            named_email: Some(fields.email.clone()),
            fields: Arc::new(move |_| Ok(fields.clone())),
            stage_id,
        }
    }
}

impl std::fmt::Debug for LeadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeadRecord")
            .field("matching", &self.matching)
            .field("stage_id", &self.stage_id)
            .finish_non_exhaustive()
    }
}

/// The import whose records these are, and what it allows.
#[derive(Debug, Clone)]
pub(crate) struct SyncingImport {
    pub import_id: String,
    /// Whether a record that matches no lead creates one.
    pub create_leads: bool,
}

/// Where a request's lead records come from, which decides what a record
/// does when it matches a lead, or none.
#[derive(Debug, Clone)]
pub(crate) enum RecordSource {
    /// A webhook import's transform: a record updates the lead it matches
    /// and creates one where nothing matches, if the import allows it.
    Import(SyncingImport),
    /// The admin API's creates ([`LeadRecord::new_lead`]): a record matches
    /// nothing and creates its lead; one whose email a lead already has
    /// fails with [`SyncFailure::EmailTaken`], naming that lead. Their
    /// results carry the lead as created ([`Synced::lead`]), the API's
    /// answer.
    AdminCreate,
}

/// What a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncStatus {
    Created,
    Updated,
    Unchanged,
}

/// An applied record: what it did to which lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Synced {
    pub status: SyncStatus,
    pub lead_id: String,
    /// The lead as committed, for [`RecordSource::AdminCreate`] records;
    /// `None` for an import's.
    pub lead: Option<Box<Lead>>,
}

/// Why a record was not applied; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyncFailure {
    /// Matched by uid alone, and no lead has it.
    LeadNotFound,
    /// Nothing matched and the import does not create leads.
    CreationOff,
    /// A field is invalid (the message names it).
    InvalidField(String),
    /// The stage is no longer in the funnel.
    InvalidStage,
    /// The new email belongs to another lead (`holder`).
    EmailTaken { email: String, holder: String },
    /// The lead found by uid or email would take this import's external id
    /// from another lead that has it.
    ExternalIdTaken(String),
}

/// One request's lead records, as the group writer hands them over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncBatch<'a> {
    pub account_id: &'a str,
    pub source: &'a RecordSource,
    pub actor: &'a Actor,
    pub records: &'a [LeadRecord],
}

/// Ids of the existing leads a group's records may touch, by account.
pub(crate) type Candidates = BTreeMap<String, BTreeSet<String>>;
