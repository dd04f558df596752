//! `/api/v1/leads`: create, read, list (cursor pagination), update, delete
//! leads, and read a lead's funnel history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{AdminAuth, ApiQuery, JsonBody};
use super::{integers, present};
use crate::domain::InvalidInput;
use crate::domain::email::EmailAddress;
use crate::domain::lead::{LeadFields, optional_text};
use crate::storage::funnel_history;
use crate::storage::lead_changes::{self, StageChange};
use crate::storage::leads::{self, FunnelEventView, LeadFilter, LeadView};

/// Largest page of leads one request returns.
const MAX_PAGE_SIZE: i64 = 200;
const DEFAULT_PAGE_SIZE: i64 = 50;

/// One page of leads, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LeadPage {
    pub data: Vec<LeadView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadPageQuery {
    /// Leads per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only the lead with this email (compared ignoring case).
    pub email: Option<String>,
    /// Only leads a CRM knows by this id (one per import that set it).
    pub external_id: Option<String>,
    /// Only leads whose external id was set by this import.
    pub import_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateLead {
    /// Unique in the account, ignoring case: one `@` with a name before
    /// it and a dotted domain after it, no spaces or control characters,
    /// at most 254 bytes.
    #[schema(format = Email, max_length = 254,
        pattern = r"^[!-?A-~]+@[!-\-/-?A-~]+(\.[!-\-/-?A-~]+)+$")]
    pub email: String,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub company: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub first_name: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub last_name: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub phone: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub website: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub position: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub twitter: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub linkedin: Option<String>,
    /// At most 10,000 characters.
    #[schema(max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub notes: Option<String>,
    /// Defaults to 0.
    #[serde(default, deserialize_with = "integers::optional")]
    pub score: Option<i64>,
    /// Places the lead in the funnel; the stages before it are backfilled.
    pub funnel_stage_id: Option<String>,
}

impl CreateLead {
    pub(crate) fn fields(self) -> Result<LeadFields, InvalidInput> {
        Ok(LeadFields {
            email: EmailAddress::parse(&self.email)?,
            company: optional_text("company", self.company)?,
            first_name: optional_text("first_name", self.first_name)?,
            last_name: optional_text("last_name", self.last_name)?,
            phone: optional_text("phone", self.phone)?,
            website: optional_text("website", self.website)?,
            position: optional_text("position", self.position)?,
            twitter: optional_text("twitter", self.twitter)?,
            linkedin: optional_text("linkedin", self.linkedin)?,
            notes: optional_text("notes", self.notes)?,
            score: self.score.unwrap_or(0),
        })
    }
}

/// Fields to change; absent fields stay as they are, `null` clears an
/// optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateLead {
    /// The same rules as a new lead's; cannot be null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, format = Email, max_length = 254,
        pattern = r"^[!-?A-~]+@[!-\-/-?A-~]+(\.[!-\-/-?A-~]+)+$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub position: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub twitter: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub linkedin: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, max_length = 10000, pattern = r"^[^\u0000]*$")]
    pub notes: Option<Option<String>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "integers::present")]
    #[schema(value_type = i64, required = false)]
    pub score: Option<Option<i64>>,
    /// Moves the lead (forward backfills, backward archives); `null` takes it
    /// out of the funnel.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub funnel_stage_id: Option<Option<String>>,
}

impl UpdateLead {
    /// Applies the changes to the current fields.
    pub(crate) fn apply(self, mut fields: LeadFields) -> Result<LeadFields, InvalidInput> {
        fn text(
            field: &str,
            change: Option<Option<String>>,
            slot: &mut Option<String>,
        ) -> Result<(), InvalidInput> {
            if let Some(value) = change {
                *slot = optional_text(field, value)?;
            }
            Ok(())
        }
        match self.email {
            Some(Some(email)) => fields.email = EmailAddress::parse(&email)?,
            Some(None) => return Err(InvalidInput("email cannot be null".into())),
            None => {}
        }
        match self.score {
            Some(Some(score)) => fields.score = score,
            Some(None) => return Err(InvalidInput("score cannot be null; send an integer".into())),
            None => {}
        }
        text("company", self.company, &mut fields.company)?;
        text("first_name", self.first_name, &mut fields.first_name)?;
        text("last_name", self.last_name, &mut fields.last_name)?;
        text("phone", self.phone, &mut fields.phone)?;
        text("website", self.website, &mut fields.website)?;
        text("position", self.position, &mut fields.position)?;
        text("twitter", self.twitter, &mut fields.twitter)?;
        text("linkedin", self.linkedin, &mut fields.linkedin)?;
        text("notes", self.notes, &mut fields.notes)?;
        Ok(fields)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunnelHistory {
    pub data: Vec<FunnelEventView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunnelHistoryQuery {
    /// Include events archived by backward moves (default false).
    #[serde(default)]
    pub include_archived: bool,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_leads, create_lead))
        .routes(routes!(get_lead, update_lead, delete_lead))
        .routes(routes!(lead_funnel_history))
}

/// Leads of the account, oldest first, a page at a time; `email`,
/// `external_id` and `import_id` narrow the list, together.
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadPageQuery),
    responses((status = 200, body = LeadPage)))]
