//! The webhook imports screens: list and create; an import's page with its
//! endpoint URLs, its token (shown once, after creation or regeneration,
//! with a Copy button), stage mappings as rows of a name and a stage
//! dropdown (refusals explained on the row at fault), activation, rename
//! and delete; a transform plugin with its JSON config, and a "try it" box
//! that runs a pasted body through it. Backed by
//! [`crate::storage::webhook_imports`] and the API's own transform and
//! dry-run functions.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, display_time, page, redirect_with_flash,
    render,
};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::domain::plugin::PluginKind;
use crate::http::AppState;
use crate::http::plugins::{DryRunRequest, run_once};
use crate::http::webhook_imports::{ImportTransform, attach_transform};
use crate::plugins::builtin::builtins;
use crate::storage::webhook_imports::{self, WebhookImport};
use crate::storage::{StoreError, funnel_stages, plugins};

/// Empty mapping rows offered below the saved ones.
const BLANK_MAPPING_ROWS: usize = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(list).post(create))
        .route("/imports/{id}", get(show))
        .route("/imports/{id}/rename", post(rename))
        .route("/imports/{id}/activate", post(activate))
        .route("/imports/{id}/deactivate", post(deactivate))
        .route("/imports/{id}/mappings", post(save_mappings))
        .route("/imports/{id}/transform", post(save_transform))
        .route("/imports/{id}/try", post(try_transform))
        .route(
            "/imports/{id}/regenerate",
            get(confirm_regenerate).post(regenerate),
        )
        .route("/imports/{id}/delete", get(confirm_delete).post(delete))
}

struct ImportRow {
    id: String,
    name: String,
    active: bool,
    transform: Option<String>,
    created: String,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    layout: Layout,
    imports: Vec<ImportRow>,
    error: Option<String>,
    new_name: String,
}

async fn render_list(
    state: &AppState,
    session: &Session,
    flash: Flash,
    status: StatusCode,
    error: Option<String>,
    new_name: String,
) -> UiResult {
    let imports = webhook_imports::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|import| ImportRow {
            active: import.active != 0,
            transform: import.transform_plugin_id,
            created: display_time(import.created_at),
            id: import.id,
            name: import.name,
        })
        .collect();
    Ok(render(
        status,
        &ImportsPage {
            layout: Layout::new(session, flash, "Webhook imports", "imports"),
            imports,
            error,
            new_name,
        },
    ))
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    render_list(&state, &session, flash, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(form): UiForm<NameForm>,
) -> UiResult {
    let created = async {
        let name = crate::domain::parse_name(&form.name)?;
        Ok::<_, UiError>(webhook_imports::create(&state.db, &session.account_id, &name).await?)
    }
    .await;
    match created {
        Ok((import, token)) => {
            let flash = Flash(Some(format!(
                "Import “{}” created. It is inactive until you activate it.",
                import.name
            )));
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    flash,
                    token: Some(token),
                    ..ImportExtras::default()
                },
            )
            .await
        }
        Err(error) => {
            let (status, message) = error.status_and_message();
            render_list(
                &state,
                &session,
                Flash::default(),
                status,
                Some(message),
                form.name,
            )
            .await
        }
    }
}

struct MappingRow {
    index: usize,
    external_name: String,
    stage_id: String,
    error: Option<String>,
}

struct StageOption {
    id: String,
    title: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    id: String,
    name: String,
    active: bool,
    transform: Option<String>,
    created: String,
    update_url: String,
    batch_url: String,
    token: Option<String>,
    rows: Vec<MappingRow>,
    stages: Vec<StageOption>,
    error: Option<String>,
    mapping_error: Option<String>,
    plugins: Vec<StageOption>,
    /// The transform attached now (`transform` is the one selected).
    attached: Option<String>,
    transform_config: String,
    transform_error: Option<String>,
    try_input: String,
    try_result: Option<TryResult>,
}

/// What running the transform on a sample body gave.
struct TryResult {
    ok: bool,
    output: Option<String>,
    error: Option<String>,
    fuel: u64,
    duration: String,
    logs: Vec<String>,
}

/// What an import's page shows besides the import itself.
#[derive(Default)]
struct ImportExtras {
    flash: Flash,
    status: Option<StatusCode>,
    /// A new token, shown this once.
    token: Option<String>,
    error: Option<String>,
    /// The mapping rows as submitted, when they were refused.
    rows: Option<Vec<MappingRow>>,
    mapping_error: Option<String>,
    /// The transform form as submitted, when it was refused.
    transform: Option<(String, String)>,
    transform_error: Option<String>,
    try_input: String,
    try_result: Option<TryResult>,
}

