//! Lead sync: the lead records a transform may return beside plain funnel
//! updates. A record finds its lead by uid, by the import's external id or
//! by email, creates it when nothing matches (if the import allows it),
//! otherwise updates the fields it names, then moves it by the funnel
//! rules; it emits the events an admin change of the same kind emits, with
//! the import as the actor.
//!
//! Records go through the [`FunnelWriter`](super::funnel_updates::FunnelWriter)'s
//! group commit, after the group's plain records, in three steps that give
//! every transaction the same lock order and cost a few statements per
//! group rather than several round trips per record:
//!
//! 1. [`candidates`], before the group locks anything: the existing leads
//!    its records may touch (by uid, by their import's external id, by an
//!    email they match or set), one statement per account.
//! 2. The group writer locks them with its other leads, in one statement,
//!    in id order (PostgreSQL; SQLite's one writer needs no locks).
//! 3. [`apply`]: the records are played in memory, in request order, against
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

mod plan;
mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use self::plan::{Known, Leads, Planned};
use super::funnel_history::BackwardMove;
use super::funnel_updates::{LeadResults, Waiting};
use super::lead_events::{self, LeadEvent};
use super::leads;
use super::sql::Arg;
use super::statement::Statement;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::funnel::{FunnelMove, StagePosition};
use crate::domain::lead::LeadFields;
use crate::domain::time::now_micros;

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
    /// The new email belongs to another lead.
    EmailTaken(String),
    /// The lead found by uid or email would take this import's external id
    /// from another lead that has it.
    ExternalIdTaken(String),
}

/// One request's lead records, as the group writer hands them over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncBatch<'a> {
    pub account_id: &'a str,
    pub import: &'a SyncingImport,
    pub actor: &'a Actor,
    pub records: &'a [LeadRecord],
}

/// Ids of the existing leads a group's records may touch, by account.
pub(crate) type Candidates = BTreeMap<String, BTreeSet<String>>;

/// The keys a group's records name, in one account.
#[derive(Default)]
struct Keys<'a> {
    ids: BTreeSet<&'a str>,
    emails: BTreeSet<String>,
    /// External ids by import.
    external: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

/// Step 1: the leads the records may touch, read without locking them (the
/// caller locks them, in order, with its others).
pub(crate) async fn candidates(
    tx: &mut WriteTx<'_>,
    batches: &[SyncBatch<'_>],
) -> StoreResult<Candidates> {
    let mut by_account: BTreeMap<&str, Keys> = BTreeMap::new();
    for batch in batches {
        let keys = by_account.entry(batch.account_id).or_default();
        for record in batch.records {
            let matching = &record.matching;
            keys.ids.extend(matching.lead_id.as_deref());
            keys.emails.extend(
                matching
                    .email
                    .iter()
                    .chain(&record.named_email)
                    .map(EmailAddress::lookup_key),
            );
            if let Some(external_id) = &matching.external_id {
                keys.external
                    .entry(&batch.import.import_id)
                    .or_default()
                    .insert(external_id);
            }
        }
    }
    let mut found = Candidates::new();
    for (account_id, keys) in &by_account {
        let mut statement = Statement::new("");
        if !keys.ids.is_empty() {
            union_branch(&mut statement, account_id, " AND id IN (");
            statement.push_list(keys.ids.iter().copied()).push(")");
        }
        if !keys.emails.is_empty() {
            probe_branch(&mut statement, account_id, None, "email_key", &keys.emails);
        }
        for (import_id, external_ids) in &keys.external {
            probe_branch(
                &mut statement,
                account_id,
                Some(import_id),
                "external_id",
                external_ids,
            );
        }
        if statement.sql().is_empty() {
            continue;
        }
        let rows: Vec<(String,)> = tx.fetch_all(statement.sql(), statement.args()).await?;
        found
            .entry((*account_id).to_owned())
            .or_default()
            .extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(found)
}

/// Adds `SELECT id FROM leads WHERE account_id = $n<condition>` to a union
/// (each branch answered from its own index).
fn union_branch<'a>(statement: &mut Statement<'a>, account_id: &'a str, condition: &str) {
    if !statement.sql().is_empty() {
        statement.push(" UNION ");
    }
    statement
        .push("SELECT id FROM leads WHERE account_id = ")
        .push_bind(account_id)
        .push(condition);
}

/// Adds to a union the ids of the account's leads whose `column` (of the
/// import's leads, with `import_id`) holds one of `keys`, looked up one key
/// at a time: a scalar subquery per key is an equality probe of the unique
/// index, whatever the planner's statistics say. As `column IN (...)`,
/// PostgreSQL without statistics yet (a table that grew since autovacuum
/// last analysed it, as every new account's does) read all of the
/// account's leads through its (account, id) index and filtered them:
/// 33 ms for a 100-record lead-sync batch against 20,000 leads, against
/// 0.2 ms this way (EXPLAIN ANALYZE, PostgreSQL 15).
fn probe_branch<'a, K>(
    statement: &mut Statement<'a>,
    account_id: &'a str,
    import_id: Option<&'a str>,
    column: &str,
    keys: &'a BTreeSet<K>,
) where
    &'a K: Into<Arg<'a>>,
{
    if !statement.sql().is_empty() {
        statement.push(" UNION ");
    }
    statement
        .push("SELECT id FROM (SELECT (SELECT id FROM leads WHERE account_id = ")
        .push_bind(account_id);
    if let Some(import_id) = import_id {
        statement
            .push(" AND external_import_id = ")
            .push_bind(import_id);
    }
    statement
        .push(&format!(" AND {column} = v.column1) AS id FROM (VALUES "))
        .push_values(keys, |row, key| {
            row.bind(key);
        })
        .push(") AS v) AS probed WHERE id IS NOT NULL");
}

