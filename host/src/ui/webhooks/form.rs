//! Creating and editing a webhook: one form with every setting the API
//! takes (name, URL, method, events and stage conditions, auth, payload
//! format with the template editor or a plugin's config, batching,
//! timeout, retry schedule, the cap on deliveries in flight,
//! compatibility headers, lightweight logs, active). The form's text
//! becomes the API's own
//! [`WebhookInput`](crate::http::webhooks::WebhookInput), checked by its
//! `apply` and [`check_settings`]; a refusal is shown next to the field it
//! names, with everything typed kept. "Preview" renders the payload for a
//! sample event without saving.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::errors::{FieldErrors, capitalised};
use super::fields::WebhookForm;
use super::preview::{MergeTag, Preview, merge_tags, render_preview};
use crate::domain::plugin::PluginKind;
use crate::domain::webhook::{
    BatchMode, EventName, MAX_IN_FLIGHT, PayloadFormat, WebhookMethod, WebhookSettings,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::AdminAuth;
use crate::http::webhooks::check_settings;
use crate::storage::{funnel_stages, plugins, webhooks};
use crate::ui::session::Session;
use crate::ui::{Flash, Layout, UiForm, UiResult, redirect_with_flash, render};

pub(super) struct Choice {
    pub value: String,
    pub label: String,
}

fn choice(value: impl Into<String>, label: impl Into<String>) -> Choice {
    Choice {
        value: value.into(),
        label: label.into(),
    }
}

#[derive(Template)]
#[template(path = "webhook_form.html")]
struct WebhookFormPage {
    layout: Layout,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: WebhookForm,
    errors: FieldErrors,
    methods: Vec<&'static str>,
    events: Vec<Choice>,
    stages: Vec<Choice>,
    formats: Vec<Choice>,
    batch_modes: Vec<Choice>,
    merge_tags: Vec<MergeTag>,
    /// Why batching cannot be used with these settings, if it cannot.
    batching_blocked: Option<String>,
    preview: Option<Preview>,
    /// An edit: empty credential fields keep the stored ones.
    editing: bool,
    /// The limit and default of the cap on deliveries in flight.
    in_flight_limit: u32,
    in_flight_default: u32,
}

/// What the form is for: a new webhook, or the one with this id.
enum Target {
    Create,
    Edit { id: String, name: String },
}

async fn render_form(
    state: &AppState,
    session: &Session,
    target: Target,
    form: WebhookForm,
    errors: FieldErrors,
    preview: Option<Preview>,
    status: StatusCode,
) -> UiResult {
    let stages = funnel_stages::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|stage| choice(stage.id, stage.title))
        .collect();
    let mut formats: Vec<Choice> = [
        ("small", "small: the event with the lead's key fields"),
        ("full", "full: every lead field and the funnel history"),
        ("event-only", "event-only: the envelope alone"),
        ("template", "template: a body you write with merge tags"),
    ]
    .into_iter()
    .map(|(value, label)| choice(value, label))
    .collect();
    formats.extend(
        plugins::list(&state.db, &session.account_id)
            .await?
            .into_iter()
            .filter(|plugin| plugin.kind == PluginKind::PayloadBuilder)
            .map(|plugin| choice(plugin.id, format!("plugin: {}", plugin.name))),
    );
    let events = EventName::ALL
        .into_iter()
        .map(|event| {
            let label = match event {
                EventName::LeadCreated => "a lead is created",
                EventName::LeadUpdated => "a lead's fields change",
                EventName::LeadDeleted => "a lead is deleted",
                EventName::LeadStageChanged => "a lead moves to another funnel stage",
                EventName::LeadSaved => "created or updated (both of the first two)",
            };
            choice(event.as_str(), label)
        })
        .collect();
    let batch_modes = BatchMode::ALL
        .into_iter()
        .map(|mode| {
            let label = match mode {
                BatchMode::None => "none: one request per event",
                BatchMode::SameEvent => "same event: occurrences of one event together",
                BatchMode::SameEventType => "same event type: every lead.* event together",
                BatchMode::AnyEvent => "any event: all events together",
            };
            choice(mode.as_str(), label)
        })
        .collect();
    let batching_blocked = batching_blocker(&form);
    let (heading, action, submit, cancel, editing) = match target {
        Target::Create => (
            "New webhook".to_owned(),
            "/webhooks".to_owned(),
            "Create webhook",
            "/webhooks".to_owned(),
            false,
        ),
        Target::Edit { id, name } => (
            format!("Edit “{name}”"),
            format!("/webhooks/{id}/edit"),
            "Save changes",
            format!("/webhooks/{id}"),
            true,
        ),
    };
    Ok(render(
        status,
        &WebhookFormPage {
            layout: Layout::new(session, Flash::default(), heading.clone(), "webhooks"),
            heading,
            action,
            submit,
            cancel,
            form,
            errors,
            methods: WebhookMethod::ALL.map(WebhookMethod::as_str).to_vec(),
            events,
            stages,
            formats,
            batch_modes,
            merge_tags: merge_tags(),
            batching_blocked,
            preview,
            editing,
            in_flight_limit: MAX_IN_FLIGHT,
            in_flight_default: WebhookSettings::default().max_in_flight,
        },
    ))
}

