//! An import's page: everything the other import screens show again when
//! they refuse something, with what was submitted kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::domain::plugin::PluginKind;
use crate::domain::rate_limit::RateLimit;
use crate::http::AppState;
use crate::plugins::builtin::builtins;
use crate::storage::webhook_imports::{self, WebhookImport};
use crate::storage::{funnel_stages, plugins};
use crate::ui::plugins::RunResult;
use crate::ui::session::Session;
use crate::ui::{Flash, Layout, UiResult, display_time, render};

/// Empty mapping rows offered below the saved ones.
const BLANK_MAPPING_ROWS: usize = 3;

pub(super) struct MappingRow {
    pub(super) index: usize,
    pub(super) external_name: String,
    pub(super) stage_id: String,
    pub(super) error: Option<String>,
}

pub(super) struct StageOption {
    pub(super) id: String,
    pub(super) title: String,
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
    try_result: Option<RunResult>,
    /// The transform form's sample body, and what testing on it gave.
    sample: String,
    sample_result: Option<SampleTest>,
    /// Lead records that match no lead create one.
    create_leads: bool,
    /// The rate limit's fields (blank: no limit).
    rate_per_second: String,
    rate_burst: String,
    /// The saved limit, in words (`None`: no limit).
    saved_rate_limit: Option<String>,
    rate_limit_error: Option<String>,
}

/// What testing a transform on a sample body gave (nothing is saved).
pub(super) struct SampleTest {
    pub(super) ok: bool,
    /// The records, pretty-printed.
    pub(super) records: Option<String>,
    pub(super) checks: Vec<SampleCheck>,
    pub(super) error: Option<String>,
    pub(super) fuel: u64,
    pub(super) duration: String,
    pub(super) logs: Vec<String>,
}

/// What one record would do: what it changes, or why it would fail.
pub(super) struct SampleCheck {
    /// From 1.
    pub(super) number: usize,
    pub(super) lead: String,
    pub(super) outcome: Result<String, String>,
}

/// What an import's page shows besides the import itself.
#[derive(Default)]
pub(super) struct ImportExtras {
    pub(super) flash: Flash,
    pub(super) status: Option<StatusCode>,
    /// A new token, shown this once.
    pub(super) token: Option<String>,
    pub(super) error: Option<String>,
    /// The mapping rows as submitted, when they were refused.
    pub(super) rows: Option<Vec<MappingRow>>,
    pub(super) mapping_error: Option<String>,
    /// The transform form as submitted, when it was refused.
    pub(super) transform: Option<(String, String)>,
    pub(super) transform_error: Option<String>,
    pub(super) try_input: String,
    pub(super) try_result: Option<RunResult>,
    /// The rate limit form as submitted, when it was refused.
    pub(super) rate_limit: Option<(String, String)>,
    pub(super) rate_limit_error: Option<String>,
    /// The transform form's sample body, kept.
    pub(super) sample: String,
    pub(super) sample_result: Option<SampleTest>,
}

pub(super) async fn render_import(
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
    let saved_limit =
        RateLimit::from_columns(import.rate_limit_per_second, import.rate_limit_burst);
    let (rate_per_second, rate_burst) = extras.rate_limit.unwrap_or_else(|| match saved_limit {
        Some(limit) => (limit.per_second.to_string(), limit.burst.to_string()),
        None => (String::new(), String::new()),
    });
    Ok(render(
        extras.status.unwrap_or(StatusCode::OK),
        &ImportPage {
            layout: Layout::new(session, extras.flash, import.name.clone(), "imports"),
            update_url: format!("{}/api/v1/webhook-import/update", state.public_url),
            batch_url: format!("{}/api/v1/webhook-import/batch-update", state.public_url),
            active: import.active != 0,
            create_leads: import.create_leads != 0,
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
            rate_per_second,
            rate_burst,
            saved_rate_limit: saved_limit.map(|limit| {
                format!(
                    "{} per second, bursts of up to {}",
                    limit.per_second, limit.burst
                )
            }),
            rate_limit_error: extras.rate_limit_error,
            sample: extras.sample,
            sample_result: extras.sample_result,
        },
    ))
}

pub(super) async fn show(
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
