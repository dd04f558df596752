//! Applying funnel updates sent by webhook imports: lists of (lead, stage)
//! records, each applied by the funnel rules and committed before the
//! caller answers.
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

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::funnel_history::{self, MoveOutcome};
use super::{Backend, Database, StoreError, StoreResult, funnel_stages};
use crate::domain::actor::Actor;
use crate::domain::time::now_micros;

/// One record to apply: a lead and the stage it should be at.
#[derive(Debug, Clone)]
pub struct FunnelUpdate {
    pub lead_id: String,
    pub stage_id: String,
}

/// What happened to one applied record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    Updated,
    Unchanged,
}

/// Why one record was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFailure {
    LeadNotFound,
    InvalidStage,
}

pub type RecordResults = Vec<Result<UpdateStatus, RecordFailure>>;

/// The updates of one inbound request.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    pub account_id: String,
    pub actor: Actor,
    pub updates: Vec<FunnelUpdate>,
}

/// Most records one grouped transaction takes; a larger backlog is split.
const MAX_GROUP_RECORDS: usize = 1_000;

struct Job {
    request: UpdateRequest,
    reply: oneshot::Sender<StoreResult<RecordResults>>,
}

/// Applies update requests with group commit. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FunnelWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("request", &self.request)
            .finish()
    }
}

impl FunnelWriter {
    /// Starts the writer tasks: one on SQLite (it has one writer
    /// connection), a few on PostgreSQL, where transactions on different
    /// leads run in parallel. They stop when every clone is dropped.
    pub fn start(db: Database) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>(4_096);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run_writer(db.clone(), Arc::clone(&receiver)));
        }
        Self { jobs }
    }

    /// Applies one request's updates in order; returns when they are
    /// committed. An `Err` means nothing of this request was written.
    pub async fn apply(&self, request: UpdateRequest) -> StoreResult<RecordResults> {
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
            let mut records = first.request.updates.len();
            let mut group = vec![first];
            while records < MAX_GROUP_RECORDS {
                match receiver.try_recv() {
                    Ok(job) => {
                        records += job.request.updates.len();
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
    let requests: Vec<&UpdateRequest> = group.iter().map(|job| &job.request).collect();
    match apply_all(db, &requests).await {
        Ok(results) => {
            for (job, results) in group.into_iter().zip(results) {
                let _ = job.reply.send(Ok(results));
            }
        }
        Err(error) if group.len() == 1 => {
            let _ = group
                .into_iter()
                .next()
                .map(|job| job.reply.send(Err(error)));
        }
        Err(error) => {
            tracing::warn!(%error, requests = group.len(), "grouped funnel update failed; retrying each request alone");
            for job in group {
                let result = apply_all(db, &[&job.request]).await;
                let _ = job
                    .reply
                    .send(result.map(|mut all| all.pop().unwrap_or_default()));
            }
        }
    }
}

/// Applies every request, in order, in one transaction; one result list
/// per request.
pub async fn apply_all(
    db: &Database,
    requests: &[&UpdateRequest],
) -> StoreResult<Vec<RecordResults>> {
    let mut tx = db.begin().await?;
    let leads: BTreeSet<(&str, &str)> = requests
        .iter()
        .flat_map(|request| {
            request
                .updates
                .iter()
                .map(|update| (request.account_id.as_str(), update.lead_id.as_str()))
        })
        .collect();
    let lock = format!(
        "SELECT funnel_stage_id FROM leads WHERE account_id = $1 AND id = $2{}",
        db.for_update()
    );
    let mut current_stages: HashMap<(&str, &str), Option<String>> = HashMap::new();
    for (account_id, lead_id) in leads {
        let row: Option<(Option<String>,)> = sqlx::query_as(&lock)
            .bind(account_id)
            .bind(lead_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((stage,)) = row {
            current_stages.insert((account_id, lead_id), stage);
        }
    }
    let mut funnels = HashMap::new();
    for request in requests {
        if !funnels.contains_key(request.account_id.as_str()) {
            let stages = funnel_stages::positions(&mut tx, &request.account_id).await?;
            funnels.insert(request.account_id.as_str(), stages);
        }
    }

    let now = now_micros();
    let mut all_results = Vec::with_capacity(requests.len());
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
            let moved = funnel_history::move_lead(
                &mut tx,
                stages,
                account_id,
                &update.lead_id,
                current.as_deref(),
                &update.stage_id,
                &request.actor,
                now,
            )
            .await;
            results.push(match moved {
                Ok(MoveOutcome::Unchanged) => Ok(UpdateStatus::Unchanged),
                Ok(MoveOutcome::Moved { to, .. }) => {
                    *current = Some(to);
                    Ok(UpdateStatus::Updated)
                }
                Ok(MoveOutcome::Left { .. }) => {
                    *current = None;
                    Ok(UpdateStatus::Updated)
                }
                Err(StoreError::Invalid(_)) => Err(RecordFailure::InvalidStage),
                Err(other) => return Err(other),
            });
        }
        all_results.push(results);
    }
    tx.commit().await?;
    Ok(all_results)
}
