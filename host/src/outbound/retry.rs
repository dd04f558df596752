//! When a retry falls due: the webhook's schedule with jitter, or the
//! receiver's `Retry-After` within bounds. Delivery behaviour, not a
//! setting: the schedule itself is part of the webhook's settings
//! (`domain::webhook`), and whether an answer is retried at all is
//! `delivery::outcome`'s decision.

use std::time::Duration;

use rand::Rng;

/// Bounds on a receiver's `Retry-After`: not sooner than a second, not
/// later than a day.
const RETRY_AFTER_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3_600));

/// How long to wait before retry number `retry` (1 = the first retry), or
/// `None` when the schedule is used up. The schedule's delay gets ±20%
/// jitter so that receivers coming back up are not hit by every retry at
/// once; a `Retry-After` from the receiver replaces it, within bounds.
pub(crate) fn retry_delay(
    schedule: &[u64],
    retry: usize,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let scheduled = *schedule.get(retry.checked_sub(1)?)?;
    if let Some(asked) = retry_after {
        return Some(asked.clamp(RETRY_AFTER_BOUNDS.0, RETRY_AFTER_BOUNDS.1));
    }
    let jitter = rand::rng().random_range(0.8..=1.2);
    Some(Duration::from_secs_f64(scheduled as f64 * jitter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::WebhookSettings;

    #[test]
    fn retry_delays_follow_the_schedule_with_jitter() {
        let schedule = WebhookSettings::default().retry_schedule;
        assert_eq!(retry_delay(&schedule, 0, None), None);
        for (retry, &seconds) in schedule.iter().enumerate() {
            let delay = retry_delay(&schedule, retry + 1, None).unwrap();
            let expected = seconds as f64;
            assert!(
                delay.as_secs_f64() >= expected * 0.8 - 1e-9
                    && delay.as_secs_f64() <= expected * 1.2 + 1e-9,
                "retry {retry}: {delay:?}"
            );
        }
        assert_eq!(retry_delay(&schedule, schedule.len() + 1, None), None);
    }

    #[test]
    fn retry_after_replaces_the_schedule_within_bounds() {
        let schedule = [300];
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::ZERO)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::from_secs(10 * 24 * 3600))),
            Some(Duration::from_secs(24 * 3600))
        );
        // Retry-After does not extend the number of attempts.
        assert_eq!(
            retry_delay(&schedule, 2, Some(Duration::from_secs(1))),
            None
        );
    }
}
