//! The funnel stages screen: list, add, rename, move up or down, delete
//! (after a confirmation; a refusal, such as leads still at the stage, is
//! shown with its reason). Backed by [`crate::storage::funnel_stages`] and
//! [`StageTitle`], as the API is.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, page, redirect_with_flash, render,
};
use crate::domain::stage_title::StageTitle;
use crate::http::AppState;
use crate::storage::funnel_stages::{self, FunnelStage};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/stages", get(list).post(create))
        .route("/stages/{id}/rename", post(rename))
        .route("/stages/{id}/move", post(move_stage))
        .route("/stages/{id}/delete", get(confirm_delete).post(delete))
}

struct StageRow {
    id: String,
    title: String,
    position: i64,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "stages.html")]
struct StagesPage {
    layout: Layout,
    stages: Vec<StageRow>,
    error: Option<String>,
    new_title: String,
}

async fn render_list(
    state: &AppState,
    session: &Session,
    flash: Flash,
    status: StatusCode,
    error: Option<String>,
    new_title: String,
) -> UiResult {
    let stages = funnel_stages::list(&state.db, &session.account_id).await?;
    let count = stages.len();
    let stages = stages
        .into_iter()
        .enumerate()
        .map(|(index, stage)| StageRow {
            id: stage.id,
            title: stage.title,
            position: stage.position,
            first: index == 0,
            last: index + 1 == count,
        })
        .collect();
    Ok(render(
        status,
        &StagesPage {
            layout: Layout::new(session, flash, "Funnel stages", "stages"),
            stages,
            error,
            new_title,
        },
    ))
}

/// Shows the list again with the reason a change was refused.
async fn refused(
    state: &AppState,
    session: &Session,
    error: UiError,
    new_title: String,
) -> UiResult {
    let (status, message) = error.status_and_message();
    render_list(
        state,
        session,
        Flash::default(),
        status,
        Some(message),
        new_title,
    )
    .await
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    render_list(&state, &session, flash, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
struct TitleForm {
    #[serde(default)]
    title: String,
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(form): UiForm<TitleForm>,
) -> UiResult {
    let created = async {
        let title = StageTitle::parse(&form.title)?;
        Ok::<FunnelStage, UiError>(
            funnel_stages::create(&state.db, &session.account_id, &title, None).await?,
        )
    }
    .await;
    match created {
        Ok(stage) => Ok(redirect_with_flash(
            "/stages",
            &format!(
                "Stage “{}” added at position {}.",
                stage.title, stage.position
            ),
        )),
        Err(error) => refused(&state, &session, error, form.title).await,
    }
}

async fn rename(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TitleForm>,
) -> UiResult {
    let renamed = async {
        let title = StageTitle::parse(&form.title)?;
        Ok::<FunnelStage, UiError>(
            funnel_stages::update(&state.db, &session.account_id, &id, Some(&title), None).await?,
        )
    }
    .await;
    match renamed {
        Ok(stage) => Ok(redirect_with_flash(
            "/stages",
            &format!("Stage renamed to “{}”.", stage.title),
        )),
        Err(error) => refused(&state, &session, error, String::new()).await,
    }
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    direction: String,
}

async fn move_stage(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<MoveForm>,
) -> UiResult {
    let stage = funnel_stages::get(&state.db, &session.account_id, &id).await?;
    let count = funnel_stages::list(&state.db, &session.account_id)
        .await?
        .len() as i64;
    let target = match form.direction.as_str() {
        "up" => stage.position - 1,
        "down" => stage.position + 1,
        _ => {
            return Err(UiError::new(
                StatusCode::BAD_REQUEST,
                "Choose to move the stage up or down.",
            ));
        }
    };
    if !(1..=count).contains(&target) {
        let edge = if target < 1 { "first" } else { "last" };
        return Ok(redirect_with_flash(
            "/stages",
            &format!("“{}” is already the {edge} stage.", stage.title),
        ));
    }
    let moved =
        funnel_stages::update(&state.db, &session.account_id, &id, None, Some(target)).await;
    match moved {
        Ok(stage) => Ok(redirect_with_flash(
            "/stages",
            &format!("“{}” moved to position {}.", stage.title, stage.position),
        )),
        Err(error) => refused(&state, &session, error.into(), String::new()).await,
    }
}

async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let stage = funnel_stages::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete a stage", "stages"),
        heading: format!("Delete the stage “{}”?", stage.title),
        message: "Leads' history that reached this stage is kept, and its mappings in webhook \
                  imports are removed. A stage with leads still at it cannot be deleted: move them \
                  first."
            .into(),
        action: format!("/stages/{}/delete", stage.id),
        button: "Delete stage",
        cancel: "/stages".into(),
    }))
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let stage = funnel_stages::get(&state.db, &session.account_id, &id).await?;
    match funnel_stages::delete(&state.db, &session.account_id, &id).await {
        Ok(()) => Ok(redirect_with_flash(
            "/stages",
            &format!("Stage “{}” deleted.", stage.title),
        )),
        Err(error) => refused(&state, &session, error.into(), String::new()).await,
    }
}
