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
use super::funnel_stages;
use super::funnel_updates::{LeadResults, Waiting};
use super::lead_events::{self, LeadEvent};
use super::leads::{self, Lead};
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
            if let (RecordSource::Import(import), Some(external_id)) =
                (batch.source, &matching.external_id)
            {
                keys.external
                    .entry(&import.import_id)
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
    // The leads the group created are as it inserted them: their events'
    // snapshots and the admin API's answers need no read of their rows.
    let created: Vec<Lead> = leads
        .values()
        .flat_map(|account_leads| &account_leads.all)
        .filter(|known| known.created())
        .map(|known| known.inserted_row(now))
        .collect();
    lead_events::record_with_known(db, tx, &events, now, webhooks_versions, &created).await?;
    answer_admin_creates(tx, batches, &mut results, created).await?;
    Ok(results)
}

/// Gives each admin create that succeeded its lead as committed, with its
/// stage's title and position (read only when one has a stage).
async fn answer_admin_creates(
    tx: &mut WriteTx<'_>,
    batches: &[SyncBatch<'_>],
    results: &mut [LeadResults],
    created: Vec<Lead>,
) -> StoreResult<()> {
    let mut answers: Vec<&mut Synced> = batches
        .iter()
        .zip(results.iter_mut())
        .filter(|(batch, _)| matches!(batch.source, RecordSource::AdminCreate))
        .flat_map(|(_, results)| results.iter_mut().flatten())
        .collect();
    if answers.is_empty() {
        return Ok(());
    }
    let mut created: HashMap<String, Lead> = created
        .into_iter()
        .map(|lead| (lead.id.clone(), lead))
        .collect();
    let stage_ids: Vec<&str> = answers
        .iter()
        .filter_map(|synced| created.get(&synced.lead_id)?.funnel_stage_id.as_deref())
        .collect();
    let stages = if stage_ids.is_empty() {
        HashMap::new()
    } else {
        funnel_stages::views_by_id(tx, &stage_ids).await?
    };
    for synced in &mut answers {
        let Some(mut lead) = created.remove(&synced.lead_id) else {
            continue;
        };
        if let Some(stage) = lead.funnel_stage_id.as_ref().and_then(|id| stages.get(id)) {
            lead.funnel_stage_title = Some(stage.title.clone());
            lead.funnel_stage_position = stage.position;
        }
        synced.lead = Some(Box::new(lead));
    }
    Ok(())
}
