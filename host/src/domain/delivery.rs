//! A delivery's status: where one message to one webhook stands.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidInput;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryStatus {
    /// Due, waiting for a retry, or parked while its webhook is inactive.
    Pending,
    Succeeded,
    /// Given up on.
    Failed,
    /// Carried by a batch (a delivery of its own), whose outcome it takes.
    Batched,
}

impl DeliveryStatus {
    pub(crate) const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::Batched,
    ];

    /// The statuses an admin filters deliveries by (a batched delivery
    /// shows up under its batch).
    pub(crate) const FILTERS: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Batched => "batched",
        }
    }

    /// A status by name, as stored.
    pub(crate) fn parse(name: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| InvalidInput(format!("unknown delivery status `{name}`")))
    }

    /// A status to filter by: pending, succeeded or failed.
    pub(crate) fn parse_filter(name: &str) -> Result<Self, InvalidInput> {
        Self::FILTERS
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| InvalidInput("status must be pending, succeeded or failed".into()))
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_from_their_names() {
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(
            DeliveryStatus::parse("done").unwrap_err().0,
            "unknown delivery status `done`"
        );
    }

    #[test]
    fn admins_filter_by_pending_succeeded_or_failed_only() {
        for status in DeliveryStatus::FILTERS {
            assert_eq!(DeliveryStatus::parse_filter(status.as_str()), Ok(status));
        }
        assert_eq!(
            DeliveryStatus::parse_filter("batched").unwrap_err().0,
            "status must be pending, succeeded or failed"
        );
    }
}