async fn render_import(
    state: &AppState,
    session: &Session,
    import: WebhookImport,
    extras: ImportExtras,
) -> UiResult {
    let stages = funnel_stages::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|stage| StageOption {
            id: stage.id,
            title: stage.title,
        })
        .collect();
    let mut rows = match extras.rows {
        Some(rows) => rows,
        None => webhook_imports::mappings(&state.db, &session.account_id, &import.id)
            .await?
            .into_iter()
            .enumerate()
            .map(|(index, mapping)| MappingRow {
                index,
                external_name: mapping.external_name,
                stage_id: mapping.funnel_stage_id,
                error: None,
            })
            .collect(),
    };
    let next = rows.iter().map(|row| row.index + 1).max().unwrap_or(0);
    rows.extend((next..next + BLANK_MAPPING_ROWS).map(|index| MappingRow {
        index,
        external_name: String::new(),
        stage_id: String::new(),
        error: None,
    }));
    let mut plugin_options: Vec<StageOption> = builtins()
        .filter(|plugin| plugin.kind == PluginKind::InboundTransform)
        .map(|plugin| StageOption {
            id: format!("{BUILTIN_ID_PREFIX}{}", plugin.name),
            title: format!("{} (built in)", plugin.name),
        })
        .collect();
    plugin_options.extend(
        plugins::list(&state.db, &session.account_id)
            .await?
            .into_iter()
            .filter(|plugin| plugin.kind == PluginKind::InboundTransform)
            .map(|plugin| StageOption {
                title: plugin.name,
                id: plugin.id,
            }),
    );
    let (transform_plugin, transform_config) = match extras.transform {
        Some(submitted) => submitted,
        None => (
            import.transform_plugin_id.clone().unwrap_or_default(),
            import
                .transform_config
                .as_deref()
                .and_then(|config| serde_json::from_str::<serde_json::Value>(config).ok())
                .and_then(|config| serde_json::to_string_pretty(&config).ok())
                .unwrap_or_default(),
        ),
    };
    Ok(render(
        extras.status.unwrap_or(StatusCode::OK),
        &ImportPage {
            layout: Layout::new(session, extras.flash, import.name.clone(), "imports"),
            update_url: format!("{}/api/v1/webhook-import/update", state.public_url),
            batch_url: format!("{}/api/v1/webhook-import/batch-update", state.public_url),
            active: import.active != 0,
            transform: Some(transform_plugin).filter(|plugin| !plugin.is_empty()),
            created: display_time(import.created_at),
            id: import.id,
            name: import.name,
            token: extras.token,
            rows,
            stages,
            error: extras.error,
            mapping_error: extras.mapping_error,
            plugins: plugin_options,
            attached: import.transform_plugin_id.clone(),
            transform_config,
            transform_error: extras.transform_error,
            try_input: extras.try_input,
            try_result: extras.try_result,
        },
    ))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    render_import(
        &state,
        &session,
        import,
        ImportExtras {
            flash,
            ..ImportExtras::default()
        },
    )
    .await
}

async fn rename(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<NameForm>,
) -> UiResult {
    let renamed = async {
        let name = crate::domain::parse_name(&form.name)?;
        Ok::<_, UiError>(webhook_imports::rename(&state.db, &session.account_id, &id, &name).await?)
    }
    .await;
    match renamed {
        Ok(import) => Ok(redirect_with_flash(
            &format!("/imports/{}", import.id),
            &format!("Renamed to “{}”.", import.name),
        )),
        Err(error) => {
            let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
            let (status, message) = error.status_and_message();
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    status: Some(status),
                    error: Some(message),
                    ..ImportExtras::default()
                },
            )
            .await
        }
    }
}

async fn set_active(state: &AppState, session: &Session, id: &str, active: bool) -> UiResult {
    let import = webhook_imports::set_active(&state.db, &session.account_id, id, active).await?;
    let message = if active {
        format!(
            "“{}” is active: it accepts funnel updates sent with its token.",
            import.name
        )
    } else {
        format!(
            "“{}” is inactive: requests with its token are refused until you activate it again. Its settings are kept.",
            import.name
        )
    };
    Ok(redirect_with_flash(
        &format!("/imports/{}", import.id),
        &message,
    ))
}

async fn activate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, true).await
}

async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, false).await
}

/// The submitted rows, by the index in their field names (`name_3`,
/// `stage_3`, `remove_3`), in order.
fn submitted_rows(fields: Vec<(String, String)>) -> Vec<(MappingRow, bool)> {
    let mut rows: BTreeMap<usize, (MappingRow, bool)> = BTreeMap::new();
    for (key, value) in fields {
        let Some((field, index)) = key.rsplit_once('_') else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        let (row, removed) = rows.entry(index).or_insert_with(|| {
            (
                MappingRow {
                    index,
                    external_name: String::new(),
                    stage_id: String::new(),
                    error: None,
                },
                false,
            )
        });
        match field {
            "name" => row.external_name = value,
            "stage" => row.stage_id = value,
            "remove" => *removed = true,
            _ => {}
        }
    }
    rows.into_values().collect()
}

