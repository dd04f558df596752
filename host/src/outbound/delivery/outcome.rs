//! What an attempt's answer means for its delivery, as pure functions:
//! [`judge`] reads an answer or an error as a [`Verdict`] (delivered, retry,
//! give up, gone), and [`outcome`] turns that into what is recorded, with
//! [`next_attempt`] placing a retry on the webhook's schedule or after the
//! receiver's `Retry-After`. The helpers below record attempts that were not
//! made (no webhook, inactive, a passing database error).
//!
//! To change retry behaviour, edit [`judge`] (which answers and errors are
//! retried) and [`next_attempt`] (when); the schedule's jitter and the
//! bounds on `Retry-After` are in `outbound::retry::retry_delay`.

use std::time::Duration;

use super::micros;
use super::recorder::Recorded;
use crate::domain::time::{now_micros, to_rfc3339};
use crate::outbound::client::{OutboundResponse, SendError};
use crate::outbound::retry::retry_delay;
use crate::storage::deliveries::{AttemptOutcome, AttemptResult, ClaimedDelivery};
use crate::storage::webhooks::Webhook;

/// What an answer, or the error in its place, means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A 2xx: done.
    Delivered,
    /// Worth another try: after `retry_after` when the receiver asked for
    /// one, otherwise on the webhook's schedule.
    Retry { retry_after: Option<Duration> },
    /// The URL itself is refused: retrying cannot help until the admin
    /// changes it.
    GiveUp,
    /// `410 Gone`: the delivery fails and the webhook is deactivated.
    Gone,
}

/// Reads an answer (or the error in its place).
pub(super) fn judge(response: &Result<OutboundResponse, SendError>) -> Verdict {
    match response {
        Ok(answer) if (200..300).contains(&answer.status) => Verdict::Delivered,
        Ok(answer) if answer.status == 410 => Verdict::Gone,
        Ok(answer) => Verdict::Retry {
            retry_after: answer.retry_after,
        },
        Err(
            SendError::InvalidUrl(_)
            | SendError::DestinationRefused { .. }
            | SendError::RedirectRefused(_),
        ) => Verdict::GiveUp,
        Err(_) => Verdict::Retry { retry_after: None },
    }
}

/// What a verdict on attempt number `attempt_count + 1` records, at `now`
/// (µs).
pub(super) fn outcome(
    verdict: Verdict,
    attempt_count: i64,
    schedule: &[u64],
    now: i64,
) -> AttemptOutcome {
    match verdict {
        Verdict::Delivered => AttemptOutcome::Succeeded,
        Verdict::GiveUp | Verdict::Gone => AttemptOutcome::Failed,
        Verdict::Retry { retry_after } => next_attempt(attempt_count, schedule, retry_after, now),
    }
}

/// The retry after a failed attempt (the delivery has had `attempt_count`
/// before it), or failed when the schedule is used up. A `Retry-After`
/// replaces the schedule's delay but not its length.
pub(super) fn next_attempt(
    attempt_count: i64,
    schedule: &[u64],
    retry_after: Option<Duration>,
    now: i64,
) -> AttemptOutcome {
    let retry = usize::try_from(attempt_count).unwrap_or(0) + 1;
    match retry_delay(schedule, retry, retry_after) {
        Some(delay) => AttemptOutcome::RetryAt(now.saturating_add(micros(delay))),
        None => AttemptOutcome::Failed,
    }
}

/// Why a webhook was deactivated by a `410 Gone` at `at` (µs).
pub(super) fn gone_reason(at: i64) -> String {
    format!("the receiver answered 410 Gone at {}", to_rfc3339(at))
}

/// Records a delivery as failed with `error`, without sending.
pub(super) fn give_up(mut result: AttemptResult, error: String) -> Recorded {
    result.outcome = AttemptOutcome::Failed;
    result.log.error = Some(error);
    Recorded {
        result,
        disable: None,
    }
}

