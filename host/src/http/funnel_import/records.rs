//! Parsing and resolving the records of a request, each on its own: a
//! funnel update's stage, and a transform's lead record (how to find the
//! lead, the fields to set, the fields it starts from when it creates it).

use std::sync::Arc;

use serde_json::Value;

use super::contract::{
    FunnelUpdateRecord, INVALID_STAGE, LEAD_NOT_FOUND, LeadSyncMatch, LeadSyncRecord, RecordResult,
    RecordStatus,
};
use crate::domain::InvalidInput;
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;
use crate::domain::stage_matching::StageDirectory;
use crate::http::extract::from_json_value;
use crate::http::leads::UpdateLead;
use crate::storage::funnel_updates::FunnelUpdate;
use crate::storage::lead_sync::{LeadMatch, LeadRecord};

/// Which records a request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKinds {
    /// The plain endpoints' contract: `{lead_profile_uid, funnel_stage}` only.
    FunnelUpdates,
    /// A transform's output: lead records too.
    WithLeadRecords,
}

/// Records parsed and resolved: a result slot per record (failed ones
/// already filled in) and the records to apply, with their index.
pub(crate) struct ResolvedRecords {
    pub(crate) results: Vec<RecordResult>,
    pub(crate) updates: Vec<(usize, FunnelUpdate)>,
    pub(crate) leads: Vec<(usize, LeadRecord)>,
}

/// Parses and resolves each record on its own.
pub(crate) fn resolve_records(
    records: Vec<Value>,
    directory: &StageDirectory,
    kinds: RecordKinds,
) -> ResolvedRecords {
    let mut resolved = ResolvedRecords {
        results: Vec::with_capacity(records.len()),
        updates: Vec::with_capacity(records.len()),
        leads: Vec::new(),
    };
    for (index, raw) in records.into_iter().enumerate() {
        let is_lead_record = kinds == RecordKinds::WithLeadRecords && raw.get("lead").is_some();
        let lead_profile_uid = if is_lead_record {
            raw.pointer("/lead/match/lead_profile_uid")
        } else {
            raw.get("lead_profile_uid")
        }
        .and_then(Value::as_str)
        .map(str::to_owned);
        let mut result = RecordResult {
            index,
            lead_profile_uid,
            status: RecordStatus::Failed,
            funnel_stage: None,
            error: None,
        };
        if is_lead_record {
            match resolve_lead_record(raw, directory) {
                Ok((record, stage_title)) => {
                    result.funnel_stage = stage_title;
                    resolved.leads.push((index, record));
                }
                Err(error) => result.error = Some(error),
            }
            resolved.results.push(result);
            continue;
        }
        match from_json_value::<FunnelUpdateRecord>(raw) {
            Err(error) => result.error = Some(error),
            Ok(record) => match directory.resolve(&record.funnel_stage) {
                None => result.error = Some(INVALID_STAGE.into()),
                Some(_) if !possible_lead_id(&record.lead_profile_uid) => {
                    result.error = Some(LEAD_NOT_FOUND.into());
                }
                Some(stage) => {
                    result.funnel_stage = Some(stage.title.clone());
                    resolved.updates.push((
                        index,
                        FunnelUpdate {
                            lead_id: record.lead_profile_uid,
                            stage_id: stage.id.clone(),
                        },
                    ));
                }
            },
        }
        resolved.results.push(result);
    }
    resolved
}

/// Parses one lead record and resolves its stage; returns it with the
/// stage's title, or the error that fails it (naming the field).
fn resolve_lead_record(
    raw: Value,
    directory: &StageDirectory,
) -> Result<(LeadRecord, Option<String>), String> {
    let LeadSyncRecord { lead } = from_json_value(raw)?;
    if lead.fields.funnel_stage_id.is_some() {
        return Err(
            "lead.fields.funnel_stage_id: set the stage with lead.funnel_stage instead".into(),
        );
    }
    let LeadSyncMatch {
        lead_profile_uid,
        external_id,
        email,
    } = lead.matching;
    let email = email
        .map(|email| EmailAddress::parse(&email))
        .transpose()
        .map_err(|invalid| format!("lead.match.email: {}", invalid.0))?;
    let lead_id = lead_profile_uid.filter(|uid| possible_lead_id(uid));
    let external_id = external_id.map(|id| id.trim().to_owned());
    if let Some(external_id) = &external_id
        && !(1..=200).contains(&external_id.len())
    {
        return Err("lead.match.external_id: must be 1 to 200 characters".into());
    }
    if lead_id.is_none() && external_id.is_none() && email.is_none() {
        return Err("lead.match: name the lead by lead_profile_uid, external_id or email".into());
    }
    let (stage_id, stage_title) = match &lead.funnel_stage {
        None => (None, None),
        Some(name) => {
            let stage = directory
                .resolve(name)
                .ok_or_else(|| INVALID_STAGE.to_owned())?;
            (Some(stage.id.clone()), Some(stage.title.clone()))
        }
    };
    let changes = lead.fields;
    let named_email = changes
        .email
        .as_ref()
        .and_then(Option::as_deref)
        .and_then(|named| EmailAddress::parse(named).ok());
    let default_email = email.clone();
    let fields = Arc::new(move |current: Option<LeadFields>| {
        let base = match current {
            Some(fields) => fields,
            None => new_lead_fields(&changes, default_email.as_ref())?,
        };
        changes.clone().apply(base)
    });
    let record = LeadRecord {
        matching: LeadMatch {
            lead_id,
            external_id,
            email,
        },
        fields,
        named_email,
        stage_id,
    };
    Ok((record, stage_title))
}

