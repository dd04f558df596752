//! The leads screens: a list with search (email or name) and cursor paging,
//! a lead's page with its funnel history (backfilled and archived events
//! shown as such, archived ones on request), create, edit (fields and
//! stage) and delete. Input goes through the API's own parsing
//! ([`CreateLead`], [`UpdateLead`]) and [`crate::storage::leads`].

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, display_time, page, redirect_with_flash,
    render,
};
use crate::domain::actor::ActorKind;
use crate::http::AppState;
use crate::http::leads::{CreateLead, UpdateLead};
use crate::storage::leads::{self, Lead, StageChange};
use crate::storage::{funnel_history, funnel_stages, lead_search, webhook_imports};

/// Leads per page of the list.
const PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/leads", get(list).post(create))
        .route("/leads/new", get(new_form))
        .route("/leads/{id}", get(show))
        .route("/leads/{id}/edit", get(edit_form).post(edit))
        .route("/leads/{id}/delete", get(confirm_delete).post(delete))
}

/// `first last`, or the email when the lead has no name.
fn display_name(lead: &Lead) -> String {
    let name = [lead.first_name.as_deref(), lead.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        lead.email.clone()
    } else {
        name
    }
}

/// A query-string value, percent-encoded.
pub(super) fn encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

struct LeadRow {
    id: String,
    name: String,
    email: String,
    stage: Option<String>,
    score: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    layout: Layout,
    rows: Vec<LeadRow>,
    q: String,
    /// The link to the next page, if there is one.
    next: Option<String>,
    /// Whether this is a later page (so a link back to the first is shown).
    paged: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Query(query): Query<ListQuery>,
) -> UiResult {
    let q = query.q.trim().to_owned();
    let after = query.after.as_deref().filter(|after| !after.is_empty());
    let mut found = if q.is_empty() {
        leads::list(&state.db, &session.account_id, after, PAGE_SIZE + 1).await?
    } else {
        lead_search::search(&state.db, &session.account_id, &q, after, PAGE_SIZE + 1).await?
    };
    let next = if found.len() as i64 > PAGE_SIZE {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|lead| {
            if q.is_empty() {
                format!("/leads?after={}", encode(&lead.id))
            } else {
                format!("/leads?q={}&after={}", encode(&q), encode(&lead.id))
            }
        })
    } else {
        None
    };
    let rows = found
        .into_iter()
        .map(|lead| LeadRow {
            name: display_name(&lead),
            stage: lead.funnel_stage_title.clone(),
            updated: display_time(lead.updated_at),
            score: lead.score,
            email: lead.email,
            id: lead.id,
        })
        .collect();
    Ok(page(&LeadsPage {
        layout: Layout::new(&session, flash, "Leads", "leads"),
        rows,
        next,
        paged: after.is_some(),
        q,
    }))
}

