//! Maintenance, run off the claim loop every `maintenance_interval`:
//! deactivates webhooks whose every attempt has failed for longer than
//! `disable_failing_after`, and purges delivery logs older than
//! `log_retention`.

use std::time::Duration;

use super::{DeliveryWorker, micros};
use crate::domain::time::{now_micros, to_rfc3339};
use crate::storage::{deliveries, webhook_health};

/// Why a webhook failing for `period` was deactivated at `now` (µs).
fn failing_reason(period: Duration, now: i64) -> String {
    format!(
        "every delivery attempt failed for {} hours; deactivated at {}",
        period.as_secs() / 3_600,
        to_rfc3339(now)
    )
}

impl DeliveryWorker {
    /// Deactivates webhooks failing for too long and purges old logs.
    pub(super) async fn maintenance(&self) {
        let db = &self.deliverer.db;
        let now = now_micros();
        let period = self.config.disable_failing_after;
        let cutoff = now.saturating_sub(micros(period));
        let reason = failing_reason(period, now);
        match webhook_health::disable_long_failing(db, cutoff, &reason).await {
            Ok(disabled) if !disabled.is_empty() => {
                tracing::warn!(?disabled, "deactivated webhooks that kept failing");
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "cannot check for failing webhooks"),
        }
        let retention = micros(self.config.log_retention);
        match deliveries::purge_before(db, now.saturating_sub(retention)).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "purged old delivery logs"),
            Err(error) => tracing::error!(%error, "cannot purge old delivery logs"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_period_in_hours_and_the_time() {
        // 2015-10-21T07:28:00Z
        let now = 1_445_412_480_000_000;
        let cases = [
            (Duration::from_secs(5 * 24 * 3_600), "120 hours"),
            (Duration::from_secs(3_600), "1 hours"),
            (Duration::from_secs(90 * 60), "1 hours"),
            (Duration::from_secs(60), "0 hours"),
        ];
        for (period, hours) in cases {
            assert_eq!(
                failing_reason(period, now),
                format!(
                    "every delivery attempt failed for {hours}; deactivated at 2015-10-21T07:28:00.000000Z"
                )
            );
        }
    }
}
