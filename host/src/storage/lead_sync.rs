//! Lead sync: the lead records a transform may return beside plain funnel
//! updates. A record finds its lead by uid, by the import's external id or
//! by email, creates it when nothing matches (if the import allows it),
//! otherwise updates the fields it names, then moves it by the funnel
//! rules; it emits the events an admin change of the same kind emits, with
//! the import as the actor.
//!
//! Records run inside the [`FunnelWriter`](super::funnel_updates::FunnelWriter)'s
//! grouped transaction, each under a savepoint: a record that fails after
//! writing (an email another lead holds, a stage deleted meanwhile) is
//! rolled back alone and the others still commit. A create that loses a
//! race for the same email or external id (PostgreSQL, concurrent
//! requests) is retried once as an update of the lead that won.

use std::sync::Arc;

use super::funnel_history::{self, LeadMove, MoveOutcome};
use super::lead_events::{self, LeadEvent};
use super::leads::{self, row_args};
use super::sql::{Arg, args};
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::funnel::StagePosition;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::lead::LeadFields;
use crate::domain::time::now_micros;
use crate::domain::webhook::EventName;

/// Turns a lead's current fields (`None` when the record creates it) into
/// the fields it should have, or says which field is invalid.
pub type FieldEdit = dyn Fn(Option<LeadFields>) -> Result<LeadFields, InvalidInput> + Send + Sync;

/// How a record names its lead; the keys given are tried in this order:
/// uid, external id, email. The external id is also stored on the lead the
/// record lands on (created, or found by email without one).
#[derive(Debug, Clone, Default)]
pub struct LeadMatch {
    pub lead_id: Option<String>,
    pub external_id: Option<String>,
    pub email: Option<EmailAddress>,
}

/// One lead record, parsed and with its stage resolved.
#[derive(Clone)]
pub struct LeadRecord {
    pub matching: LeadMatch,
    pub fields: Arc<FieldEdit>,
    /// The stage to move the lead to, if the record names one.
    pub stage_id: Option<String>,
}

impl std::fmt::Debug for LeadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeadRecord")
            .field("matching", &self.matching)
            .field("stage_id", &self.stage_id)
            .finish_non_exhaustive()
    }
}

/// The import whose records these are, and what it allows.
#[derive(Debug, Clone)]
pub struct SyncingImport {
    pub import_id: String,
    /// Whether a record that matches no lead creates one.
    pub create_leads: bool,
}

/// What a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    Created,
    Updated,
    Unchanged,
}

/// An applied record: what it did to which lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub status: SyncStatus,
    pub lead_id: String,
}

/// Why a record was not applied; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncFailure {
    /// Matched by uid alone, and no lead has it.
    LeadNotFound,
    /// Nothing matched and the import does not create leads.
    CreationOff,
    /// A field is invalid (the message names it).
    InvalidField(String),
    /// The stage is no longer in the funnel.
    InvalidStage,
    /// The new email belongs to another lead.
    EmailTaken(String),
}

/// The current state of a matched lead: (id, stage, external import, external id).
type MatchedRow = (String, Option<String>, Option<String>, Option<String>);

/// Applies one record inside the caller's transaction. `Ok(Err(_))` is a
/// failed record (rolled back); `Err(_)` fails the whole transaction.
pub async fn apply(
    db: &Database,
    tx: &mut WriteTx<'_>,
    account_id: &str,
    import: &SyncingImport,
    actor: &Actor,
    stages: &[StagePosition],
    record: &LeadRecord,
) -> StoreResult<Result<Synced, SyncFailure>> {
    let target = Target {
        account_id,
        import,
        actor,
        stages,
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        tx.execute("SAVEPOINT lead_record", &[]).await?;
        let outcome = apply_in_savepoint(db, tx, &target, record).await;
        match outcome {
            Ok(Ok(synced)) => {
                tx.execute("RELEASE SAVEPOINT lead_record", &[]).await?;
                return Ok(Ok(synced));
            }
            Ok(Err(failure)) => {
                roll_back(tx).await?;
                return Ok(Err(failure));
            }
            // Another transaction created the lead between our lookup and
            // our insert: look again, which now finds it.
            Err(error) if error.is_unique_violation() && attempts == 1 => {
                tracing::debug!(%error, "lead sync lost a race to create a lead; matching again");
                roll_back(tx).await?;
            }
            Err(error) => {
                roll_back(tx).await?;
                return Err(error);
            }
        }
    }
}

async fn roll_back(tx: &mut WriteTx<'_>) -> StoreResult<()> {
    tx.execute("ROLLBACK TO SAVEPOINT lead_record", &[]).await?;
    tx.execute("RELEASE SAVEPOINT lead_record", &[]).await?;
    Ok(())
}

/// Where records land and who applies them.
struct Target<'a> {
    account_id: &'a str,
    import: &'a SyncingImport,
    actor: &'a Actor,
    stages: &'a [StagePosition],
}

