//! Attempts: what one attempt sent and got back, and writing a group of
//! attempts with the next state of each delivery. The webhooks' run of
//! failures is written alongside by `storage::delivery_results`.

use std::collections::HashSet;

use sqlx::FromRow;

use super::DeliveryStatus;
use crate::domain::ids::{IdKind, new_id};
use crate::storage::StoreResult;
use crate::storage::sql::args;
use crate::storage::statement::Statement;
use crate::storage::write_tx::WriteTx;

/// What one attempt sent and got back, as the log keeps it.
#[derive(Debug, Clone, Default, FromRow)]
pub(crate) struct AttemptLog {
    pub url: Option<String>,
    pub method: Option<String>,
    /// JSON object, secrets redacted.
    pub request_headers: Option<String>,
    pub request_body: Option<String>,
    pub response_status: Option<i64>,
    /// JSON object.
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub duration_us: i64,
    pub error: Option<String>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttemptOutcome {
    Succeeded,
    /// Try again at this time (µs).
    RetryAt(i64),
    /// Give up.
    Failed,
    /// Not attempted: the webhook is inactive. The delivery waits, due
    /// again when the webhook is activated.
    Parked,
}

/// A payload rendered for the first time, kept for retries and resends.
#[derive(Debug, Clone)]
pub(crate) struct RenderedPayload {
    pub body: String,
    pub content_type: String,
    /// JSON object.
    pub headers: String,
}

/// One finished attempt, to record.
#[derive(Debug, Clone)]
pub(crate) struct AttemptResult {
    pub delivery_id: String,
    pub account_id: String,
    pub webhook_id: String,
    pub attempted_at: i64,
    pub triggered_by: String,
    pub log: AttemptLog,
    pub outcome: AttemptOutcome,
    pub rendered: Option<RenderedPayload>,
    /// The worker that held the delivery for the attempt
    /// ([`super::ClaimedDelivery::claimed_by`]).
    pub claim: String,
    /// Drop the stored payload once the delivery is finished (lightweight
    /// logs keep no bodies).
    pub forget_payload: bool,
    /// The delivery is a batch: its members take its final status.
    pub is_batch: bool,
}

impl AttemptResult {
    /// The same result with only status, duration and error in its log:
    /// what is still recorded when the full log cannot be.
    pub(crate) fn minimal(&self) -> Self {
        Self {
            log: AttemptLog {
                response_status: self.log.response_status,
                duration_us: self.log.duration_us,
                error: self.log.error.clone(),
                ..AttemptLog::default()
            },
            rendered: None,
            ..self.clone()
        }
    }
}

/// Attempt rows one `INSERT` writes at most.
const ATTEMPT_ROWS_PER_INSERT: usize = 50;

/// Deliveries moved on by one statement (11 parameters each).
const STATE_ROWS_PER_UPDATE: usize = 100;

/// Where a delivery goes after an attempt with this outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NextState {
    status: DeliveryStatus,
    next_attempt_at: Option<i64>,
    /// Added to the attempt count: a parked delivery was not attempted.
    counted: i64,
    /// Succeeded or failed for good: lightweight logs drop the payload.
    finished: bool,
}

fn next_state(outcome: &AttemptOutcome) -> NextState {
    let (status, next_attempt_at, counted) = match *outcome {
        AttemptOutcome::Succeeded => (DeliveryStatus::Succeeded, None, 1),
        AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, Some(at), 1),
        AttemptOutcome::Failed => (DeliveryStatus::Failed, None, 1),
        AttemptOutcome::Parked => (DeliveryStatus::Pending, None, 0),
    };
    NextState {
        status,
        next_attempt_at,
        counted,
        finished: matches!(outcome, AttemptOutcome::Succeeded | AttemptOutcome::Failed),
    }
}

