//! The admin's changes to a lead (create, update, delete), each in one
//! write transaction with the events it emits: the lead's row (through
//! [`leads`]), its stage (through [`funnel_history::move_lead`]) and the
//! outbox (through [`lead_events`]). Creates go through the group commit
//! of inbound updates and lead sync (`funnel_updates`, `lead_sync`),
//! whose lead records they are.

use super::account_funnel;
use super::funnel_history::{self, LeadMove, MoveOutcome};
use super::funnel_updates::{FunnelWriter, UpdateRequest};
use super::lead_events::{self, LeadEvent};
use super::lead_sync::{LeadRecord, RecordSource, SyncFailure, Synced};
use super::leads::{Lead, email_conflict, email_taken, fetch, lead_not_found, row_args};
use super::sql::args;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;
use crate::domain::time::now_micros;
use crate::domain::webhook::EventName;

/// A change to a lead's current stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StageChange {
    MoveTo(String),
    Clear,
}

/// Creates a lead, optionally placing it in the funnel (which backfills the
/// stages before it). The create is a lead record of the group writer
/// ([`RecordSource::AdminCreate`]): creates arriving together commit in
/// one transaction (on PostgreSQL with one multi-row statement of each
/// kind; on SQLite the writer thread groups them, see
/// [`FunnelWriter::apply_one`]), and each is answered once committed; a
/// lead holding the email is named in the conflict.
pub(crate) async fn create(
    writer: &FunnelWriter,
    account_id: &str,
    fields: &LeadFields,
    stage_id: Option<&str>,
    actor: &Actor,
) -> StoreResult<Lead> {
    let record = LeadRecord::new_lead(fields.clone(), stage_id.map(str::to_owned));
    let results = writer
        .apply_one(UpdateRequest {
            account_id: account_id.to_owned(),
            actor: actor.clone(),
            updates: Vec::new(),
            lead_records: Some((RecordSource::AdminCreate, vec![record])),
        })
        .await?;
    match results.leads.into_iter().next() {
        Some(Ok(Synced {
            lead: Some(lead), ..
        })) => Ok(*lead),
        Some(Err(SyncFailure::EmailTaken { holder, .. })) => {
            Err(email_taken(&fields.email, Some(&holder)))
        }
        Some(Err(SyncFailure::InvalidStage)) => {
            Err(funnel_history::not_a_stage(stage_id.unwrap_or_default()))
        }
        other => Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "a lead create was answered {other:?}"
        )))),
    }
}

/// Applies `edit` to the lead's current fields and stores the result, then
/// applies the stage change, all in one transaction with the row locked.
pub(crate) async fn update(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    edit: impl FnOnce(LeadFields) -> Result<LeadFields, InvalidInput> + Send + 'static,
    stage_change: Option<StageChange>,
    actor: &Actor,
) -> StoreResult<(Lead, Option<MoveOutcome>)> {
    let (writer, account, lead) = (db.clone(), account_id.to_owned(), lead_id.to_owned());
    let actor = actor.clone();
    let updated = db
        .write(move |tx| {
            Box::pin(async move {
                let change = LeadChange {
                    account_id: &account,
                    lead_id: &lead,
                    stage_change,
                    actor: &actor,
                };
                apply_change(&writer, tx, change, edit).await
            })
        })
        .await;
    match updated {
        Err(UpdateFailure::EmailTaken(email)) => Err(email_conflict(db, account_id, &email).await),
        Err(UpdateFailure::Store(error)) => Err(error),
        Ok(updated) => Ok(updated),
    }
}

/// What [`update`] changes, besides the fields.
struct LeadChange<'a> {
    account_id: &'a str,
    lead_id: &'a str,
    stage_change: Option<StageChange>,
    actor: &'a Actor,
}

/// Why [`apply_change`] failed.
enum UpdateFailure {
    /// Another lead of the account has the new email.
    EmailTaken(EmailAddress),
    Store(StoreError),
}

impl From<StoreError> for UpdateFailure {
    fn from(error: StoreError) -> Self {
        UpdateFailure::Store(error)
    }
}

