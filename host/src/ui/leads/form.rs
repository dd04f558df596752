//! Creating and editing a lead: its fields and funnel stage, parsed by
//! the API's own [`CreateLead`] and [`UpdateLead`]; a refusal shows the
//! form again with everything typed kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::display_name;
use crate::http::AppState;
use crate::http::leads::{CreateLead, UpdateLead};
use crate::storage::funnel_stages;
use crate::storage::lead_changes::{self, StageChange};
use crate::storage::leads::{self, Lead};
use crate::ui::session::Session;
use crate::ui::{Flash, Layout, UiError, UiForm, UiResult, redirect_with_flash, render};

/// The lead form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LeadForm {
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
pub(super) struct LeadFormPage {
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

pub(super) async fn new_form(State(state): State<AppState>, session: Session) -> UiResult {
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

pub(super) async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(form): UiForm<LeadForm>,
) -> UiResult {
    let created = async {
        state.flood_control.check_lead_write(&session.account_id)?;
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
            lead_changes::create(
                &state.funnel_writer,
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

pub(super) async fn edit_form(
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

pub(super) async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<LeadForm>,
) -> UiResult {
    let current = leads::get(&state.db, &session.account_id, &id).await?;
    let updated = async {
        state.flood_control.check_lead_write(&session.account_id)?;
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
        let (lead, _) = lead_changes::update(
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