/// The storage layer names a refused mapping `mappings[N]` (its place in
/// the list it was given); says which row of the form that is instead.
/// Returns the message and the list place of the first row it names.
fn explain_mapping_error(message: &str, form_rows: &[usize]) -> (String, Option<usize>) {
    let mut explained = message.to_owned();
    let mut first: Option<(usize, usize)> = None;
    for (place, form_index) in form_rows.iter().enumerate() {
        let tag = format!("mappings[{place}]");
        if let Some(at) = explained.find(&tag) {
            if first.is_none_or(|(earliest, _)| at < earliest) {
                first = Some((at, place));
            }
            let row = form_index + 1;
            explained = explained
                .replace(
                    &format!("{tag}.external_name"),
                    &format!("the name in row {row}"),
                )
                .replace(
                    &format!("{tag}.funnel_stage_id"),
                    &format!("the stage in row {row}"),
                )
                .replace(&tag, &format!("row {row}"));
        }
    }
    let mut characters = explained.chars();
    let capitalised = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => explained,
    };
    (capitalised, first.map(|(_, place)| place))
}

async fn save_mappings(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(fields): UiForm<Vec<(String, String)>>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    let mut rows = Vec::new();
    let mut incomplete = false;
    for (mut row, removed) in submitted_rows(fields) {
        let (name, stage) = (row.external_name.trim(), row.stage_id.trim());
        if removed || (name.is_empty() && stage.is_empty()) {
            continue;
        }
        if stage.is_empty() {
            row.error = Some("Choose the stage this name means.".into());
            incomplete = true;
        } else if name.is_empty() {
            row.error = Some("Enter the stage name your CRM sends.".into());
            incomplete = true;
        }
        rows.push(row);
    }
    // Rows are numbered on the page as they were shown.
    for (place, row) in rows.iter_mut().enumerate() {
        row.index = place;
    }
    if incomplete {
        return render_import(
            &state,
            &session,
            import,
            ImportExtras {
                status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                rows: Some(rows),
                mapping_error: Some("Some rows are incomplete; nothing was saved.".into()),
                ..ImportExtras::default()
            },
        )
        .await;
    }
    let requested: Vec<(String, String)> = rows
        .iter()
        .map(|row| (row.external_name.clone(), row.stage_id.clone()))
        .collect();
    match webhook_imports::replace_mappings(&state.db, &session.account_id, &id, &requested).await {
        Ok(saved) => Ok(redirect_with_flash(
            &format!("/imports/{id}"),
            &match saved.len() {
                0 => "Mappings saved: none. Stage names are matched to stage titles.".to_owned(),
                1 => "Mappings saved: 1 name.".to_owned(),
                count => format!("Mappings saved: {count} names."),
            },
        )),
        Err(StoreError::Invalid(invalid)) => {
            let places: Vec<usize> = rows.iter().map(|row| row.index).collect();
            let (message, place) = explain_mapping_error(&invalid.0, &places);
            if let Some(row) = place.and_then(|place| rows.get_mut(place)) {
                row.error = Some(message.clone());
            }
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    rows: Some(rows),
                    mapping_error: Some(format!("Nothing was saved. {message}")),
                    ..ImportExtras::default()
                },
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct TransformForm {
    #[serde(default)]
    plugin_id: String,
    #[serde(default)]
    config: String,
}

async fn save_transform(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TransformForm>,
) -> UiResult {
    let plugin_id = form.plugin_id.trim().to_owned();
    if plugin_id.is_empty() {
        let import =
            webhook_imports::set_transform(&state.db, &session.account_id, &id, None).await?;
        return Ok(redirect_with_flash(
            &format!("/imports/{}#transform", import.id),
            "Transform removed: the endpoints expect {\"lead_profile_uid\", \"funnel_stage\"} again.",
        ));
    }
    let attached = async {
        let config = if form.config.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_str(&form.config).map_err(|error| {
                UiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("The config is not valid JSON: {error}"),
                )
            })?
        };
        let transform = ImportTransform {
            plugin_id: plugin_id.clone(),
            config,
        };
        Ok::<_, UiError>(attach_transform(&state, &session.account_id, &id, &transform).await?)
    }
    .await;
    match attached {
        Ok(import) => Ok(redirect_with_flash(
            &format!("/imports/{}#transform", import.id),
            &format!("Transform {plugin_id} attached: both endpoints now accept any body."),
        )),
        Err(error) => {
            let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
            let (status, message) = error.status_and_message();
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    status: Some(status),
                    transform: Some((plugin_id, form.config)),
                    transform_error: Some(message),
                    ..ImportExtras::default()
                },
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct TryForm {
    #[serde(default)]
    input: String,
}

async fn try_transform(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TryForm>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    let Some(plugin_id) = import.transform_plugin_id.clone() else {
        return render_import(
            &state,
            &session,
            import,
            ImportExtras {
                status: Some(StatusCode::CONFLICT),
                transform_error: Some("Attach a transform first, then try it.".into()),
                try_input: form.input,
                ..ImportExtras::default()
            },
        )
        .await;
    };
    let config = import
        .transform_config
        .as_deref()
        .and_then(|config| serde_json::from_str(config).ok())
        .unwrap_or(serde_json::Value::Null);
    // A JSON body is sent as JSON, anything else as text.
    let (input, content_type) = match serde_json::from_str(&form.input) {
        Ok(json) => (json, None),
        Err(_) => (
            serde_json::Value::String(form.input.clone()),
            Some("text/plain".to_owned()),
        ),
    };
    let request = DryRunRequest {
        config,
        input,
        content_type,
        headers: Default::default(),
    };
    let (status, try_result, transform_error) =
        match run_once(&state, &session.account_id, &plugin_id, &request).await {
            Ok(result) => (
                StatusCode::OK,
                Some(TryResult {
                    ok: result.ok,
                    output: result
                        .output
                        .and_then(|output| serde_json::to_string_pretty(&output).ok()),
                    error: result.error,
                    fuel: result.fuel_used,
                    duration: format!("{:.2} ms", result.duration_ms),
                    logs: result.logs,
                }),
                None,
            ),
            Err(error) => {
                let (status, message) = UiError::from(error).status_and_message();
                (status, None, Some(message))
            }
        };
    render_import(
        &state,
        &session,
        import,
        ImportExtras {
            status: Some(status),
            try_input: form.input,
            try_result,
            transform_error,
            ..ImportExtras::default()
        },
    )
    .await
}

async fn confirm_regenerate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Regenerate token", "imports"),
        heading: format!("Regenerate the token of “{}”?", import.name),
        message: "The current token stops working at once: every request sent with it is \
                  refused until the CRM is given the new token, which is shown only once."
            .into(),
        action: format!("/imports/{}/regenerate", import.id),
        button: "Regenerate token",
        cancel: format!("/imports/{}", import.id),
    }))
}