struct HistoryRow {
    stage: String,
    stage_deleted: bool,
    occurred: String,
    source: String,
    backfilled: bool,
    archived: Option<String>,
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadPage {
    layout: Layout,
    id: String,
    name: String,
    stage: Option<String>,
    fields: Vec<(&'static str, String)>,
    history: Vec<HistoryRow>,
    include_archived: bool,
    /// The CRM's own id for the lead, set by lead sync: the import whose
    /// CRM it is, that import's name (if it still exists) and the id.
    external: Option<ExternalId>,
}

struct ExternalId {
    import_id: String,
    import_name: Option<String>,
    id: String,
}

#[derive(Deserialize)]
struct ShowQuery {
    #[serde(default)]
    archived: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> UiResult {
    let include_archived = query.archived.is_some_and(|value| value == "1");
    let lead = leads::get(&state.db, &session.account_id, &id).await?;
    let history =
        funnel_history::list_for_lead(&state.db, &session.account_id, &id, include_archived)
            .await?
            .into_iter()
            .map(|event| HistoryRow {
                stage: event.stage_title,
                stage_deleted: event.stage_position.is_none(),
                occurred: display_time(event.occurred_at),
                source: match ActorKind::parse(&event.source_type) {
                    Some(ActorKind::WebhookImport) => {
                        format!("webhook import “{}”", event.source_name)
                    }
                    _ => format!("API key “{}”", event.source_name),
                },
                backfilled: event.backfilled != 0,
                archived: event.archived_at.map(display_time),
            })
            .collect();
    let optional = |value: &Option<String>| value.clone().unwrap_or_default();
    let fields = vec![
        ("Email", lead.email.clone()),
        ("Company", optional(&lead.company)),
        ("Position", optional(&lead.position)),
        ("Phone", optional(&lead.phone)),
        ("Website", optional(&lead.website)),
        ("Twitter", optional(&lead.twitter)),
        ("LinkedIn", optional(&lead.linkedin)),
        ("Score", lead.score.to_string()),
        ("Notes", optional(&lead.notes)),
        ("Created", display_time(lead.created_at)),
        ("Updated", display_time(lead.updated_at)),
        ("lead_profile_uid", lead.id.clone()),
    ];
    let external = match (&lead.external_import_id, &lead.external_id) {
        (Some(import_id), Some(external_id)) => Some(ExternalId {
            import_name: webhook_imports::get(&state.db, &session.account_id, import_id)
                .await
                .ok()
                .map(|import| import.name),
            import_id: import_id.clone(),
            id: external_id.clone(),
        }),
        _ => None,
    };
    Ok(page(&LeadPage {
        external,
        layout: Layout::new(&session, flash, display_name(&lead), "leads"),
        name: display_name(&lead),
        stage: lead.funnel_stage_title.clone(),
        id: lead.id,
        fields,
        history,
        include_archived,
    }))
}

/// The lead form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LeadForm {
    email: String,
    first_name: String,
    last_name: String,
    company: String,
    position: String,
    phone: String,
    website: String,
    twitter: String,
    linkedin: String,
    notes: String,
    score: String,
    funnel_stage_id: String,
}

impl LeadForm {
    fn from_lead(lead: &Lead) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            email: lead.email.clone(),
            first_name: text(&lead.first_name),
            last_name: text(&lead.last_name),
            company: text(&lead.company),
            position: text(&lead.position),
            phone: text(&lead.phone),
            website: text(&lead.website),
            twitter: text(&lead.twitter),
            linkedin: text(&lead.linkedin),
            notes: text(&lead.notes),
            score: lead.score.to_string(),
            funnel_stage_id: text(&lead.funnel_stage_id),
        }
    }

    fn score(&self) -> Result<i64, UiError> {
        let score = self.score.trim();
        if score.is_empty() {
            return Ok(0);
        }
        score.parse().map_err(|_| {
            UiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Score must be a whole number, such as 10; “{score}” is not."),
            )
        })
    }
}

struct StageOption {
    id: String,
    title: String,
}

#[derive(Template)]
#[template(path = "lead_form.html")]
struct LeadFormPage {
    layout: Layout,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: LeadForm,
    stages: Vec<StageOption>,
    error: Option<String>,
}

/// What a lead form page is for: creating, or editing lead `id`.
enum FormPurpose<'a> {
    Create,
    Edit { id: &'a str, name: String },
}

async fn render_form(
    state: &AppState,
    session: &Session,
    purpose: FormPurpose<'_>,
    form: LeadForm,
    status: StatusCode,
    error: Option<String>,
) -> UiResult {
    let stages = funnel_stages::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|stage| StageOption {
            id: stage.id,
            title: stage.title,
        })
        .collect();
    let (heading, action, submit, cancel) = match purpose {
        FormPurpose::Create => (
            "New lead".to_owned(),
            "/leads".to_owned(),
            "Create lead",
            "/leads".to_owned(),
        ),
        FormPurpose::Edit { id, name } => (
            format!("Edit {name}"),
            format!("/leads/{id}/edit"),
            "Save changes",
            format!("/leads/{id}"),
        ),
    };
    Ok(render(
        status,
        &LeadFormPage {
            layout: Layout::new(session, Flash::default(), heading.clone(), "leads"),
            heading,
            action,
            submit,
            cancel,
            form,
            stages,
            error,
        },
    ))
}

