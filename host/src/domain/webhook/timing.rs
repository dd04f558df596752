//! How long a webhook waits for an answer, its retry schedule, and how
//! many of its deliveries may be in flight at once: the limits an admin's
//! values must respect. When a retry actually falls due
//! (jitter, a receiver's `Retry-After`) is the delivery engine's business:
//! `outbound::retry`.

use std::time::Duration;

use crate::domain::InvalidInput;

pub(super) const MAX_TIMEOUT_SECONDS: u64 = 60;
/// Most retries a schedule may list.
const MAX_RETRIES: usize = 20;
/// Longest wait before one retry: 7 days.
const MAX_RETRY_DELAY_SECONDS: u64 = 7 * 24 * 3_600;

/// A timeout of 1 to [`MAX_TIMEOUT_SECONDS`] seconds.
pub(crate) fn parse_timeout(seconds: u64) -> Result<Duration, InvalidInput> {
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(InvalidInput(format!(
            "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}"
        )));
    }
    Ok(Duration::from_secs(seconds))
}

/// Most deliveries of one webhook a worker sends at once.
pub(crate) const MAX_IN_FLIGHT: u32 = 1_000;

/// A cap on deliveries in flight of 1 to [`MAX_IN_FLIGHT`].
pub(crate) fn parse_max_in_flight(cap: u32) -> Result<u32, InvalidInput> {
    if !(1..=MAX_IN_FLIGHT).contains(&cap) {
        return Err(InvalidInput(format!(
            "max_in_flight must be between 1 and {MAX_IN_FLIGHT}"
        )));
    }
    Ok(cap)
}

/// A retry schedule (seconds before each retry): at most 20 retries, each
/// at most 7 days after the attempt before it. An empty schedule never
/// retries.
pub(crate) fn check_retry_schedule(schedule: &[u64]) -> Result<(), InvalidInput> {
    if schedule.len() > MAX_RETRIES {
        return Err(InvalidInput(format!(
            "retry_schedule_seconds may list at most {MAX_RETRIES} retries"
        )));
    }
    if schedule
        .iter()
        .any(|&delay| delay > MAX_RETRY_DELAY_SECONDS)
    {
        return Err(InvalidInput(format!(
            "each delay in retry_schedule_seconds must be at most {MAX_RETRY_DELAY_SECONDS} seconds (7 days)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_between_one_and_sixty_seconds() {
        let message = "timeout_seconds must be between 1 and 60";
        assert_eq!(parse_timeout(0).unwrap_err().0, message);
        assert_eq!(parse_timeout(61).unwrap_err().0, message);
        assert_eq!(parse_timeout(1).unwrap(), Duration::from_secs(1));
        assert_eq!(parse_timeout(60).unwrap(), Duration::from_secs(60));
    }

    #[test]
    fn the_cap_on_deliveries_in_flight_is_between_one_and_a_thousand() {
        let message = "max_in_flight must be between 1 and 1000";
        assert_eq!(parse_max_in_flight(0).unwrap_err().0, message);
        assert_eq!(parse_max_in_flight(1_001).unwrap_err().0, message);
        assert_eq!(parse_max_in_flight(1), Ok(1));
        assert_eq!(parse_max_in_flight(1_000), Ok(1_000));
    }

    #[test]
    fn retry_schedules_are_bounded_in_length_and_delay() {
        let too_long = check_retry_schedule(&[0; 21]).unwrap_err();
        assert!(too_long.0.contains("at most 20 retries"), "{too_long}");
        let too_late = check_retry_schedule(&[8 * 24 * 3600]).unwrap_err();
        assert!(too_late.0.contains("(7 days)"), "{too_late}");
        assert!(check_retry_schedule(&[]).is_ok());
        assert!(check_retry_schedule(&[MAX_RETRY_DELAY_SECONDS; 20]).is_ok());
    }
}
