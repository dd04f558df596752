//! Recording attempt results: each attempt's log and its delivery's next
//! state (`deliveries`), and each webhook's run of failures
//! (`webhook_health`), in one transaction. Above both, so that neither
//! needs the other.

use super::deliveries::{self, AttemptOutcome, AttemptResult};
use super::{Database, StoreResult, webhook_health};
use crate::domain::time::now_micros;

/// Records attempts (many per transaction) and moves their deliveries on:
/// done, retry later, failed, or parked. If the group cannot be written,
/// each result is written on its own (and, failing that, with a minimal
/// log), so one bad result cannot hold back the others.
pub(crate) async fn record_results(db: &Database, results: &[AttemptResult]) -> StoreResult<()> {
    let Err(error) = record(db, results).await else {
        return Ok(());
    };
    if let [result] = results {
        tracing::warn!(%error, delivery = %result.delivery_id, "cannot record the attempt log; recording a minimal one");
        return record(db, &[result.minimal()]).await;
    }
    tracing::warn!(%error, count = results.len(), "cannot record a group of attempts; recording them one by one");
    for result in results {
        if let Err(error) = record(db, std::slice::from_ref(result)).await {
            tracing::warn!(%error, delivery = %result.delivery_id, "cannot record the attempt log; recording a minimal one");
            if let Err(error) = record(db, &[result.minimal()]).await {
                // The delivery was deleted with its webhook, or the
                // database is down: its lease runs out and it is retried.
                tracing::error!(%error, delivery = %result.delivery_id, "cannot record the attempt");
            }
        }
    }
    Ok(())
}

/// Writes a group of results in one transaction.
async fn record(db: &Database, results: &[AttemptResult]) -> StoreResult<()> {
    if results.is_empty() {
        return Ok(());
    }
    let now = now_micros();
    let results = results.to_vec();
    let started_failing = db
        .write(move |tx| {
            Box::pin(async move {
                deliveries::write_attempts(tx, &results, now).await?;
                let runs = failure_runs(&results);
                webhook_health::set_failing(tx, &runs.recovered, None).await?;
                webhook_health::set_failing(tx, &runs.failing, Some(now)).await
            })
        })
        .await?;
    // Once per run of failures, after it is committed: the admin's cue to
    // look at the receiver before the retries run out.
    for (webhook, account, name) in started_failing {
        tracing::warn!(%webhook, %account, %name,
            "webhook started failing: its latest delivery attempt failed; \
             see its delivery log for the receiver's answer");
    }
    Ok(())
}

/// The webhooks whose latest attempt in a group succeeded (their run of
/// failures ends) and those whose latest attempt failed (a run starts, or
/// goes on), each once, in order of first appearance.
#[derive(Debug, PartialEq, Eq)]
struct FailureRuns<'a> {
    recovered: Vec<&'a str>,
    failing: Vec<&'a str>,
}

fn failure_runs(results: &[AttemptResult]) -> FailureRuns<'_> {
    let mut latest: Vec<(&str, bool)> = Vec::new();
    // A parked delivery was not attempted: it says nothing of the receiver.
    for result in results
        .iter()
        .filter(|result| result.outcome != AttemptOutcome::Parked)
    {
        let succeeded = result.outcome == AttemptOutcome::Succeeded;
        match latest.iter_mut().find(|(id, _)| *id == result.webhook_id) {
            Some(entry) => entry.1 = succeeded,
            None => latest.push((&result.webhook_id, succeeded)),
        }
    }
    let (recovered, failing): (Vec<_>, Vec<_>) = latest.into_iter().partition(|(_, ok)| *ok);
    FailureRuns {
        recovered: recovered.into_iter().map(|(id, _)| id).collect(),
        failing: failing.into_iter().map(|(id, _)| id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::deliveries::AttemptLog;

    fn result(webhook_id: &str, outcome: AttemptOutcome) -> AttemptResult {
        AttemptResult {
            delivery_id: "dlv".into(),
            account_id: "acc".into(),
            webhook_id: webhook_id.into(),
            attempted_at: 0,
            triggered_by: "scheduled".into(),
            log: AttemptLog::default(),
            outcome,
            rendered: None,
            claim: String::new(),
            forget_payload: false,
            is_batch: false,
        }
    }

    #[test]
    fn each_webhook_is_judged_by_its_latest_attempt() {
        let results = [
            result("a", AttemptOutcome::Failed),
            result("b", AttemptOutcome::Succeeded),
            result("a", AttemptOutcome::Succeeded),
            result("c", AttemptOutcome::RetryAt(5)),
            result("b", AttemptOutcome::RetryAt(5)),
            // Not attempted: neither recovered nor failing.
            result("d", AttemptOutcome::Parked),
        ];
        assert_eq!(
            failure_runs(&results),
            FailureRuns {
                recovered: vec!["a"],
                failing: vec!["b", "c"],
            }
        );
    }

    #[test]
    fn no_attempts_change_no_run() {
        assert_eq!(
            failure_runs(&[result("a", AttemptOutcome::Parked)]),
            FailureRuns {
                recovered: vec![],
                failing: vec![],
            }
        );
    }
}