/// Why these method and payload settings rule batching out (the domain's
/// own check), if they do.
fn batching_blocker(form: &WebhookForm) -> Option<String> {
    let method = WebhookMethod::parse(form.method.trim()).ok()?;
    let format = PayloadFormat::parse(form.payload_format.trim()).ok()?;
    let config = form.payload_config().ok()?;
    let batching = crate::domain::webhook::Batching {
        mode: BatchMode::AnyEvent,
        ..WebhookSettings::default().batching
    };
    batching
        .check(method, &format, &config)
        .err()
        .map(|refusal| capitalised(&refusal.0))
}

/// Either the settings to store, or why not.
enum Checked {
    Valid(Box<WebhookSettings>),
    Refused(FieldErrors),
}

/// The form's settings over `current`, checked exactly as the API checks
/// them.
async fn check(
    state: &AppState,
    session: &Session,
    form: &WebhookForm,
    current: Option<&WebhookSettings>,
) -> UiResult<Checked> {
    let input = match form.to_input(current) {
        Ok(input) => input,
        Err(errors) => return Ok(Checked::Refused(errors)),
    };
    let settings = match input.apply(current.cloned().unwrap_or_default()) {
        Ok(settings) => settings,
        Err(refusal) => return Ok(Checked::Refused(FieldErrors::from_message(&refusal.0))),
    };
    let auth = AdminAuth {
        account_id: session.account_id.clone(),
        actor: session.actor.clone(),
    };
    match check_settings(state, &auth, &settings).await {
        Ok(()) => Ok(Checked::Valid(Box::new(settings))),
        Err(ApiError::Unprocessable(message)) => {
            Ok(Checked::Refused(FieldErrors::from_message(&message)))
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /webhooks/new`: the form with every default filled in.
pub(super) async fn new(State(state): State<AppState>, session: Session) -> UiResult {
    let mut form = WebhookForm::from_settings(&WebhookSettings::default());
    form.events = vec![EventName::LeadStageChanged.as_str().to_owned()];
    render_form(
        &state,
        &session,
        Target::Create,
        form,
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /webhooks`: creates the webhook, or shows the form again with
/// the refusal next to its field (or with the preview).
pub(super) async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(fields): UiForm<Vec<(String, String)>>,
) -> UiResult {
    let form = WebhookForm::from_fields(fields);
    if form.intent == "preview" {
        let preview = render_preview(&state, &session, &form).await?;
        return render_form(
            &state,
            &session,
            Target::Create,
            form,
            FieldErrors::default(),
            Some(preview),
            StatusCode::OK,
        )
        .await;
    }
    match check(&state, &session, &form, None).await? {
        Checked::Valid(settings) => {
            let webhook = webhooks::create(&state.db, &session.account_id, &settings).await?;
            Ok(redirect_with_flash(
                &format!("/webhooks/{}", webhook.id),
                &format!(
                    "Webhook “{}” created. Send a test to check that the receiver accepts it.",
                    webhook.settings.name
                ),
            ))
        }
        Checked::Refused(errors) => {
            render_form(
                &state,
                &session,
                Target::Create,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `GET /webhooks/{id}/edit`: the form with the webhook's settings.
pub(super) async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    let form = WebhookForm::from_settings(&webhook.settings);
    render_form(
        &state,
        &session,
        Target::Edit {
            id: webhook.id,
            name: webhook.settings.name,
        },
        form,
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /webhooks/{id}/edit`: saves every setting of the form, or shows
/// it again with the refusal (or with the preview).
pub(super) async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(fields): UiForm<Vec<(String, String)>>,
) -> UiResult {
    let webhook = webhooks::get(&state.db, &session.account_id, &id).await?;
    let form = WebhookForm::from_fields(fields);
    let target = Target::Edit {
        id: webhook.id.clone(),
        name: webhook.settings.name.clone(),
    };
    if form.intent == "preview" {
        let preview = render_preview(&state, &session, &form).await?;
        return render_form(
            &state,
            &session,
            target,
            form,
            FieldErrors::default(),
            Some(preview),
            StatusCode::OK,
        )
        .await;
    }
    match check(&state, &session, &form, Some(&webhook.settings)).await? {
        Checked::Valid(settings) => {
            let saved = webhooks::update(&state.db, &session.account_id, &id, &settings).await?;
            Ok(redirect_with_flash(
                &format!("/webhooks/{}", saved.id),
                &format!("Webhook “{}” saved.", saved.settings.name),
            ))
        }
        Checked::Refused(errors) => {
            render_form(
                &state,
                &session,
                target,
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batching_is_ruled_out_where_the_domain_rules_it_out() {
        let mut form = WebhookForm::from_settings(&WebhookSettings::default());
        assert_eq!(batching_blocker(&form), None);
        form.method = "PUT".into();
        assert!(batching_blocker(&form).is_some_and(|why| why.contains("POST")));
        form.method = "POST".into();
        form.payload_format = "full".into();
        assert!(batching_blocker(&form).is_some_and(|why| why.contains("full")));
    }
}
