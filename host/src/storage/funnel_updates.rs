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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::account_funnel::{self, AccountVersions};
use super::funnel_history::{self, BackwardMove, LeadMove, ReachedStage};
use super::lead_events::{self, LeadEvent};
use super::lead_sync::{self, LeadRecord, RecordSource, SyncBatch, SyncFailure, Synced};
use super::sql::Arg;
use super::write_tx::WriteTx;
use super::{Backend, Database, StoreError, StoreResult, params};
use crate::domain::actor::Actor;
use crate::domain::funnel::FunnelMove;
use crate::domain::time::now_micros;

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

/// Most records one grouped transaction takes; a larger backlog is split.
const MAX_GROUP_RECORDS: usize = 1_000;

struct Job {
    request: UpdateRequest,
    reply: oneshot::Sender<StoreResult<RequestResults>>,
}

/// Applies update requests with group commit. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct FunnelWriter {
    jobs: mpsc::Sender<Job>,
    db: Database,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("request", &self.request)
            .finish()
    }
}

impl FunnelWriter {
    /// Starts the writer tasks. On SQLite two: while one group is on the
    /// writer thread, the other gathers the next one and queues it there,
    /// so the thread goes from one commit straight to the next group
    /// instead of waiting for an answer to travel back first (the thread
    /// still runs one transaction at a time). On PostgreSQL a few, since
    /// transactions on different leads run in parallel. They stop when
    /// every clone is dropped.
    pub(crate) fn start(db: Database) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>(4_096);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match db.backend() {
            Backend::Sqlite => 2,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run_writer(db.clone(), Arc::clone(&receiver)));
        }
        Self { jobs, db }
    }

    /// Applies one request's updates in order; returns when they are
    /// committed. An `Err` means nothing of this request was written.
    pub(crate) async fn apply(&self, request: UpdateRequest) -> StoreResult<RecordResults> {
        Ok(self.apply_with_leads(request).await?.updates)
    }

    /// [`apply_with_leads`](Self::apply_with_leads) for a request of one
    /// record that other requests rarely join on SQLite (an admin create):
    /// there it is a write job of its own, which the writer thread groups
    /// with the jobs queued beside it (one `COMMIT` for all of them). This
    /// writer's two tasks hand the thread one group each at a time, which
    /// made smaller groups: admin creates ran at 0.58 of the rate through
    /// them. On PostgreSQL the request joins this writer's groups.
    pub(crate) async fn apply_one(&self, request: UpdateRequest) -> StoreResult<RequestResults> {
        match self.db.backend() {
            Backend::Sqlite => Ok(apply_all(&self.db, Arc::new(vec![request]))
                .await?
                .pop()
                .unwrap_or_default()),
            Backend::Postgres => self.apply_with_leads(request).await,
        }
    }

    /// [`apply`](Self::apply) for a request that may carry lead records:
    /// the results of both kinds of record.
    pub(crate) async fn apply_with_leads(
        &self,
        request: UpdateRequest,
    ) -> StoreResult<RequestResults> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::Database(sqlx::Error::PoolClosed);
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn run_writer(db: Database, receiver: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let group = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut records = first.request.records();
            let mut group = vec![first];
            while records < MAX_GROUP_RECORDS {
                match receiver.try_recv() {
                    Ok(job) => {
                        records += job.request.records();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            group
        };
        commit_group(&db, group).await;
    }
}

async fn commit_group(db: &Database, group: Vec<Job>) {
    let (requests, replies): (Vec<UpdateRequest>, Vec<_>) = group
        .into_iter()
        .map(|job| (job.request, job.reply))
        .unzip();
    let requests = Arc::new(requests);
    match apply_all(db, Arc::clone(&requests)).await {
        Ok(results) => {
            for (reply, results) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(results));
            }
        }
        // A failed COMMIT wrote nothing on SQLite and may or may not have
        // been applied on PostgreSQL (the connection can drop after the
        // server committed): such a group is not retried, or records
        // applied once would be reported `unchanged`.
        Err(StoreError::CommitFailed(message)) => {
            tracing::error!(%message, requests = replies.len(), "funnel update transaction failed to commit");
            for reply in replies {
                let _ = reply.send(Err(StoreError::CommitFailed(message.clone())));
            }
        }
        Err(error) if replies.len() > 1 || error.is_unique_violation() => {
            tracing::warn!(%error, requests = replies.len(), "grouped funnel update failed; retrying each request alone");
            for (request, reply) in requests.iter().zip(replies) {
                let _ = reply.send(apply_alone(db, request).await);
            }
        }
        Err(error) => {
            tracing::error!(%error, "funnel update transaction failed");
            for reply in replies {
                let _ = reply.send(Err(StoreError::CommitFailed(error.to_string())));
            }
        }
    }
}

