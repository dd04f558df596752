//! Leads: create, read, list (keyset pagination by id), update and delete,
//! each scoped to one account. Stage changes go through
//! [`funnel_history::move_lead`] in the same transaction as the lead's row.
//! [`LeadView`] is a lead's JSON form, shared by the admin API and the
//! outbound payloads.

use serde::Serialize;
use utoipa::ToSchema;

use super::funnel_history::FunnelEvent;
use super::funnel_history::{self, LeadMove, MoveOutcome};
use super::funnel_stages;
use super::lead_events::{self, LeadEvent};
use super::sql::{self, Arg, DbRow, FromDbRow, args};
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, params};
use crate::domain::InvalidInput;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::email::EmailAddress;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::lead::LeadFields;
use crate::domain::time::{now_micros, to_rfc3339};
use crate::domain::webhook::EventName;

/// A lead as stored, with its current stage's title and position (decoded
/// by its [`FromDbRow`] impl, on either path).
#[derive(Debug, Clone)]
pub struct Lead {
    pub id: String,
    pub email: String,
    pub company: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub position: Option<String>,
    pub twitter: Option<String>,
    pub linkedin: Option<String>,
    pub notes: Option<String>,
    pub score: i64,
    pub funnel_stage_id: Option<String>,
    pub funnel_stage_title: Option<String>,
    pub funnel_stage_position: Option<i64>,
    /// The import whose CRM knows the lead as `external_id`.
    pub external_import_id: Option<String>,
    /// The CRM's own id for the lead (see [`Lead::external_import_id`]).
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Lead {
    /// The editable fields, as the domain sees them.
    pub fn fields(&self) -> Result<LeadFields, InvalidInput> {
        Ok(LeadFields {
            email: EmailAddress::parse(&self.email)?,
            company: self.company.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            website: self.website.clone(),
            position: self.position.clone(),
            twitter: self.twitter.clone(),
            linkedin: self.linkedin.clone(),
            notes: self.notes.clone(),
            score: self.score,
        })
    }
}

/// The stage a lead is at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadStageView {
    pub id: String,
    pub title: String,
    /// 1-based place in the funnel; null if the stage has since been deleted.
    pub position: Option<i64>,
}

/// A lead.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadView {
    /// Assigned by Switchyard; the id CRMs send in funnel updates.
    pub lead_profile_uid: String,
    pub email: String,
    pub company: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub position: Option<String>,
    pub twitter: Option<String>,
    pub linkedin: Option<String>,
    pub notes: Option<String>,
    pub score: i64,
    pub funnel_stage: Option<LeadStageView>,
    /// The id a CRM knows the lead by, set by lead sync; null if none.
    pub external_id: Option<ExternalIdView>,
    pub created_at: String,
    pub updated_at: String,
}

/// A CRM's own id for a lead, with the import it belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExternalIdView {
    pub import_id: String,
    pub id: String,
}

impl From<Lead> for LeadView {
    fn from(lead: Lead) -> Self {
        let funnel_stage = match (lead.funnel_stage_id, lead.funnel_stage_title) {
            (Some(id), Some(title)) => Some(LeadStageView {
                id,
                title,
                position: lead.funnel_stage_position,
            }),
            _ => None,
        };
        Self {
            lead_profile_uid: lead.id,
            email: lead.email,
            company: lead.company,
            first_name: lead.first_name,
            last_name: lead.last_name,
            phone: lead.phone,
            website: lead.website,
            position: lead.position,
            twitter: lead.twitter,
            linkedin: lead.linkedin,
            notes: lead.notes,
            score: lead.score,
            funnel_stage,
            external_id: match (lead.external_import_id, lead.external_id) {
                (Some(import_id), Some(id)) => Some(ExternalIdView { import_id, id }),
                _ => None,
            },
            created_at: to_rfc3339(lead.created_at),
            updated_at: to_rfc3339(lead.updated_at),
        }
    }
}

/// One event of a lead's funnel history.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelEventView {
    pub id: String,
    pub funnel_stage: LeadStageView,
    pub occurred_at: String,
    /// Who moved the lead.
    pub source: Actor,
    /// True when the lead skipped this stage and it was filled in.
    pub backfilled: bool,
    /// Set when a later backward move archived this event.
    pub archived_at: Option<String>,
}

impl From<FunnelEvent> for FunnelEventView {
    fn from(event: FunnelEvent) -> Self {
        Self {
            id: event.id,
            funnel_stage: LeadStageView {
                id: event.funnel_stage_id,
                title: event.stage_title,
                position: event.stage_position,
            },
            occurred_at: to_rfc3339(event.occurred_at),
            source: Actor {
                kind: ActorKind::parse(&event.source_type).unwrap_or(ActorKind::AdminApiKey),
                id: event.source_id,
                name: event.source_name,
            },
            backfilled: event.backfilled != 0,
            archived_at: event.archived_at.map(to_rfc3339),
        }
    }
}