async fn regenerate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let (import, token) =
        webhook_imports::regenerate_token(&state.db, &session.account_id, &id).await?;
    let flash = Flash(Some(
        "New token generated. The old one no longer works.".into(),
    ));
    render_import(
        &state,
        &session,
        import,
        ImportExtras {
            flash,
            token: Some(token),
            ..ImportExtras::default()
        },
    )
    .await
}

async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete an import", "imports"),
        heading: format!("Delete the import “{}”?", import.name),
        message: "Its token stops working at once and its mappings are deleted. Leads and their \
                  history are kept."
            .into(),
        action: format!("/imports/{}/delete", import.id),
        button: "Delete import",
        cancel: format!("/imports/{}", import.id),
    }))
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    webhook_imports::delete(&state.db, &session.account_id, &id).await?;
    Ok(redirect_with_flash(
        "/imports",
        &format!("Import “{}” deleted.", import.name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_by_their_field_index_in_order() {
        let fields = vec![
            ("name_1".to_owned(), "b".to_owned()),
            ("name_0".to_owned(), "a".to_owned()),
            ("stage_0".to_owned(), "stage_A".to_owned()),
            ("remove_1".to_owned(), "on".to_owned()),
            ("stage_1".to_owned(), "stage_B".to_owned()),
            ("ignored".to_owned(), "x".to_owned()),
        ];
        let rows = submitted_rows(fields);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0.external_name, "a");
        assert_eq!(rows[0].0.stage_id, "stage_A");
        assert!(!rows[0].1);
        assert_eq!(rows[1].0.external_name, "b");
        assert!(rows[1].1);
    }

    #[test]
    fn mapping_errors_name_form_rows() {
        let (message, place) = explain_mapping_error(
            "mappings[1].external_name \"Qualified\" duplicates mappings[0] (names are compared ignoring case)",
            &[0, 1],
        );
        assert_eq!(
            message,
            "The name in row 2 \"Qualified\" duplicates row 1 (names are compared ignoring case)"
        );
        assert_eq!(place, Some(1));
    }
}
