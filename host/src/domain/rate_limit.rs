//! An import's inbound rate limit (issue 15) and the token bucket that
//! enforces it: a bucket holds at most `burst` tokens, refills at
//! `per_second` tokens a second, and each request takes one; a request
//! that finds no token is refused with the time until one is there.
//!
//! Pure: the caller passes the time in, so the arithmetic is tested
//! without waiting.

use std::time::{Duration, Instant};

use super::InvalidInput;

/// Most requests per second a limit may allow (and most burst): above
/// this, a limit would never be reached by one process anyway.
pub(crate) const MAX_RATE: u32 = 10_000;

/// A validated rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests accepted at once after a quiet period.
    pub burst: u32,
}

impl RateLimit {
    /// A limit of `per_second` (1 to [`MAX_RATE`]) with bursts of `burst`
    /// (1 to [`MAX_RATE`]; default: one second's worth).
    pub(crate) fn new(per_second: u32, burst: Option<u32>) -> Result<Self, InvalidInput> {
        let range = 1..=MAX_RATE;
        if !range.contains(&per_second) {
            return Err(InvalidInput(format!(
                "rate_limit.requests_per_second must be 1 to {MAX_RATE}, not {per_second}"
            )));
        }
        let burst = burst.unwrap_or(per_second);
        if !range.contains(&burst) {
            return Err(InvalidInput(format!(
                "rate_limit.burst must be 1 to {MAX_RATE}, not {burst}"
            )));
        }
        Ok(Self { per_second, burst })
    }

    /// The limit as stored (two nullable columns), if both are set and
    /// valid; a stored value out of range counts as no limit rather than
    /// refusing every request.
    pub(crate) fn from_columns(per_second: Option<i64>, burst: Option<i64>) -> Option<Self> {
        let per_second = u32::try_from(per_second?).ok()?;
        let burst = burst.and_then(|burst| u32::try_from(burst).ok());
        Self::new(per_second, burst).ok()
    }
}

/// The tokens of one import's limit, as of `updated`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            updated: now,
        }
    }

    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token, or says how long until one is there.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        let rate = f64::from(self.limit.per_second);
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(self.limit.burst));
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
    }
}

/// Whole seconds to announce in `Retry-After` for a wait: rounded up, at
/// least 1 (a client told 0 would retry at once and be refused again).
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_and_burst_defaults_to_a_second() {
        assert_eq!(
            RateLimit::new(5, None),
            Ok(RateLimit {
                per_second: 5,
                burst: 5
            })
        );
        assert_eq!(RateLimit::new(5, Some(20)).map(|limit| limit.burst), Ok(20));
        assert!(
            RateLimit::new(0, None)
                .unwrap_err()
                .0
                .contains("requests_per_second must be 1 to 10000")
        );
        assert!(
            RateLimit::new(5, Some(0))
                .unwrap_err()
                .0
                .contains("burst must be 1 to 10000")
        );
        assert!(RateLimit::new(MAX_RATE + 1, None).is_err());
        assert_eq!(RateLimit::from_columns(None, Some(3)), None);
        assert_eq!(RateLimit::from_columns(Some(-1), Some(3)), None);
        assert_eq!(
            RateLimit::from_columns(Some(2), Some(3)),
            Some(RateLimit {
                per_second: 2,
                burst: 3
            })
        );
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(RateLimit::new(2, Some(3)).unwrap(), start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), Ok(()));
        }
        let wait = bucket.take(start).expect_err("the burst is spent");
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(retry_after_seconds(wait), 1);
        // Half a second later one token is back, and only one.
        let later = start + Duration::from_millis(500);
        assert_eq!(bucket.take(later), Ok(()));
        assert!(bucket.take(later).is_err());
        // A long pause refills up to the burst, not beyond.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(much_later), Ok(()));
        }
        assert!(bucket.take(much_later).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1_001)), 2);
    }
}
