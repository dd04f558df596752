//! Timestamps: stored as microseconds since the Unix epoch (one integer type
//! that SQLite and PostgreSQL sort the same way), shown as RFC 3339.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

/// Microseconds since the Unix epoch, as stored in the database.
pub(crate) type UnixMicros = i64;

/// The current time, in storage form.
pub(crate) fn now_micros() -> UnixMicros {
    Utc::now().timestamp_micros()
}

/// A duration in microseconds, the unit of every stored time; saturating,
/// so that an absurd setting cannot overflow the sum it goes into.
pub(crate) fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-23T11:32:06.123456Z`.
pub(crate) fn to_rfc3339(micros: UnixMicros) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_saturates_instead_of_overflowing() {
        let cases = [
            (Duration::ZERO, 0),
            (Duration::from_micros(1), 1),
            (Duration::from_secs(120), 120_000_000),
            (Duration::from_micros(u64::MAX), i64::MAX),
            (Duration::MAX, i64::MAX),
        ];
        for (duration, expected) in cases {
            assert_eq!(micros(duration), expected, "{duration:?}");
        }
    }

    #[test]
    fn formats_as_utc_rfc3339() {
        assert_eq!(
            to_rfc3339(1_700_000_000_123_456),
            "2023-11-14T22:13:20.123456Z"
        );
    }
}
