//! What the inbound endpoints accept (a funnel update, a batch of them, a
//! transform's lead record) and answer (one result, or each record's), and
//! the messages of the two failures a record can have.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::leads::UpdateLead;
use crate::storage::funnel_updates::UpdateStatus;

/// Most records one batch request may carry.
pub(crate) const MAX_BATCH_RECORDS: usize = 100;

/// Why a record naming no lead of the account fails.
pub(super) const LEAD_NOT_FOUND: &str = "Lead profile not found";
/// Why a record naming no stage of the import's directory fails.
pub(super) const INVALID_STAGE: &str = "Invalid funnel stage";

/// One funnel update: move this lead to this stage.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct FunnelUpdateRecord {
    /// The lead's id in Switchyard.
    pub lead_profile_uid: String,
    /// A stage title or a mapped name, compared ignoring case, spaces, `_` and `-`.
    pub funnel_stage: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct BatchUpdateRequest {
    /// 1 to 100 records, applied in order, each on its own (more is a 413).
    #[schema(value_type = Vec<FunnelUpdateRecord>, min_items = 1, max_items = 100)]
    pub records: Vec<Value>,
}

/// A transform's lead record: find the lead (or create it), update the
/// named fields, then move it (lead sync; never accepted on the plain
/// endpoints).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncRecord {
    pub lead: LeadSyncBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncBody {
    /// How to find the lead: tried by uid, then external id, then email.
    #[serde(rename = "match")]
    pub matching: LeadSyncMatch,
    /// The fields to set; absent ones are left alone, `null` clears one.
    #[serde(default)]
    pub fields: UpdateLead,
    /// A stage title or mapped name; moves the lead by the funnel rules.
    pub funnel_stage: Option<String>,
}

/// One or more keys naming a lead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncMatch {
    pub lead_profile_uid: Option<String>,
    /// The CRM's own id for the lead; belongs to this import, and is stored
    /// on the lead the record creates or finds by email.
    pub external_id: Option<String>,
    pub email: Option<String>,
}

/// Whether a record changed the lead.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RecordStatus {
    /// A lead record created the lead (transforms only).
    Created,
    Updated,
    Unchanged,
    Failed,
}

impl From<UpdateStatus> for RecordStatus {
    fn from(status: UpdateStatus) -> Self {
        match status {
            UpdateStatus::Updated => RecordStatus::Updated,
            UpdateStatus::Unchanged => RecordStatus::Unchanged,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SingleUpdateResponse {
    pub success: bool,
    pub status: RecordStatus,
    pub lead_profile_uid: String,
    /// The title of the stage the lead is now at.
    pub funnel_stage: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordResult {
    /// The record's place in `records`, from 0.
    pub index: usize,
    pub lead_profile_uid: Option<String>,
    pub status: RecordStatus,
    /// The title of the stage the lead is now at (applied records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funnel_stage: Option<String>,
    /// Why the record was not applied (failed records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchUpdateResponse {
    pub success: bool,
    pub results: Vec<RecordResult>,
    /// Leads created by lead records (present when a transform is attached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<usize>,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

/// What the single-update endpoint answers: one result, or with a
/// transform attached (which may produce many records) the batch answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Documents the two shapes `update_one` answers with.
pub(crate) enum UpdateResponse {
    Single(SingleUpdateResponse),
    Batch(BatchUpdateResponse),
}
