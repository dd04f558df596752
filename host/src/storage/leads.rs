//! Lead rows: their columns ([`Lead`]), the reads (by id, by page, by
//! external id, by email, inside a write transaction) and the JSON forms
//! ([`LeadView`], [`FunnelEventView`]) shared by the admin API and the
//! outbound payloads. The writes that change a lead and emit its events
//! are in [`lead_changes`](super::lead_changes), above this module and
//! [`lead_events`](super::lead_events), which reads snapshots here.

use serde::Serialize;
use utoipa::ToSchema;

use super::funnel_history::FunnelEvent;
use super::sql::{self, Arg, DbRow, FromDbRow, args};
use super::statement::Statement;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, params};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;
use crate::domain::time::to_rfc3339;

/// A lead as stored, with its current stage's title and position (decoded
/// by its [`FromDbRow`] impl, on either path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lead {
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
    /// A new lead's row as inserted at `now`: outside the funnel, with no
    /// external id.
    pub(crate) fn inserted(id: String, fields: &LeadFields, now: i64) -> Self {
        Self {
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
        }
    }

    /// The editable fields, as the domain sees them.
    pub(crate) fn fields(&self) -> Result<LeadFields, InvalidInput> {
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
pub(crate) struct LeadStageView {
    pub id: String,
    pub title: String,
    /// 1-based place in the funnel; null if the stage has since been deleted.
    pub position: Option<i64>,
}

/// A lead.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct LeadView {
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
pub(crate) struct ExternalIdView {
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
pub(crate) struct FunnelEventView {
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
            source: event.source,
            backfilled: event.backfilled,
            archived_at: event.archived_at.map(to_rfc3339),
        }
    }
}

pub(super) const LEAD_SELECT: &str = "SELECT l.id, l.email, l.company, l.first_name, l.last_name, l.phone, \
    l.website, l.position, l.twitter, l.linkedin, l.notes, l.score, l.funnel_stage_id, \
    s.title AS funnel_stage_title, s.position AS funnel_stage_position, \
    l.external_import_id, l.external_id, l.created_at, l.updated_at \
    FROM leads l LEFT JOIN funnel_stages s ON s.id = l.funnel_stage_id";

/// One lead by its `lead_profile_uid`.
pub(crate) async fn get(db: &Database, account_id: &str, lead_id: &str) -> StoreResult<Lead> {
    sql::fetch_optional(
        db.reader(),
        &format!("{LEAD_SELECT} WHERE l.account_id = $1 AND l.id = $2"),
        args![account_id, lead_id],
    )
    .await?
    .ok_or_else(|| lead_not_found(lead_id))
}

/// Up to `limit` leads after the `after` id, oldest first.
pub(crate) async fn list(
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

/// What a page of leads is narrowed to: each filter given must hold.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LeadFilter<'a> {
    /// The lead with this email (compared as the unique index compares it).
    pub email: Option<&'a EmailAddress>,
    /// Leads a CRM knows by this id (unique per import).
    pub external_id: Option<&'a str>,
    /// Leads whose external id belongs to this import.
    pub import_id: Option<&'a str>,
}

/// Up to `limit` leads after the `after` id, oldest first, that pass
/// `filter`.
pub(crate) async fn list_matching(
    db: &Database,
    account_id: &str,
    filter: LeadFilter<'_>,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Lead>> {
    let mut query = Statement::new(LEAD_SELECT);
    query
        .push(" WHERE l.account_id = ")
        .push_bind(account_id)
        .push(" AND l.id > ")
        .push_bind(after.unwrap_or(""));
    if let Some(email) = filter.email {
        query
            .push(" AND l.email_key = ")
            .push_bind(email.lookup_key());
    }
    if let Some(external_id) = filter.external_id {
        query.push(" AND l.external_id = ").push_bind(external_id);
    }
    if let Some(import_id) = filter.import_id {
        query
            .push(" AND l.external_import_id = ")
            .push_bind(import_id);
    }
    query.push(" ORDER BY l.id LIMIT ").push_bind(limit);
    sql::fetch_all(db.reader(), query.sql(), query.args()).await
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
pub(crate) async fn fetch_many(
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
pub(super) async fn email_conflict(
    db: &Database,
    account_id: &str,
    email: &EmailAddress,
) -> StoreError {
    let holder: Option<(String,)> = sql::fetch_optional(
        db.reader(),
        "SELECT id FROM leads WHERE account_id = $1 AND email_key = $2",
        args![account_id, email.lookup_key()],
    )
    .await
    .unwrap_or(None);
    email_taken(email, holder.as_ref().map(|(id,)| id.as_str()))
}

/// The conflict of a write refused because another lead of the account,
/// `holder` if known, has the email.
pub(super) fn email_taken(email: &EmailAddress, holder: Option<&str>) -> StoreError {
    let holder = holder.map_or_else(String::new, |id| format!(" ({id})"));
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