/// Applies one request in a transaction of its own. A lead record that lost
/// a race (another transaction created its lead, or gave one its key, after
/// the record looked) fails on a unique index; run again, it matches the
/// lead that won. Each loss means another transaction committed a lead the
/// request names, so it cannot lose more often than it has records.
async fn apply_alone(db: &Database, request: &UpdateRequest) -> StoreResult<RequestResults> {
    let mut lost = 0;
    loop {
        match apply_all(db, Arc::new(vec![request.clone()])).await {
            Err(error) if error.is_unique_violation() && lost < request.records() => {
                lost += 1;
                tracing::debug!(%error, lost, "a lead record lost a race; applying its request again");
            }
            result => return result.map(|mut all| all.pop().unwrap_or_default()),
        }
    }
}

/// Applies every request, in order, in one transaction; one result list
/// per request, returned once committed. History is written record by
/// record (a backward move must see the events earlier records wrote); the
/// leads' current stages and the outbox rows, which no later record reads,
/// are written once at the end.
pub(crate) async fn apply_all(
    db: &Database,
    requests: Arc<Vec<UpdateRequest>>,
) -> StoreResult<Vec<RequestResults>> {
    let writer = db.clone();
    db.write(move |tx| {
        Box::pin(async move {
            let requests: Vec<&UpdateRequest> = requests.iter().collect();
            apply_uncommitted(&writer, tx, &requests).await
        })
    })
    .await
}