/// A change to a lead's current stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageChange {
    MoveTo(String),
    Clear,
}

pub(super) const LEAD_SELECT: &str = "SELECT l.id, l.email, l.company, l.first_name, l.last_name, l.phone, \
    l.website, l.position, l.twitter, l.linkedin, l.notes, l.score, l.funnel_stage_id, \
    s.title AS funnel_stage_title, s.position AS funnel_stage_position, \
    l.external_import_id, l.external_id, l.created_at, l.updated_at \
    FROM leads l LEFT JOIN funnel_stages s ON s.id = l.funnel_stage_id";

/// Creates a lead, optionally placing it in the funnel (which backfills the
/// stages before it).
pub async fn create(
    db: &Database,
    account_id: &str,
    fields: &LeadFields,
    stage_id: Option<&str>,
    actor: &Actor,
) -> StoreResult<Lead> {
    let (writer, account, new_fields) = (db.clone(), account_id.to_owned(), fields.clone());
    let (stage_id, actor) = (stage_id.map(str::to_owned), actor.clone());
    let created = db
        .write(move |tx| {
            Box::pin(async move {
                insert(
                    &writer,
                    tx,
                    &account,
                    &new_fields,
                    stage_id.as_deref(),
                    &actor,
                )
                .await
            })
        })
        .await;
    match created {
        Err(error) if error.is_unique_violation() => {
            Err(email_conflict(db, account_id, &fields.email).await)
        }
        other => other,
    }
}

/// The work of [`create`], inside the caller's transaction.
async fn insert(
    db: &Database,
    tx: &mut WriteTx<'_>,
    account_id: &str,
    fields: &LeadFields,
    stage_id: Option<&str>,
    actor: &Actor,
) -> StoreResult<Lead> {
    let now = now_micros();
    let id = new_id(IdKind::Lead);
    tx.execute(
        "INSERT INTO leads (id, account_id, email, email_key, company, first_name, last_name, \
             phone, website, position, twitter, linkedin, notes, score, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
        &row_args(&id, account_id, fields, now),
    )
    .await?;
    let mut stage_after = None;
    if let Some(stage_id) = stage_id {
        let stages = funnel_stages::positions(tx, account_id).await?.stages;
        let lead_move = LeadMove {
            stages: &stages,
            account_id,
            lead_id: &id,
            current: None,
            target: stage_id,
            actor,
            now,
        };
        let outcome = funnel_history::move_lead(tx, lead_move).await?;
        if matches!(outcome, MoveOutcome::Moved { .. }) {
            stage_after = Some(stage_id);
        }
    }
    let mut events = vec![LeadEvent {
        account_id,
        lead_id: &id,
        name: EventName::LeadCreated,
        actor,
        previous_stage: None,
        stage_after,
    }];
    if stage_after.is_some() {
        events.push(lead_events::stage_changed(
            account_id,
            &id,
            None,
            stage_after,
            actor,
        ));
    }
    lead_events::record(db, tx, &events, now, &Default::default()).await?;
    if stage_after.is_some() {
        // The stage's title and position come from the database.
        return fetch(tx, account_id, &id).await;
    }
    // Nothing else wrote to the row: it is what was inserted, which spares
    // PostgreSQL a round trip.
    Ok(Lead {
        id,
        email: fields.email.as_str().to_owned(),
        company: fields.company.clone(),
        first_name: fields.first_name.clone(),
        last_name: fields.last_name.clone(),
        phone: fields.phone.clone(),
        website: fields.website.clone(),
        position: fields.position.clone(),
        twitter: fields.twitter.clone(),
        linkedin: fields.linkedin.clone(),
        notes: fields.notes.clone(),
        score: fields.score,
        funnel_stage_id: None,
        funnel_stage_title: None,
        funnel_stage_position: None,
        external_import_id: None,
        external_id: None,
        created_at: now,
        updated_at: now,
    })
}

/// One lead by its `lead_profile_uid`.
pub async fn get(db: &Database, account_id: &str, lead_id: &str) -> StoreResult<Lead> {
    sql::fetch_optional(
        db.reader(),
        &format!("{LEAD_SELECT} WHERE l.account_id = $1 AND l.id = $2"),
        args![account_id, lead_id],
    )
    .await?
    .ok_or_else(|| lead_not_found(lead_id))
}

