//! The [`FunnelWriter`]: requests gathered into groups by a few tasks,
//! each group committed in one transaction, and the requests of a group
//! that failed retried alone.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::apply::apply_all;
use super::{RecordResults, RequestResults, UpdateRequest};
use crate::storage::{Backend, Database, StoreError, StoreResult};

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
