//! The payload a webhook's form would send, rendered for a sample event
//! by the delivery engine's own payload builder (so a template's unknown
//! merge tag or invalid JSON shows here, before saving). The form's
//! "Preview" button re-renders the whole form with it; with JavaScript,
//! htmx posts the payload fields to `/webhooks/preview` as the admin
//! types and swaps in just this part.

use askama::Template;
use axum::extract::State;

use super::fields::WebhookForm;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::time::now_micros;
use crate::domain::webhook::{PayloadFormat, WebhookSettings};
use crate::http::AppState;
use crate::outbound::payload::sample_event;
use crate::storage::funnel_stages;
use crate::storage::leads::LeadStageView;
use crate::storage::webhooks::Webhook;
use crate::ui::session::Session;
use crate::ui::{UiForm, UiResult, page};

/// The merge tags the built-in `template` payload builder fills in
/// (`plugins/template`'s `TAGS`, in its order). The browser tests render
/// a template of every tag listed here, so a tag the builder does not
/// know fails them.
pub(super) const MERGE_TAGS: &[(&str, &str)] = &[
    ("lead.lead_profile_uid", "the lead's id"),
    ("lead.email", ""),
    ("lead.company", ""),
    ("lead.first_name", ""),
    ("lead.last_name", ""),
    ("lead.full_name", "first and last name"),
    ("lead.phone", ""),
    ("lead.website", ""),
    ("lead.position", ""),
    ("lead.twitter", ""),
    ("lead.linkedin", ""),
    ("lead.notes", ""),
    ("lead.score", "digits"),
    ("lead.funnel_stage", "title, or id with the option below"),
    ("lead.funnel_stage_id", ""),
    (
        "lead.previous_funnel_stage",
        "title, or id with the option below",
    ),
    ("lead.created_at", "RFC 3339"),
    ("lead.updated_at", "RFC 3339"),
    ("event.id", "the message id"),
    ("event.name", "e.g. lead.stage_changed"),
    ("event.webhook_id", ""),
    ("event.object_id", ""),
    ("event.timestamp", "RFC 3339"),
    ("event.actor.type", ""),
    ("event.actor.id", ""),
    ("event.actor.name", ""),
];

/// A merge tag as it is written in a template, with what it holds.
pub(super) struct MergeTag {
    pub written: String,
    pub note: &'static str,
}

pub(super) fn merge_tags() -> Vec<MergeTag> {
    MERGE_TAGS
        .iter()
        .map(|(name, note)| MergeTag {
            written: format!("{{{{{name}}}}}"),
            note,
        })
        .collect()
}

/// What the payload builder made of the sample event.
pub(super) struct Preview {
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    /// Exactly the bytes that would be sent.
    pub body: String,
    /// The body indented, when it is JSON and not already so.
    pub pretty: Option<String>,
    /// Why nothing could be rendered (an unknown merge tag, say).
    pub error: Option<String>,
}

/// Renders the form's payload settings for a sample `lead.stage_changed`
/// event of a made-up lead in the account's funnel.
pub(super) async fn render_preview(
    state: &AppState,
    session: &Session,
    form: &WebhookForm,
) -> UiResult<Preview> {
    let failed = |error: String| Preview {
        content_type: String::new(),
        headers: Vec::new(),
        body: String::new(),
        pretty: None,
        error: Some(error),
    };
    let payload_format = match PayloadFormat::parse(form.payload_format.trim()) {
        Ok(format) => format,
        Err(error) => return Ok(failed(error.0)),
    };
    let payload_config = match form.payload_config() {
        Ok(config) => config,
        Err(error) => return Ok(failed(error)),
    };
    let probe = Webhook {
        id: "wh_preview".into(),
        account_id: session.account_id.clone(),
        settings: WebhookSettings {
            payload_format,
            payload_config,
            ..WebhookSettings::default()
        },
        signing_secret: String::new(),
        disabled_reason: None,
        failing_since: None,
        created_at: 0,
        updated_at: 0,
    };
    let stages: Vec<LeadStageView> = funnel_stages::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|stage| LeadStageView {
            id: stage.id,
            title: stage.title,
            position: Some(stage.position),
        })
        .collect();
    let (_, event) = sample_event(
        &new_id(IdKind::Delivery),
        &probe.id,
        &session.actor,
        &stages,
        now_micros(),
    );
    Ok(match state.deliverer.render(&probe, &event).await {
        Ok(payload) => Preview {
            pretty: serde_json::from_str::<serde_json::Value>(&payload.body)
                .ok()
                .and_then(|value| serde_json::to_string_pretty(&value).ok())
                .filter(|pretty| *pretty != payload.body),
            content_type: payload.content_type,
            headers: payload.headers.into_iter().collect(),
            body: payload.body,
            error: None,
        },
        Err(error) => failed(error.message),
    })
}

#[derive(Template)]
#[template(path = "webhook_preview.html")]
struct PreviewFragment {
    preview: Option<Preview>,
}

/// `POST /webhooks/preview`: the preview alone, for htmx to swap in while
/// the admin edits the payload settings. Nothing is saved.
pub(super) async fn preview(
    State(state): State<AppState>,
    session: Session,
    UiForm(fields): UiForm<Vec<(String, String)>>,
) -> UiResult {
    let form = WebhookForm::from_fields(fields);
    let preview = render_preview(&state, &session, &form).await?;
    Ok(page(&PreviewFragment {
        preview: Some(preview),
    }))
}