/// Up to `limit` leads after the `after` id, oldest first.
pub async fn list(
    db: &Database,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Lead>> {
    sql::fetch_all(
        db.reader(),
        &format!("{LEAD_SELECT} WHERE l.account_id = $1 AND l.id > $2 ORDER BY l.id LIMIT $3"),
        args![account_id, after.unwrap_or(""), limit],
    )
    .await
}

/// The lead a CRM knows by `external_id` through one import, if any.
pub async fn find_by_external_id(
    db: &Database,
    account_id: &str,
    import_id: &str,
    external_id: &str,
) -> StoreResult<Option<Lead>> {
    sql::fetch_optional(
        db.reader(),
        &format!(
            "{LEAD_SELECT} WHERE l.account_id = $1 AND l.external_import_id = $2 AND l.external_id = $3"
        ),
        args![account_id, import_id, external_id],
    )
    .await
}

/// The lead with this email (compared as the unique index compares it), if any.
pub async fn find_by_email(
    db: &Database,
    account_id: &str,
    email: &EmailAddress,
) -> StoreResult<Option<Lead>> {
    sql::fetch_optional(
        db.reader(),
        &format!("{LEAD_SELECT} WHERE l.account_id = $1 AND l.email_key = $2"),
        args![account_id, email.lookup_key()],
    )
    .await
}

/// Applies `edit` to the lead's current fields and stores the result, then
/// applies the stage change, all in one transaction with the row locked.
pub async fn update(
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
            let stages = funnel_stages::positions(tx, account_id).await?.stages;
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
pub async fn delete(
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

pub(super) async fn fetch(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_id: &str,
) -> StoreResult<Lead> {
    tx.fetch_optional(
        &format!("{LEAD_SELECT} WHERE l.account_id = $1 AND l.id = $2"),
        args![account_id, lead_id],
    )
    .await?
    .ok_or_else(|| lead_not_found(lead_id))
}

/// Leads of one account by id, in the caller's transaction (for event
/// snapshots).
pub async fn fetch_many(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_ids: &[&str],
) -> StoreResult<Vec<Lead>> {
    let mut leads = Vec::with_capacity(lead_ids.len());
    for chunk in lead_ids.chunks(500) {
        let sql = format!(
            "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id IN ({})",
            params(2, chunk.len())
        );
        let mut binds = Vec::with_capacity(1 + chunk.len());
        binds.push(Arg::from(account_id));
        binds.extend(chunk.iter().map(|id| Arg::from(*id)));
        leads.extend(tx.fetch_all::<Lead>(&sql, &binds).await?);
    }
    Ok(leads)
}

pub(super) fn lead_not_found(lead_id: &str) -> StoreError {
    StoreError::NotFound(format!("Lead {lead_id} not found"))
}

/// A lead row's parameters, as its insert and its update number them:
/// `$1` id, `$2` account, `$3`..`$14` the fields, `$15` the time.
pub(super) fn row_args<'a>(
    id: &'a str,
    account_id: &'a str,
    fields: &'a LeadFields,
    now: i64,
) -> Vec<Arg<'a>> {
    vec![
        Arg::from(id),
        Arg::from(account_id),
        Arg::from(fields.email.as_str()),
        Arg::from(fields.email.lookup_key()),
        Arg::from(&fields.company),
        Arg::from(&fields.first_name),
        Arg::from(&fields.last_name),
        Arg::from(&fields.phone),
        Arg::from(&fields.website),
        Arg::from(&fields.position),
        Arg::from(&fields.twitter),
        Arg::from(&fields.linkedin),
        Arg::from(&fields.notes),
        Arg::from(fields.score),
        Arg::from(now),
    ]
}

/// The conflict of a write refused because another lead of the account
/// has the email, naming that lead.
async fn email_conflict(db: &Database, account_id: &str, email: &EmailAddress) -> StoreError {
    let holder: Option<(String,)> = sql::fetch_optional(
        db.reader(),
        "SELECT id FROM leads WHERE account_id = $1 AND email_key = $2",
        args![account_id, email.lookup_key()],
    )
    .await
    .unwrap_or(None);
    let holder = holder.map_or_else(String::new, |(id,)| format!(" ({id})"));
    StoreError::Conflict(format!(
        "A lead with email {} already exists{holder}",
        email.as_str()
    ))
}

impl FromDbRow for Lead {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        Ok(Self {
            id: row.get("id")?,
            email: row.get("email")?,
            company: row.get("company")?,
            first_name: row.get("first_name")?,
            last_name: row.get("last_name")?,
            phone: row.get("phone")?,
            website: row.get("website")?,
            position: row.get("position")?,
            twitter: row.get("twitter")?,
            linkedin: row.get("linkedin")?,
            notes: row.get("notes")?,
            score: row.get("score")?,
            funnel_stage_id: row.get("funnel_stage_id")?,
            funnel_stage_title: row.get("funnel_stage_title")?,
            funnel_stage_position: row.get("funnel_stage_position")?,
            external_import_id: row.get("external_import_id")?,
            external_id: row.get("external_id")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}