async fn new_form(State(state): State<AppState>, session: Session) -> UiResult {
    render_form(
        &state,
        &session,
        FormPurpose::Create,
        LeadForm::default(),
        StatusCode::OK,
        None,
    )
    .await
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(form): UiForm<LeadForm>,
) -> UiResult {
    let created = async {
        let stage_id = Some(form.funnel_stage_id.trim().to_owned()).filter(|id| !id.is_empty());
        let request = CreateLead {
            email: form.email.clone(),
            company: some(&form.company),
            first_name: some(&form.first_name),
            last_name: some(&form.last_name),
            phone: some(&form.phone),
            website: some(&form.website),
            position: some(&form.position),
            twitter: some(&form.twitter),
            linkedin: some(&form.linkedin),
            notes: some(&form.notes),
            score: Some(form.score()?),
            funnel_stage_id: stage_id.clone(),
        };
        let fields = request.fields()?;
        Ok::<Lead, UiError>(
            leads::create(
                &state.db,
                &session.account_id,
                &fields,
                stage_id.as_deref(),
                &session.actor,
            )
            .await?,
        )
    }
    .await;
    match created {
        Ok(lead) => Ok(redirect_with_flash(
            &format!("/leads/{}", lead.id),
            &format!("Lead {} created.", display_name(&lead)),
        )),
        Err(error) => {
            let (status, message) = error.status_and_message();
            render_form(
                &state,
                &session,
                FormPurpose::Create,
                form,
                status,
                Some(message),
            )
            .await
        }
    }
}

async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let lead = leads::get(&state.db, &session.account_id, &id).await?;
    let purpose = FormPurpose::Edit {
        id: &id,
        name: display_name(&lead),
    };
    render_form(
        &state,
        &session,
        purpose,
        LeadForm::from_lead(&lead),
        StatusCode::OK,
        None,
    )
    .await
}

async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<LeadForm>,
) -> UiResult {
    let current = leads::get(&state.db, &session.account_id, &id).await?;
    let updated = async {
        let wanted = form.funnel_stage_id.trim();
        let stage_change = if wanted == current.funnel_stage_id.as_deref().unwrap_or("") {
            None
        } else if wanted.is_empty() {
            Some(StageChange::Clear)
        } else {
            Some(StageChange::MoveTo(wanted.to_owned()))
        };
        let changes = UpdateLead {
            email: Some(some(&form.email)),
            company: Some(some(&form.company)),
            first_name: Some(some(&form.first_name)),
            last_name: Some(some(&form.last_name)),
            phone: Some(some(&form.phone)),
            website: Some(some(&form.website)),
            position: Some(some(&form.position)),
            twitter: Some(some(&form.twitter)),
            linkedin: Some(some(&form.linkedin)),
            notes: Some(some(&form.notes)),
            score: Some(Some(form.score()?)),
            funnel_stage_id: None,
        };
        let (lead, _) = leads::update(
            &state.db,
            &session.account_id,
            &id,
            move |fields| changes.apply(fields),
            stage_change,
            &session.actor,
        )
        .await?;
        Ok::<Lead, UiError>(lead)
    }
    .await;
    match updated {
        Ok(lead) => Ok(redirect_with_flash(
            &format!("/leads/{}", lead.id),
            &format!("Lead {} saved.", display_name(&lead)),
        )),
        Err(error) => {
            let (status, message) = error.status_and_message();
            let purpose = FormPurpose::Edit {
                id: &id,
                name: display_name(&current),
            };
            render_form(&state, &session, purpose, form, status, Some(message)).await
        }
    }
}

async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let lead = leads::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete a lead", "leads"),
        heading: format!("Delete the lead {}?", display_name(&lead)),
        message: format!(
            "The lead {} and its funnel history are deleted for good; webhooks subscribed to \
             lead.deleted are told.",
            lead.email
        ),
        action: format!("/leads/{}/delete", lead.id),
        button: "Delete lead",
        cancel: format!("/leads/{}", lead.id),
    }))
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let lead = leads::get(&state.db, &session.account_id, &id).await?;
    leads::delete(&state.db, &session.account_id, &id, &session.actor).await?;
    Ok(redirect_with_flash(
        "/leads",
        &format!("Lead {} deleted.", display_name(&lead)),
    ))
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("ada lovelace&x=1"), "ada%20lovelace%26x%3D1");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(encode("lead_01J"), "lead_01J");
    }
}