/// The fields a lead record starts from when it creates the lead: its
/// email (from `fields`, else from `match`), nothing else yet.
fn new_lead_fields(
    changes: &UpdateLead,
    match_email: Option<&EmailAddress>,
) -> Result<LeadFields, InvalidInput> {
    let email = match (&changes.email, match_email) {
        (Some(Some(email)), _) => EmailAddress::parse(email)?,
        (_, Some(email)) => email.clone(),
        _ => {
            return Err(InvalidInput(
                "email is required to create a lead (in fields or in match)".into(),
            ));
        }
    };
    Ok(LeadFields::with_email(email))
}

/// Whether `uid` could be a lead id at all; anything else is "not found"
/// without asking the database (which may refuse to compare it, e.g. text
/// with NUL characters on PostgreSQL).
pub(super) fn possible_lead_id(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= 200 && !uid.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> StageDirectory {
        use crate::domain::stage_matching::ResolvedStage;
        StageDirectory::new(
            [],
            [ResolvedStage {
                id: "stage_1".into(),
                title: "Lead".into(),
            }],
        )
    }

    fn lead_error(record: Value) -> String {
        resolve_lead_record(record, &directory()).expect_err("the record is refused")
    }

    #[test]
    fn lead_records_name_what_is_wrong() {
        use serde_json::json;
        assert!(
            lead_error(json!({"lead": {"match": {"email": "nope"}}}))
                .starts_with("lead.match.email: email `nope` is not valid")
        );
        assert_eq!(
            lead_error(json!({"lead": {"match": {}}})),
            "lead.match: name the lead by lead_profile_uid, external_id or email"
        );
        assert_eq!(
            lead_error(json!({"lead": {"match": {"external_id": "1"}, "funnel_stage": "Nope"}})),
            INVALID_STAGE
        );
        assert!(
            lead_error(json!({"lead": {"match": {"external_id": "1"}, "fields": {"phone": 5}}}))
                .starts_with("lead.fields.phone: invalid type")
        );
        assert!(
            lead_error(
                json!({"lead": {"match": {"external_id": "1"}, "fields": {"nickname": "x"}}})
            )
            .contains("nickname")
        );
        assert!(
            lead_error(
                json!({"lead": {"match": {"external_id": "1"}, "fields": {"funnel_stage_id": "s"}}})
            )
            .contains("lead.funnel_stage")
        );
    }

    #[test]
    fn a_created_lead_takes_its_email_from_fields_or_match() {
        use serde_json::json;
        let (record, title) = resolve_lead_record(
            json!({"lead": {"match": {"email": "ada@example.com", "external_id": " 7 "},
                            "fields": {"first_name": "Ada"}, "funnel_stage": "lead"}}),
            &directory(),
        )
        .expect("a valid record");
        assert_eq!(title.as_deref(), Some("Lead"));
        assert_eq!(record.stage_id.as_deref(), Some("stage_1"));
        assert_eq!(record.matching.external_id.as_deref(), Some("7"));
        let created = (record.fields)(None).expect("creatable");
        assert_eq!(created.email.as_str(), "ada@example.com");
        assert_eq!(created.first_name.as_deref(), Some("Ada"));

        let (record, _) = resolve_lead_record(
            json!({"lead": {"match": {"external_id": "7"}, "fields": {"company": "Acme"}}}),
            &directory(),
        )
        .expect("a valid record");
        let refused = (record.fields)(None).expect_err("no email to create with");
        assert!(refused.0.contains("email is required"), "{}", refused.0);
    }
}