async fn apply_in_savepoint(
    db: &Database,
    tx: &mut WriteTx<'_>,
    target: &Target<'_>,
    record: &LeadRecord,
) -> StoreResult<Result<Synced, SyncFailure>> {
    let Target {
        account_id,
        import,
        actor,
        stages,
    } = *target;
    let matching = &record.matching;
    let now = now_micros();
    let found = find(tx, account_id, &import.import_id, matching).await?;
    let (lead_id, current_stage, created, fields_changed) = match found {
        None => {
            if matching.external_id.is_none() && matching.email.is_none() {
                return Ok(Err(SyncFailure::LeadNotFound));
            }
            if !import.create_leads {
                return Ok(Err(SyncFailure::CreationOff));
            }
            let fields = match (record.fields)(None) {
                Ok(fields) => fields,
                Err(invalid) => return Ok(Err(SyncFailure::InvalidField(invalid.0))),
            };
            let id = new_id(IdKind::Lead);
            let mut binds = row_args(&id, account_id, &fields, now);
            let external = matching
                .external_id
                .as_deref()
                .map(|_| import.import_id.as_str());
            binds.push(Arg::from(external));
            binds.push(Arg::from(matching.external_id.as_deref()));
            // A unique violation here is a lost race: `apply` matches again.
            tx.execute(
                "INSERT INTO leads (id, account_id, email, email_key, company, first_name, last_name, \
                     phone, website, position, twitter, linkedin, notes, score, created_at, updated_at, \
                     external_import_id, external_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17)",
                &binds,
            )
            .await?;
            (id, None, true, false)
        }
        Some((id, stage, external_import, external_id)) => {
            let before = leads::fetch(tx, account_id, &id).await?;
            let before = before.fields().map_err(StoreError::from)?;
            let fields = match (record.fields)(Some(before.clone())) {
                Ok(fields) => fields,
                Err(invalid) => return Ok(Err(SyncFailure::InvalidField(invalid.0))),
            };
            // A lead keeps the external id of the first import that set
            // one; this import's id replaces only its own.
            let new_external = matching.external_id.as_deref().filter(|wanted| {
                external_import
                    .as_deref()
                    .is_none_or(|owner| owner == import.import_id)
                    && external_id.as_deref() != Some(*wanted)
            });
            let fields_changed = fields != before || new_external.is_some();
            if fields_changed {
                let mut binds = row_args(&id, account_id, &fields, now);
                binds.push(Arg::from(new_external.map(|_| import.import_id.as_str())));
                binds.push(Arg::from(new_external));
                let written = tx
                    .execute(
                        "UPDATE leads SET email = $3, email_key = $4, company = $5, first_name = $6, \
                             last_name = $7, phone = $8, website = $9, position = $10, twitter = $11, \
                             linkedin = $12, notes = $13, score = $14, updated_at = $15, \
                             external_import_id = COALESCE($16, external_import_id), \
                             external_id = COALESCE($17, external_id) \
                         WHERE id = $1 AND account_id = $2",
                        &binds,
                    )
                    .await;
                match written {
                    Err(error) if error.is_unique_violation() && fields.email != before.email => {
                        return Ok(Err(SyncFailure::EmailTaken(
                            fields.email.as_str().to_owned(),
                        )));
                    }
                    written => written?,
                };
            }
            (id, stage, false, fields_changed)
        }
    };

    let mut stage_moved_to = None;
    if let Some(stage_id) = &record.stage_id {
        let lead_move = LeadMove {
            stages,
            account_id,
            lead_id: &lead_id,
            current: current_stage.as_deref(),
            target: stage_id,
            actor,
            now,
        };
        match funnel_history::move_lead(tx, lead_move).await {
            Ok(MoveOutcome::Moved { .. }) => stage_moved_to = Some(stage_id.as_str()),
            Ok(_) => {}
            Err(StoreError::Invalid(_)) => return Ok(Err(SyncFailure::InvalidStage)),
            Err(other) => return Err(other),
        }
    }
    let stage_after = stage_moved_to.or(current_stage.as_deref());

    // The events the admin API emits for the same change.
    let mut events = Vec::new();
    if created {
        events.push(LeadEvent {
            account_id,
            lead_id: &lead_id,
            name: EventName::LeadCreated,
            actor,
            previous_stage: None,
            stage_after,
        });
    } else if fields_changed {
        events.push(LeadEvent {
            account_id,
            lead_id: &lead_id,
            name: EventName::LeadUpdated,
            actor,
            previous_stage: None,
            stage_after,
        });
    }
    if stage_moved_to.is_some() {
        events.push(lead_events::stage_changed(
            account_id,
            &lead_id,
            current_stage.as_deref(),
            stage_after,
            actor,
        ));
    }
    lead_events::record(db, tx, &events, now, &Default::default()).await?;

    let status = if created {
        SyncStatus::Created
    } else if fields_changed || stage_moved_to.is_some() {
        SyncStatus::Updated
    } else {
        SyncStatus::Unchanged
    };
    Ok(Ok(Synced { status, lead_id }))
}

/// The first lead the record's keys name, locked: by uid, then by this
/// import's external id, then by email.
async fn find(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    import_id: &str,
    matching: &LeadMatch,
) -> StoreResult<Option<MatchedRow>> {
    const COLUMNS: &str = "SELECT id, funnel_stage_id, external_import_id, external_id FROM leads";
    let lock = tx.for_update();
    if let Some(lead_id) = &matching.lead_id {
        let row = tx
            .fetch_optional(
                &format!("{COLUMNS} WHERE account_id = $1 AND id = $2{lock}"),
                args![account_id, lead_id],
            )
            .await?;
        if row.is_some() {
            return Ok(row);
        }
    }
    if let Some(external_id) = &matching.external_id {
        let row = tx
            .fetch_optional(
                &format!(
                    "{COLUMNS} WHERE account_id = $1 AND external_import_id = $2 AND external_id = $3{lock}"
                ),
                args![account_id, import_id, external_id],
            )
            .await?;
        if row.is_some() {
            return Ok(row);
        }
    }
    if let Some(email) = &matching.email {
        return tx
            .fetch_optional(
                &format!("{COLUMNS} WHERE account_id = $1 AND email_key = $2{lock}"),
                args![account_id, email.lookup_key()],
            )
            .await;
    }
    Ok(None)
}