/// Logs the attempts made (parked results were not attempted) and moves
/// each delivery on: done, retry later, failed, or parked; a finished
/// batch's members take its status. Only while the claim that made the
/// attempt still holds the delivery.
pub(crate) async fn write_attempts(
    tx: &mut WriteTx<'_>,
    results: &[AttemptResult],
    now: i64,
) -> StoreResult<()> {
    let attempted: Vec<&AttemptResult> = results
        .iter()
        .filter(|result| result.outcome != AttemptOutcome::Parked)
        .collect();
    for chunk in attempted.chunks(ATTEMPT_ROWS_PER_INSERT) {
        let mut insert = Statement::new(
            "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempted_at, \
                 triggered_by, url, method, request_headers, request_body, response_status, \
                 response_headers, response_body, duration_us, error) VALUES ",
        );
        insert.push_values(chunk, |row, result| {
            let log = &result.log;
            row.bind(new_id(IdKind::DeliveryAttempt))
                .bind(&result.delivery_id)
                .bind(&result.account_id)
                .bind(result.attempted_at)
                .bind(&result.triggered_by)
                .bind(&log.url)
                .bind(&log.method)
                .bind(&log.request_headers)
                .bind(&log.request_body)
                .bind(log.response_status)
                .bind(&log.response_headers)
                .bind(&log.response_body)
                .bind(log.duration_us)
                .bind(&log.error);
        });
        tx.execute(insert.sql(), insert.args()).await?;
    }
    for chunk in results.chunks(STATE_ROWS_PER_UPDATE) {
        let recorded = move_on(tx, chunk, now).await?;
        for result in chunk.iter().filter(|result| result.is_batch) {
            let next = next_state(&result.outcome);
            if next.finished && recorded.contains(&result.delivery_id) {
                // The messages a batch carried share its outcome (and,
                // with lightweight logs, lose their bodies with it).
                let forget = result.forget_payload;
                tx.execute(
                    "UPDATE deliveries SET status = $1, updated_at = $2, \
                         payload_body = CASE WHEN $3 = 1 THEN NULL ELSE payload_body END \
                     WHERE batch_id = $4",
                    args![next.status.as_str(), now, forget, &result.delivery_id],
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Moves each result's delivery to its next state, in one statement:
/// done, retry later, failed or parked, with the payload rendered for
/// retries. Only while the claim that made the attempt still holds the
/// delivery: after its lease lapsed (the process stalled), another worker
/// owns it. Returns the ids it moved.
async fn move_on(
    tx: &mut WriteTx<'_>,
    results: &[AttemptResult],
    now: i64,
) -> StoreResult<HashSet<String>> {
    let mut update = Statement::new("UPDATE deliveries SET status = v.column2, ");
    update
        .push("next_attempt_at = v.column3, claimed_until = NULL, claimed_by = NULL, ")
        .push("attempt_count = attempt_count + v.column4, next_trigger = 'scheduled', ")
        .push("last_response_status = v.column5, last_error = v.column6, updated_at = ")
        .push_bind(now)
        .push(
            ", payload_body = CASE WHEN v.column7 = 1 THEN NULL \
               ELSE COALESCE(v.column8, payload_body) END, \
             payload_content_type = COALESCE(v.column9, payload_content_type), \
             payload_headers = COALESCE(v.column10, payload_headers) FROM (VALUES ",
        )
        .push_values(results, |row, result| {
            let next = next_state(&result.outcome);
            let rendered = result.rendered.as_ref();
            row.bind(&result.delivery_id)
                .bind(next.status.as_str())
                .bind(next.next_attempt_at)
                .bind(next.counted)
                .bind(result.log.response_status)
                .bind(&result.log.error)
                .bind(next.finished && result.forget_payload)
                .bind(rendered.map(|payload| payload.body.as_str()))
                .bind(rendered.map(|payload| payload.content_type.as_str()))
                .bind(rendered.map(|payload| payload.headers.as_str()))
                .bind(&result.claim);
        })
        .push(
            ") AS v WHERE deliveries.id = v.column1 AND deliveries.claimed_by = v.column11 \
             RETURNING id",
        );
    let moved: Vec<(String,)> = tx.fetch_all(update.sql(), update.args()).await?;
    Ok(moved.into_iter().map(|(id,)| id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_moves_the_delivery_to_its_next_state() {
        let cases = [
            (
                AttemptOutcome::Succeeded,
                DeliveryStatus::Succeeded,
                None,
                1,
                true,
            ),
            (
                AttemptOutcome::RetryAt(42),
                DeliveryStatus::Pending,
                Some(42),
                1,
                false,
            ),
            (
                AttemptOutcome::Failed,
                DeliveryStatus::Failed,
                None,
                1,
                true,
            ),
            // Parked: not attempted, due again only when the webhook is
            // activated (no next attempt time).
            (
                AttemptOutcome::Parked,
                DeliveryStatus::Pending,
                None,
                0,
                false,
            ),
        ];
        for (outcome, status, next_attempt_at, counted, finished) in cases {
            assert_eq!(
                next_state(&outcome),
                NextState {
                    status,
                    next_attempt_at,
                    counted,
                    finished
                },
                "{outcome:?}"
            );
        }
    }
}