/// The work of [`update`], inside the caller's transaction; the email
/// conflict is told apart so that the caller can name the lead holding
/// the email once the transaction is over.
async fn apply_change(
    db: &Database,
    tx: &mut WriteTx<'_>,
    change: LeadChange<'_>,
    edit: impl FnOnce(LeadFields) -> Result<LeadFields, InvalidInput>,
) -> Result<(Lead, Option<MoveOutcome>), UpdateFailure> {
    let LeadChange {
        account_id,
        lead_id,
        stage_change,
        actor,
    } = change;
    let locked: Option<(Option<String>,)> = tx
        .fetch_optional(
            &format!(
                "SELECT funnel_stage_id FROM leads WHERE account_id = $1 AND id = $2{}",
                tx.for_update()
            ),
            args![account_id, lead_id],
        )
        .await?;
    let Some((current_stage,)) = locked else {
        return Err(lead_not_found(lead_id).into());
    };
    let before = fetch(tx, account_id, lead_id).await?;
    let fields = edit(before.fields().map_err(StoreError::from)?).map_err(StoreError::from)?;
    let now = now_micros();
    let fields_changed = fields != before.fields().map_err(StoreError::from)?;
    if fields_changed {
        let written = tx
            .execute(
                "UPDATE leads SET email = $3, email_key = $4, company = $5, first_name = $6, \
                     last_name = $7, phone = $8, website = $9, position = $10, twitter = $11, \
                     linkedin = $12, notes = $13, score = $14, updated_at = $15 \
                 WHERE id = $1 AND account_id = $2",
                &row_args(lead_id, account_id, &fields, now),
            )
            .await;
        match written {
            Err(error) if error.is_unique_violation() => {
                return Err(UpdateFailure::EmailTaken(fields.email.clone()));
            }
            written => written?,
        };
    }
    let outcome = match stage_change {
        None => None,
        Some(StageChange::MoveTo(target)) => Some({
            let stages = account_funnel::read(db, tx, account_id, None).await?.stages;
            let lead_move = LeadMove {
                stages: &stages,
                account_id,
                lead_id,
                current: current_stage.as_deref(),
                target: &target,
                actor,
                now,
            };
            funnel_history::move_lead(tx, lead_move).await?
        }),
        Some(StageChange::Clear) => match current_stage.clone() {
            None => Some(MoveOutcome::Unchanged),
            Some(current) => {
                funnel_history::clear_stage(tx, account_id, lead_id, now).await?;
                Some(MoveOutcome::Left { from: current })
            }
        },
    };
    let (stage_moved, stage_after) = match &outcome {
        Some(MoveOutcome::Moved { to, .. }) => (true, Some(to.as_str())),
        Some(MoveOutcome::Left { .. }) => (true, None),
        _ => (false, current_stage.as_deref()),
    };
    let mut events = Vec::new();
    if fields_changed {
        events.push(LeadEvent {
            account_id,
            lead_id,
            name: EventName::LeadUpdated,
            actor,
            previous_stage: None,
            stage_after,
        });
    }
    if stage_moved {
        events.push(lead_events::stage_changed(
            account_id,
            lead_id,
            current_stage.as_deref(),
            stage_after,
            actor,
        ));
    }
    lead_events::record(db, tx, &events, now, &Default::default()).await?;
    let lead = fetch(tx, account_id, lead_id).await?;
    Ok((lead, outcome))
}

/// Deletes a lead and its funnel history.
pub(crate) async fn delete(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    actor: &Actor,
) -> StoreResult<Lead> {
    let (writer, account, lead) = (db.clone(), account_id.to_owned(), lead_id.to_owned());
    let actor = actor.clone();
    db.write(move |tx| Box::pin(async move { remove(&writer, tx, &account, &lead, &actor).await }))
        .await
}

/// The work of [`delete`], inside the caller's transaction.
async fn remove(
    db: &Database,
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_id: &str,
    actor: &Actor,
) -> StoreResult<Lead> {
    // Lock the lead before touching its events, in the order funnel moves
    // take them, so the two cannot deadlock.
    let locked: Option<(String,)> = tx
        .fetch_optional(
            &format!(
                "SELECT id FROM leads WHERE account_id = $1 AND id = $2{}",
                tx.for_update()
            ),
            args![account_id, lead_id],
        )
        .await?;
    if locked.is_none() {
        return Err(lead_not_found(lead_id));
    }
    let lead = fetch(tx, account_id, lead_id).await?;
    let deleted = LeadEvent {
        account_id,
        lead_id,
        name: EventName::LeadDeleted,
        actor,
        previous_stage: None,
        stage_after: lead.funnel_stage_id.as_deref(),
    };
    lead_events::record(db, tx, &[deleted], now_micros(), &Default::default()).await?;
    tx.execute(
        "DELETE FROM funnel_events WHERE account_id = $1 AND lead_id = $2",
        args![account_id, lead_id],
    )
    .await?;
    tx.execute(
        "DELETE FROM leads WHERE account_id = $1 AND id = $2",
        args![account_id, lead_id],
    )
    .await?;
    Ok(lead)
}