/// Keeps a delivery of an inactive webhook until it is activated again.
pub(super) fn parked(mut result: AttemptResult, disabled_reason: Option<&str>) -> Recorded {
    result.outcome = AttemptOutcome::Parked;
    let reason = disabled_reason.map_or_else(String::new, |reason| format!(": {reason}"));
    result.log.error = Some(format!(
        "waiting: the webhook is inactive{reason}; activating it sends this delivery"
    ));
    Recorded {
        result,
        disable: None,
    }
}

/// Records an attempt that could not be made for a passing reason (the
/// database), to be retried on the schedule.
pub(super) fn retry_later(
    mut result: AttemptResult,
    delivery: &ClaimedDelivery,
    webhook: &Webhook,
    error: String,
) -> Recorded {
    tracing::warn!(delivery = %delivery.id, %error, "delivery attempt not made");
    result.log.error = Some(error);
    result.outcome = next_attempt(
        delivery.attempt_count,
        &webhook.settings.retry_schedule,
        None,
        now_micros(),
    );
    Recorded {
        result,
        disable: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::deliveries::AttemptLog;

    fn answer(status: u16, retry_after: Option<u64>) -> Result<OutboundResponse, SendError> {
        Ok(OutboundResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
            duration: Duration::ZERO,
            retry_after: retry_after.map(Duration::from_secs),
        })
    }

    fn retry(after: Option<u64>) -> Verdict {
        Verdict::Retry {
            retry_after: after.map(Duration::from_secs),
        }
    }

    #[test]
    fn answers_and_errors_are_judged() {
        let cases = [
            (answer(200, None), Verdict::Delivered),
            (answer(204, None), Verdict::Delivered),
            (answer(299, Some(5)), Verdict::Delivered),
            (answer(410, None), Verdict::Gone),
            (answer(410, Some(5)), Verdict::Gone),
            (answer(301, None), retry(None)),
            (answer(400, None), retry(None)),
            (answer(404, None), retry(None)),
            (answer(429, Some(7)), retry(Some(7))),
            (answer(500, None), retry(None)),
            (answer(503, Some(0)), retry(Some(0))),
            (
                Err(SendError::InvalidUrl("ftp://x".into())),
                Verdict::GiveUp,
            ),
            (
                Err(SendError::DestinationRefused {
                    host: "localhost".into(),
                    address: "127.0.0.1".parse().expect("address"),
                }),
                Verdict::GiveUp,
            ),
            (
                Err(SendError::RedirectRefused("https://other.example/".into())),
                Verdict::GiveUp,
            ),
            (
                Err(SendError::Timeout(Duration::from_secs(30))),
                retry(None),
            ),
            (Err(SendError::Connect("refused".into())), retry(None)),
            (
                Err(SendError::Dns("x.example".into(), "nx".into())),
                retry(None),
            ),
            (Err(SendError::TooManyRedirects), retry(None)),
            (Err(SendError::Other("reset".into())), retry(None)),
        ];
        for (response, expected) in cases {
            assert_eq!(judge(&response), expected, "{response:?}");
        }
    }

    /// What an outcome should be; a retry on the schedule has ±20% jitter.
    #[derive(Debug)]
    enum Expect {
        Succeeded,
        Failed,
        At(i64),
        Between(i64, i64),
    }

    fn check(actual: &AttemptOutcome, expected: &Expect) -> bool {
        match (actual, expected) {
            (AttemptOutcome::Succeeded, Expect::Succeeded)
            | (AttemptOutcome::Failed, Expect::Failed) => true,
            (AttemptOutcome::RetryAt(at), Expect::At(want)) => at == want,
            (AttemptOutcome::RetryAt(at), Expect::Between(low, high)) => (low..=high).contains(&at),
            _ => false,
        }
    }

    #[test]
    fn verdicts_become_outcomes_on_the_schedule() {
        const NOW: i64 = 1_700_000_000_000_000;
        const SECOND: i64 = 1_000_000;
        let schedule = [5, 300];
        let cases = [
            // (verdict, attempts before, schedule, expected)
            (Verdict::Delivered, 0, &schedule[..], Expect::Succeeded),
            (Verdict::Delivered, 9, &schedule[..], Expect::Succeeded),
            (Verdict::GiveUp, 0, &schedule[..], Expect::Failed),
            (Verdict::Gone, 0, &schedule[..], Expect::Failed),
            // The first retry: 5 s ± 20%.
            (
                retry(None),
                0,
                &schedule[..],
                Expect::Between(NOW + 4 * SECOND, NOW + 6 * SECOND),
            ),
            // The second: 300 s ± 20%.
            (
                retry(None),
                1,
                &schedule[..],
                Expect::Between(NOW + 240 * SECOND, NOW + 360 * SECOND),
            ),
            // The schedule is used up.
            (retry(None), 2, &schedule[..], Expect::Failed),
            (retry(None), 0, &[][..], Expect::Failed),
            // A stored count below zero counts as none.
            (
                retry(None),
                -1,
                &schedule[..],
                Expect::Between(NOW + 4 * SECOND, NOW + 6 * SECOND),
            ),
            // Retry-After replaces the delay, exactly...
            (
                retry(Some(7)),
                0,
                &schedule[..],
                Expect::At(NOW + 7 * SECOND),
            ),
            (
                retry(Some(7)),
                1,
                &schedule[..],
                Expect::At(NOW + 7 * SECOND),
            ),
            // ...within a second and a day...
            (retry(Some(0)), 0, &schedule[..], Expect::At(NOW + SECOND)),
            (
                retry(Some(10 * 86_400)),
                0,
                &schedule[..],
                Expect::At(NOW + 86_400 * SECOND),
            ),
            // ...but does not lengthen the schedule.
            (retry(Some(7)), 2, &schedule[..], Expect::Failed),
        ];
        for (verdict, attempts, schedule, expected) in cases {
            let actual = outcome(verdict, attempts, schedule, NOW);
            assert!(
                check(&actual, &expected),
                "{verdict:?} after {attempts} attempts on {schedule:?}: {actual:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn a_retry_far_in_the_future_saturates() {
        assert_eq!(
            next_attempt(0, &[5], Some(Duration::from_secs(60)), i64::MAX - 1),
            AttemptOutcome::RetryAt(i64::MAX)
        );
    }

    fn result() -> AttemptResult {
        AttemptResult {
            delivery_id: "dlv_1".into(),
            account_id: "acc_1".into(),
            webhook_id: "wh_1".into(),
            attempted_at: 0,
            triggered_by: "schedule".into(),
            log: AttemptLog::default(),
            outcome: AttemptOutcome::Succeeded,
            rendered: None,
            claim: String::new(),
            forget_payload: false,
            is_batch: false,
        }
    }

    #[test]
    fn attempts_not_made_are_recorded_with_their_reason() {
        let cases = [
            (
                give_up(result(), "the event no longer exists".into()),
                AttemptOutcome::Failed,
                "the event no longer exists",
            ),
            (
                parked(result(), None),
                AttemptOutcome::Parked,
                "waiting: the webhook is inactive; activating it sends this delivery",
            ),
            (
                parked(result(), Some("the receiver answered 410 Gone")),
                AttemptOutcome::Parked,
                "waiting: the webhook is inactive: the receiver answered 410 Gone; activating it sends this delivery",
            ),
        ];
        for (recorded, outcome, error) in cases {
            assert_eq!(recorded.result.outcome, outcome);
            assert_eq!(recorded.result.log.error.as_deref(), Some(error));
            assert_eq!(recorded.disable, None);
        }
    }

    #[test]
    fn gone_names_the_time() {
        assert_eq!(
            gone_reason(1_445_412_480_000_000),
            "the receiver answered 410 Gone at 2015-10-21T07:28:00.000000Z"
        );
    }
}