/// Step 3: applies the records of `batches`, in order, once their
/// `candidates` are locked and the group's plain records written; one
/// result list per batch. `funnels` holds each account's live stages and
/// `webhooks_versions` what the caller read of them in this transaction.
pub(crate) async fn apply(
    db: &Database,
    tx: &mut WriteTx<'_>,
    batches: &[SyncBatch<'_>],
    candidates: &Candidates,
    funnels: &HashMap<&str, Arc<Vec<StagePosition>>>,
    webhooks_versions: &BTreeMap<&str, i64>,
) -> StoreResult<Vec<LeadResults>> {
    // Each account's candidates as they stand now: locked, at the stages
    // the group's plain records left them.
    let mut leads: BTreeMap<&str, Leads> = BTreeMap::new();
    for batch in batches {
        if leads.contains_key(batch.account_id) {
            continue;
        }
        let ids: Vec<&str> = candidates
            .get(batch.account_id)
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut known = Vec::with_capacity(ids.len());
        for lead in leads::fetch_many(tx, batch.account_id, &ids).await? {
            let fields = lead.fields().map_err(StoreError::from)?;
            let external = lead.external_import_id.zip(lead.external_id);
            known.push(Known::existing(
                lead.id,
                fields,
                lead.funnel_stage_id,
                external,
            ));
        }
        leads.insert(batch.account_id, Leads::new(known));
    }

    let mut planned = Planned::default();
    let mut results = Vec::with_capacity(batches.len());
    for batch in batches {
        let stages = funnels
            .get(batch.account_id)
            .map_or(&[][..], |stages| stages.as_slice());
        let account_leads = leads.entry(batch.account_id).or_default();
        results.push(
            batch
                .records
                .iter()
                .map(|record| plan::play(account_leads, batch, stages, record, &mut planned))
                .collect(),
        );
    }

    let now = now_micros();
    for (account_id, account_leads) in &leads {
        write::write_leads(tx, account_id, account_leads, now).await?;
    }
    // History in record order, a few statements at a time: a lead moving
    // again first writes what waits (its next move must see it).
    let mut waiting = Waiting::default();
    for planned_move in &planned.moves {
        let (account_id, lead_id) = (planned_move.account_id, planned_move.lead_id.as_str());
        if waiting.has(account_id, lead_id) {
            waiting.write(tx, now).await?;
        }
        match &planned_move.plan {
            FunnelMove::Forward { backfill, target } => waiting.add_forward(
                account_id,
                lead_id,
                backfill.clone(),
                target.clone(),
                planned_move.actor,
            ),
            FunnelMove::Backward {
                target,
                target_position,
            } => waiting.add_backward(
                account_id,
                BackwardMove::new(
                    planned_move.stages,
                    lead_id,
                    planned_move.actor,
                    target.clone(),
                    *target_position,
                ),
            ),
            FunnelMove::Unchanged => {}
        }
    }
    waiting.write(tx, now).await?;
    let events: Vec<LeadEvent> = planned
        .events
        .iter()
        .map(|event| LeadEvent {
            account_id: event.account_id,
            lead_id: &event.lead_id,
            name: event.name,
            actor: event.actor,
            previous_stage: event.previous_stage.as_deref(),
            stage_after: event.stage_after.as_deref(),
        })
        .collect();
    lead_events::record(db, tx, &events, now, webhooks_versions).await?;
    Ok(results)
}
