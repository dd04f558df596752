//! A lead's page: its fields, the id its CRM knows it by (lead sync), its
//! funnel history (backfilled and archived events shown as such, archived
//! ones on request), and delete behind a confirmation.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::display_name;
use crate::domain::actor::ActorKind;
use crate::http::AppState;
use crate::storage::{funnel_history, webhook_imports};
use crate::storage::{lead_changes, leads};
use crate::ui::session::Session;
use crate::ui::{ConfirmPage, Flash, Layout, UiResult, display_time, page, redirect_with_flash};

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
pub(super) struct ShowQuery {
    #[serde(default)]
    archived: Option<String>,
}

pub(super) async fn show(
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
                source: match event.source.kind {
                    ActorKind::WebhookImport => {
                        format!("webhook import “{}”", event.source.name)
                    }
                    ActorKind::AdminApiKey => format!("API key “{}”", event.source.name),
                },
                backfilled: event.backfilled,
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

pub(super) async fn confirm_delete(
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

pub(super) async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let lead = leads::get(&state.db, &session.account_id, &id).await?;
    state.flood_control.check_lead_write(&session.account_id)?;
    lead_changes::delete(&state.db, &session.account_id, &id, &session.actor).await?;
    Ok(redirect_with_flash(
        "/leads",
        &format!("Lead {} deleted.", display_name(&lead)),
    ))
}