async fn list_leads(
    State(state): State<AppState>,
    auth: AdminAuth,
    ApiQuery(query): ApiQuery<LeadPageQuery>,
) -> ApiResult<Json<LeadPage>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    // The filters combine: each one given narrows the page. An address
    // that cannot be valid matches no lead.
    let email = match query.email.as_deref().map(EmailAddress::parse) {
        Some(Err(_)) => {
            return Ok(Json(LeadPage {
                data: Vec::new(),
                next_cursor: None,
            }));
        }
        Some(Ok(email)) => Some(email),
        None => None,
    };
    let filter = LeadFilter {
        email: email.as_ref(),
        external_id: query.external_id.as_deref(),
        import_id: query.import_id.as_deref(),
    };
    // One extra row tells whether another page follows.
    let mut leads = leads::list_matching(
        &state.db,
        &auth.account_id,
        filter,
        query.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let next_cursor = if leads.len() as i64 > limit {
        leads.truncate(limit as usize);
        leads.last().map(|lead| lead.id.clone())
    } else {
        None
    };
    Ok(Json(LeadPage {
        data: leads.into_iter().map(LeadView::from).collect(),
        next_cursor,
    }))
}

/// Creates a lead; Switchyard assigns its `lead_profile_uid`.
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = CreateLead,
    responses(
        (status = 201, body = LeadView),
        (status = 409, body = ErrorBody, description = "Another lead has this email"),
        (status = 422, body = ErrorBody, description = "A field breaks a rule, or the funnel stage does not exist"),
        (status = 429, body = ErrorBody, description = "The account has more undelivered deliveries than the server's cap (`--max-pending-deliveries-per-account`); nothing was written",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ))]
async fn create_lead(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<CreateLead>,
) -> ApiResult<(StatusCode, Json<LeadView>)> {
    state.flood_control.check_lead_write(&auth.account_id)?;
    let stage_id = request.funnel_stage_id.clone();
    let fields = request.fields()?;
    let lead = lead_changes::create(
        &state.funnel_writer,
        &auth.account_id,
        &fields,
        stage_id.as_deref(),
        &auth.actor,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(lead.into())))
}

/// One lead.
#[utoipa::path(get, path = "/api/v1/leads/{lead_profile_uid}", tag = "leads",
    params(("lead_profile_uid" = String, Path)),
    responses((status = 200, body = LeadView)))]
async fn get_lead(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(lead_id): Path<String>,
) -> ApiResult<Json<LeadView>> {
    let lead = leads::get(&state.db, &auth.account_id, &lead_id).await?;
    Ok(Json(lead.into()))
}

/// Changes some fields of a lead, and optionally its funnel stage.
#[utoipa::path(patch, path = "/api/v1/leads/{lead_profile_uid}", tag = "leads",
    params(("lead_profile_uid" = String, Path)), request_body = UpdateLead,
    responses(
        (status = 200, body = LeadView),
        (status = 409, body = ErrorBody, description = "Another lead has this email"),
        (status = 422, body = ErrorBody, description = "A field breaks a rule, or the funnel stage does not exist"),
        (status = 429, body = ErrorBody, description = "The account has more undelivered deliveries than the server's cap (`--max-pending-deliveries-per-account`); nothing was written",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ))]
async fn update_lead(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(lead_id): Path<String>,
    JsonBody(mut request): JsonBody<UpdateLead>,
) -> ApiResult<Json<LeadView>> {
    state.flood_control.check_lead_write(&auth.account_id)?;
    let stage_change = request.funnel_stage_id.take().map(|stage| match stage {
        Some(stage_id) => StageChange::MoveTo(stage_id),
        None => StageChange::Clear,
    });
    let (lead, _outcome) = lead_changes::update(
        &state.db,
        &auth.account_id,
        &lead_id,
        |fields| request.apply(fields),
        stage_change,
        &auth.actor,
    )
    .await?;
    Ok(Json(lead.into()))
}

/// Deletes a lead and its funnel history.
#[utoipa::path(delete, path = "/api/v1/leads/{lead_profile_uid}", tag = "leads",
    params(("lead_profile_uid" = String, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 429, body = ErrorBody, description = "The account has more undelivered deliveries than the server's cap (`--max-pending-deliveries-per-account`); nothing was written",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ))]
async fn delete_lead(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(lead_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.flood_control.check_lead_write(&auth.account_id)?;
    lead_changes::delete(&state.db, &auth.account_id, &lead_id, &auth.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stages a lead reached, in order; archived events on request.
#[utoipa::path(get, path = "/api/v1/leads/{lead_profile_uid}/funnel-history", tag = "leads",
    params(("lead_profile_uid" = String, Path), FunnelHistoryQuery),
    responses((status = 200, body = FunnelHistory)))]
async fn lead_funnel_history(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(lead_id): Path<String>,
    ApiQuery(query): ApiQuery<FunnelHistoryQuery>,
) -> ApiResult<Json<FunnelHistory>> {
    let events = funnel_history::list_for_lead(
        &state.db,
        &auth.account_id,
        &lead_id,
        query.include_archived,
    )
    .await?;
    Ok(Json(FunnelHistory {
        data: events.into_iter().map(FunnelEventView::from).collect(),
    }))
}
