//! Timestamps: stored as microseconds since the Unix epoch (one integer type
//! that SQLite and PostgreSQL sort the same way), shown as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};

/// Microseconds since the Unix epoch, as stored in the database.
pub(crate) type UnixMicros = i64;

/// The current time, in storage form.
pub(crate) fn now_micros() -> UnixMicros {
    Utc::now().timestamp_micros()
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
    fn formats_as_utc_rfc3339() {
        assert_eq!(
            to_rfc3339(1_700_000_000_123_456),
            "2023-11-14T22:13:20.123456Z"
        );
    }
}