/// The work of [`apply_all`], inside the caller's transaction.
async fn apply_uncommitted(
    db: &Database,
    tx: &mut WriteTx<'_>,
    requests: &[&UpdateRequest],
) -> StoreResult<Vec<RequestResults>> {
    // The leads lead records may touch are locked with the others.
    let syncing: Vec<SyncBatch> = requests
        .iter()
        .filter_map(|request| {
            let (source, records) = request.lead_records.as_ref()?;
            Some(SyncBatch {
                account_id: &request.account_id,
                source,
                actor: &request.actor,
                records,
            })
        })
        .collect();
    let sync_candidates = lead_sync::candidates(tx, &syncing).await?;
    let mut leads_by_account: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for request in requests {
        let leads = leads_by_account
            .entry(request.account_id.as_str())
            .or_default();
        leads.extend(request.updates.iter().map(|update| update.lead_id.as_str()));
        if let Some(candidates) = sync_candidates.get(&request.account_id) {
            leads.extend(candidates.iter().map(String::as_str));
        }
    }
    let mut current_stages: HashMap<(&str, &str), Option<String>> = HashMap::new();
    let mut funnels = HashMap::new();
    let mut webhooks_versions = BTreeMap::new();
    for (account_id, lead_ids) in &leads_by_account {
        let locked = lock_leads(tx, account_id, lead_ids).await?;
        let versions = locked.versions;
        for (lead_id, stage) in locked.stages {
            if let Some(lead_id) = lead_ids.get(lead_id.as_str()) {
                current_stages.insert((account_id, lead_id), stage);
            }
        }
        let funnel = account_funnel::read(db, tx, account_id, versions).await?;
        webhooks_versions.insert(*account_id, funnel.webhooks_version);
        funnels.insert(*account_id, funnel.stages);
    }

    let now = now_micros();
    // (request, lead, from, to) of each change, in order.
    let mut moves: Vec<(&UpdateRequest, &str, Option<String>, String)> = Vec::new();
    let mut all_results = Vec::with_capacity(requests.len());
    // Moves' history writes wait here and go in a few statements per
    // account; a lead moving again first writes what is waiting (its
    // next move must see it), so what waits is of distinct leads and its
    // statements can run in any order.
    let mut waiting = Waiting::default();
    for request in requests {
        let account_id = request.account_id.as_str();
        let stages = &funnels[account_id];
        let mut results = Vec::with_capacity(request.updates.len());
        for update in &request.updates {
            let Some(current) = current_stages.get_mut(&(account_id, update.lead_id.as_str()))
            else {
                results.push(Err(RecordFailure::LeadNotFound));
                continue;
            };
            let lead_move = LeadMove {
                stages,
                account_id,
                lead_id: &update.lead_id,
                current: current.as_deref(),
                target: &update.stage_id,
                actor: &request.actor,
                now,
            };
            let plan = match funnel_history::plan(&lead_move) {
                Ok(Some(plan)) => plan,
                Ok(None) => {
                    results.push(Ok(UpdateStatus::Unchanged));
                    continue;
                }
                Err(StoreError::Invalid(_)) => {
                    results.push(Err(RecordFailure::InvalidStage));
                    continue;
                }
                Err(other) => return Err(other),
            };
            match plan {
                FunnelMove::Backward {
                    target,
                    target_position,
                } => {
                    if waiting.has(account_id, &update.lead_id) {
                        waiting.write(tx, now).await?;
                    }
                    let backward = BackwardMove::new(
                        stages,
                        &update.lead_id,
                        &request.actor,
                        target,
                        target_position,
                    );
                    waiting.add_backward(account_id, backward);
                }
                FunnelMove::Forward { backfill, target } => {
                    if waiting.has(account_id, &update.lead_id) {
                        waiting.write(tx, now).await?;
                    }
                    waiting.add_forward(
                        account_id,
                        &update.lead_id,
                        backfill,
                        target,
                        &request.actor,
                    );
                }
                FunnelMove::Unchanged => {}
            }
            let from = current.take();
            *current = Some(update.stage_id.clone());
            moves.push((request, &update.lead_id, from, update.stage_id.clone()));
            results.push(Ok(UpdateStatus::Updated));
        }
        all_results.push(results);
    }
    waiting.write(tx, now).await?;

    let moved: BTreeSet<(&str, &str)> = moves
        .iter()
        .map(|(request, lead_id, ..)| (request.account_id.as_str(), *lead_id))
        .collect();
    for account_id in leads_by_account.keys() {
        let final_stages: Vec<(&str, Option<&str>)> = moved
            .iter()
            .filter(|(account, _)| account == account_id)
            .map(|key| (key.1, current_stages.get(key).and_then(Option::as_deref)))
            .collect();
        if !final_stages.is_empty() {
            funnel_history::set_current_stages(tx, account_id, &final_stages, now).await?;
        }
    }
    let events: Vec<LeadEvent> = moves
        .iter()
        .map(|(request, lead_id, from, to)| {
            lead_events::stage_changed(
                &request.account_id,
                lead_id,
                from.as_deref(),
                Some(to),
                &request.actor,
            )
        })
        .collect();
    lead_events::record(db, tx, &events, now, &webhooks_versions).await?;

    // Lead records, after every plain record (whose stages are written by
    // now): see `lead_sync`.
    let mut lead_results = lead_sync::apply(
        db,
        tx,
        &syncing,
        &sync_candidates,
        &funnels,
        &webhooks_versions,
    )
    .await?
    .into_iter();
    Ok(all_results
        .into_iter()
        .zip(requests)
        .map(|(updates, request)| RequestResults {
            updates,
            leads: match request.lead_records {
                Some(_) => lead_results.next().unwrap_or_default(),
                None => Vec::new(),
            },
        })
        .collect())
}

/// Moves whose history is not written yet, each of a distinct lead (also
/// lead sync's).
#[derive(Default)]
pub(super) struct Waiting<'a> {
    /// (account, lead, backfilled stages, target, actor) of forward moves.
    forward: Vec<(&'a str, &'a str, Vec<String>, String, &'a Actor)>,
    /// (account, move) of backward moves.
    backward: Vec<(&'a str, BackwardMove<'a>)>,
    /// (account, lead) of every move above.
    leads: HashSet<(&'a str, &'a str)>,
}

