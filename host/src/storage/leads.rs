//! Leads: create, read, list (keyset pagination by id), update and delete,
//! each scoped to one account. Stage changes go through
//! [`funnel_history::move_lead`] in the same transaction as the lead's row.
//! [`LeadView`] is a lead's JSON form, shared by the admin API and the
//! outbound payloads.

use serde::Serialize;
use sqlx::{Any, AnyConnection, FromRow, Transaction};
use utoipa::ToSchema;

use super::funnel_history::FunnelEvent;
use super::funnel_history::{self, MoveOutcome};
use super::funnel_stages;
use super::lead_events::{self, LeadEvent};
use super::{Database, StoreError, StoreResult, is_unique_violation, params};
use crate::domain::InvalidInput;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::email::EmailAddress;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::lead::LeadFields;
use crate::domain::time::{now_micros, to_rfc3339};
use crate::outbound::events::EventName;

/// A lead as stored, with its current stage's title and position.
#[derive(Debug, Clone, FromRow)]
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
    pub created_at: String,
    pub updated_at: String,
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

const LEAD_SELECT: &str = "SELECT l.id, l.email, l.company, l.first_name, l.last_name, l.phone, \
    l.website, l.position, l.twitter, l.linkedin, l.notes, l.score, l.funnel_stage_id, \
    s.title AS funnel_stage_title, s.position AS funnel_stage_position, l.created_at, l.updated_at \
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
    let mut tx = db.begin().await?;
    let now = now_micros();
    let id = new_id(IdKind::Lead);
    let inserted = sqlx::query(
        "INSERT INTO leads (id, account_id, email, email_key, company, first_name, last_name, \
             phone, website, position, twitter, linkedin, notes, score, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(fields.email.as_str())
    .bind(fields.email.lookup_key())
    .bind(&fields.company)
    .bind(&fields.first_name)
    .bind(&fields.last_name)
    .bind(&fields.phone)
    .bind(&fields.website)
    .bind(&fields.position)
    .bind(&fields.twitter)
    .bind(&fields.linkedin)
    .bind(&fields.notes)
    .bind(fields.score)
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(error) = inserted {
        return Err(email_conflict(db, account_id, error, &fields.email).await);
    }
    let mut stage_after = None;
    if let Some(stage_id) = stage_id {
        let stages = funnel_stages::positions(db, &mut tx, account_id)
            .await?
            .stages;
        let outcome = funnel_history::move_lead(
            &mut tx, &stages, account_id, &id, None, stage_id, actor, now,
        )
        .await?;
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
    let enqueued = lead_events::record(db, &mut tx, &events, now, &Default::default()).await?;
    let lead = fetch(&mut tx, account_id, &id).await?;
    tx.commit().await?;
    wake_if(db, enqueued);
    Ok(lead)
}

/// One lead by its `lead_profile_uid`.
pub async fn get(db: &Database, account_id: &str, lead_id: &str) -> StoreResult<Lead> {
    sqlx::query_as::<_, Lead>(&format!(
        "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id = $2"
    ))
    .bind(account_id)
    .bind(lead_id)
    .fetch_optional(db.reader())
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
    let leads = sqlx::query_as::<_, Lead>(&format!(
        "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id > $2 ORDER BY l.id LIMIT $3"
    ))
    .bind(account_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(leads)
}

/// Applies `edit` to the lead's current fields and stores the result, then
/// applies the stage change, all in one transaction with the row locked.
pub async fn update(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    edit: impl FnOnce(LeadFields) -> Result<LeadFields, InvalidInput>,
    stage_change: Option<StageChange>,
    actor: &Actor,
) -> StoreResult<(Lead, Option<MoveOutcome>)> {
    let mut tx = db.begin().await?;
    let locked: Option<(Option<String>,)> = sqlx::query_as(&format!(
        "SELECT funnel_stage_id FROM leads WHERE account_id = $1 AND id = $2{}",
        db.for_update()
    ))
    .bind(account_id)
    .bind(lead_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((current_stage,)) = locked else {
        return Err(lead_not_found(lead_id));
    };
    let before = fetch(&mut tx, account_id, lead_id).await?;
    let fields = edit(before.fields()?)?;
    let now = now_micros();
    let fields_changed = fields != before.fields()?;
    if fields_changed {
        let written = sqlx::query(
            "UPDATE leads SET email = $1, email_key = $2, company = $3, first_name = $4, \
                 last_name = $5, phone = $6, website = $7, position = $8, twitter = $9, \
                 linkedin = $10, notes = $11, score = $12, updated_at = $13 \
             WHERE account_id = $14 AND id = $15",
        )
        .bind(fields.email.as_str())
        .bind(fields.email.lookup_key())
        .bind(&fields.company)
        .bind(&fields.first_name)
        .bind(&fields.last_name)
        .bind(&fields.phone)
        .bind(&fields.website)
        .bind(&fields.position)
        .bind(&fields.twitter)
        .bind(&fields.linkedin)
        .bind(&fields.notes)
        .bind(fields.score)
        .bind(now)
        .bind(account_id)
        .bind(lead_id)
        .execute(&mut *tx)
        .await;
        if let Err(error) = written {
            return Err(email_conflict(db, account_id, error, &fields.email).await);
        }
    }
    let outcome = match stage_change {
        None => None,
        Some(StageChange::MoveTo(target)) => Some({
            let stages = funnel_stages::positions(db, &mut tx, account_id)
                .await?
                .stages;
            funnel_history::move_lead(
                &mut tx,
                &stages,
                account_id,
                lead_id,
                current_stage.as_deref(),
                &target,
                actor,
                now,
            )
            .await?
        }),
        Some(StageChange::Clear) => match current_stage.clone() {
            None => Some(MoveOutcome::Unchanged),
            Some(current) => {
                funnel_history::clear_stage(&mut tx, account_id, lead_id, now).await?;
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
    let enqueued = lead_events::record(db, &mut tx, &events, now, &Default::default()).await?;
    let lead = fetch(&mut tx, account_id, lead_id).await?;
    tx.commit().await?;
    wake_if(db, enqueued);
    Ok((lead, outcome))
}

/// Deletes a lead and its funnel history.
pub async fn delete(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    actor: &Actor,
) -> StoreResult<Lead> {
    let mut tx = db.begin().await?;
    // Lock the lead before touching its events, in the order funnel moves
    // take them, so the two cannot deadlock.
    let locked: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM leads WHERE account_id = $1 AND id = $2{}",
        db.for_update()
    ))
    .bind(account_id)
    .bind(lead_id)
    .fetch_optional(&mut *tx)
    .await?;
    if locked.is_none() {
        return Err(lead_not_found(lead_id));
    }
    let lead = fetch(&mut tx, account_id, lead_id).await?;
    let deleted = LeadEvent {
        account_id,
        lead_id,
        name: EventName::LeadDeleted,
        actor,
        previous_stage: None,
        stage_after: lead.funnel_stage_id.as_deref(),
    };
    let enqueued =
        lead_events::record(db, &mut tx, &[deleted], now_micros(), &Default::default()).await?;
    sqlx::query("DELETE FROM funnel_events WHERE account_id = $1 AND lead_id = $2")
        .bind(account_id)
        .bind(lead_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM leads WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(lead_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    wake_if(db, enqueued);
    Ok(lead)
}

async fn fetch(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    lead_id: &str,
) -> StoreResult<Lead> {
    sqlx::query_as::<_, Lead>(&format!(
        "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id = $2"
    ))
    .bind(account_id)
    .bind(lead_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| lead_not_found(lead_id))
}

/// Leads of one account by id, in the caller's transaction (for event
/// snapshots).
pub async fn fetch_many(
    conn: &mut AnyConnection,
    account_id: &str,
    lead_ids: &[&str],
) -> StoreResult<Vec<Lead>> {
    let mut leads = Vec::with_capacity(lead_ids.len());
    for chunk in lead_ids.chunks(500) {
        let sql = format!(
            "{LEAD_SELECT} WHERE l.account_id = $1 AND l.id IN ({})",
            params(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, Lead>(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(*id);
        }
        leads.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(leads)
}

/// Wakes the delivery worker after a commit that enqueued deliveries.
fn wake_if(db: &Database, enqueued: usize) {
    if enqueued > 0 {
        db.wake_delivery_worker();
    }
}

fn lead_not_found(lead_id: &str) -> StoreError {
    StoreError::NotFound(format!("Lead {lead_id} not found"))
}

/// Turns a unique violation on the email into a conflict naming the lead
/// that already has it.
async fn email_conflict(
    db: &Database,
    account_id: &str,
    error: sqlx::Error,
    email: &EmailAddress,
) -> StoreError {
    if !is_unique_violation(&error) {
        return error.into();
    }
    let holder: Option<(String,)> =
        sqlx::query_as("SELECT id FROM leads WHERE account_id = $1 AND email_key = $2")
            .bind(account_id)
            .bind(email.lookup_key())
            .fetch_optional(db.reader())
            .await
            .unwrap_or(None);
    let holder = holder.map_or_else(String::new, |(id,)| format!(" ({id})"));
    StoreError::Conflict(format!(
        "A lead with email {} already exists{holder}",
        email.as_str()
    ))
}