impl<'a> Waiting<'a> {
    pub(super) fn has(&self, account_id: &str, lead_id: &str) -> bool {
        self.leads.contains(&(account_id, lead_id))
    }

    pub(super) fn add_forward(
        &mut self,
        account_id: &'a str,
        lead_id: &'a str,
        backfill: Vec<String>,
        target: String,
        actor: &'a Actor,
    ) {
        self.leads.insert((account_id, lead_id));
        self.forward
            .push((account_id, lead_id, backfill, target, actor));
    }

    pub(super) fn add_backward(&mut self, account_id: &'a str, backward: BackwardMove<'a>) {
        self.leads.insert((account_id, backward.lead_id));
        self.backward.push((account_id, backward));
    }

    /// Writes the waiting history, per account: one statement archives
    /// the events after the backward moves' targets, one inserts the
    /// forward moves' events and the targets that lack one (per 100
    /// rows). Archiving first is not required (it never touches a target)
    /// but reads as the rules do.
    pub(super) async fn write(&mut self, tx: &mut WriteTx<'_>, now: i64) -> StoreResult<()> {
        let mut backward: BTreeMap<&str, Vec<BackwardMove>> = BTreeMap::new();
        for (account_id, lead_move) in self.backward.drain(..) {
            backward.entry(account_id).or_default().push(lead_move);
        }
        let mut reached: BTreeMap<&str, Vec<ReachedStage>> = BTreeMap::new();
        for (account_id, lead_id, backfill, target, actor) in &self.forward {
            reached
                .entry(account_id)
                .or_default()
                .extend(funnel_history::reached_rows(
                    lead_id, backfill, target, actor,
                ));
        }
        for (account_id, moves) in &backward {
            funnel_history::archive_after_targets(tx, account_id, moves, now).await?;
            reached
                .entry(account_id)
                .or_default()
                .extend(moves.iter().map(BackwardMove::target_row));
        }
        for (account_id, rows) in reached {
            funnel_history::insert_reached(tx, account_id, &rows, now).await?;
        }
        self.forward.clear();
        self.leads.clear();
        Ok(())
    }
}

/// What [`lock_leads`] found.
struct LockedLeads {
    /// (lead id, current stage) of each lead that exists.
    stages: Vec<(String, Option<String>)>,
    /// The account's versions, read with its row share-locked; `None` when
    /// no lead was found (then nothing joined the account row).
    versions: Option<AccountVersions>,
}

/// Locks the given leads of one account (in id order, so concurrent
/// transactions cannot deadlock on them) and returns their current stages,
/// with the account row share-locked in the same statement: its versions
/// then come without a round trip of their own (see [`account_funnel`]).
async fn lock_leads(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_ids: &BTreeSet<&str>,
) -> StoreResult<LockedLeads> {
    let locks = match tx.backend() {
        Backend::Postgres => " FOR UPDATE OF l FOR SHARE OF a",
        Backend::Sqlite => "",
    };
    let ids: Vec<&str> = lead_ids.iter().copied().collect();
    let mut locked = LockedLeads {
        stages: Vec::with_capacity(ids.len()),
        versions: None,
    };
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT l.id, l.funnel_stage_id, a.funnel_version, a.webhooks_version \
             FROM leads l JOIN accounts a ON a.id = l.account_id \
             WHERE l.account_id = $1 AND l.id IN ({}) ORDER BY l.id{locks}",
            params(2, chunk.len()),
        );
        let mut binds = Vec::with_capacity(1 + chunk.len());
        binds.push(Arg::from(account_id));
        binds.extend(chunk.iter().map(|id| Arg::from(*id)));
        let rows = tx
            .fetch_all::<(String, Option<String>, i64, i64)>(&sql, &binds)
            .await?;
        for (lead_id, stage, funnel, webhooks) in rows {
            // Every row shows the one locked account row.
            locked.versions = Some(AccountVersions { funnel, webhooks });
            locked.stages.push((lead_id, stage));
        }
    }
    Ok(locked)
}
