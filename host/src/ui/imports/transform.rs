//! An import's transform: attach a plugin with its JSON config (checked
//! by the API's own `attach_transform`, on the sample body too when one
//! is pasted), test the selected plugin and config on a sample body
//! before saving, remove it, and try the saved one on a pasted body.
//! Tests and tries write nothing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::page::{ImportExtras, SampleCheck, SampleTest, render_import};
use crate::http::AppState;
use crate::http::plugins::{DryRunRequest, run_once};
use crate::http::webhook_imports::{
    ImportTransform, InboundSample, TransformTestResult, attach_transform, run_on_sample,
};
use crate::storage::webhook_imports;
use crate::ui::plugins::{RunResult, milliseconds};
use crate::ui::session::Session;
use crate::ui::{UiError, UiForm, UiResult, redirect_with_flash};

#[derive(Deserialize)]
pub(super) struct TransformForm {
    #[serde(default)]
    plugin_id: String,
    #[serde(default)]
    config: String,
    /// A body the CRM would send; empty for none.
    #[serde(default)]
    sample: String,
    /// `test` runs the transform on the sample instead of saving it.
    #[serde(default)]
    intent: String,
}

/// A pasted body as a request: JSON when it parses, text otherwise.
fn sample_request(text: &str) -> InboundSample {
    match serde_json::from_str(text) {
        Ok(body) => InboundSample {
            body,
            content_type: None,
            headers: Default::default(),
        },
        Err(_) => InboundSample {
            body: serde_json::Value::String(text.to_owned()),
            content_type: Some("text/plain".to_owned()),
            headers: Default::default(),
        },
    }
}

/// The typed config: JSON, an empty object when blank.
fn parse_config(text: &str) -> Result<serde_json::Value, UiError> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_str(text).map_err(|error| {
        UiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The config is not valid JSON: {error}"),
        )
    })
}

fn sample_test(result: TransformTestResult) -> SampleTest {
    SampleTest {
        ok: result.ok,
        records: result
            .records
            .and_then(|records| serde_json::to_string_pretty(&records).ok()),
        checks: result
            .checks
            .into_iter()
            .map(|check| SampleCheck {
                number: check.index + 1,
                lead: check.lead_profile_uid.unwrap_or_default(),
                outcome: match (check.funnel_stage, check.error) {
                    (_, Some(error)) => Err(error),
                    (Some(stage), None) => Ok(format!("moves the lead to “{stage}”")),
                    (None, None) => Ok("updates the lead's fields".into()),
                },
            })
            .collect(),
        error: result.error,
        fuel: result.fuel_used,
        duration: milliseconds(result.duration_ms),
        logs: result.logs,
    }
}

pub(super) async fn save_transform(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TransformForm>,
) -> UiResult {
    let plugin_id = form.plugin_id.trim().to_owned();
    if form.intent == "test" {
        return test_transform(&state, &session, &id, plugin_id, form).await;
    }
    if plugin_id.is_empty() {
        let import =
            webhook_imports::set_transform(&state.db, &session.account_id, &id, None).await?;
        return Ok(redirect_with_flash(
            &format!("/imports/{}#transform", import.id),
            "Transform removed: the endpoints expect {\"lead_profile_uid\", \"funnel_stage\"} again.",
        ));
    }
    let attached = async {
        let config = parse_config(&form.config)?;
        let transform = ImportTransform {
            plugin_id: plugin_id.clone(),
            config,
        };
        let sample = Some(form.sample.as_str())
            .filter(|sample| !sample.trim().is_empty())
            .map(sample_request);
        Ok::<_, UiError>(
            attach_transform(
                &state,
                &session.account_id,
                &id,
                &transform,
                sample.as_ref(),
            )
            .await?,
        )
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
                    sample: form.sample,
                    ..ImportExtras::default()
                },
            )
            .await
        }
    }
}

/// "Test with sample": runs the selected plugin with the typed config on
/// the sample body, and shows the page again with the result and
/// everything typed kept. Nothing is saved.
async fn test_transform(
    state: &AppState,
    session: &Session,
    id: &str,
    plugin_id: String,
    form: TransformForm,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, id).await?;
    let tested = async {
        if plugin_id.is_empty() {
            return Err(UiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a plugin to test.",
            ));
        }
        if form.sample.trim().is_empty() {
            return Err(UiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Paste a body the CRM would send, then test the transform on it.",
            ));
        }
        let config = parse_config(&form.config)?;
        let sample = sample_request(&form.sample);
        Ok(run_on_sample(
            state,
            &session.account_id,
            &import,
            &plugin_id,
            &config,
            &sample,
        )
        .await?)
    }
    .await;
    let (status, sample_result, transform_error) = match tested {
        Ok(result) => (StatusCode::OK, Some(sample_test(result)), None),
        Err(error) => {
            let (status, message) = error.status_and_message();
            (status, None, Some(message))
        }
    };
    render_import(
        state,
        session,
        import,
        ImportExtras {
            status: Some(status),
            transform: Some((plugin_id, form.config)),
            transform_error,
            sample: form.sample,
            sample_result,
            ..ImportExtras::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct TryForm {
    #[serde(default)]
    input: String,
}

pub(super) async fn try_transform(
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
    let config = import.transform_config_json();
    let sample = sample_request(&form.input);
    let request = DryRunRequest {
        config,
        input: sample.body,
        content_type: sample.content_type,
        headers: sample.headers,
    };
    let (status, try_result, transform_error) =
        match run_once(&state, &session.account_id, &plugin_id, &request).await {
            Ok(result) => (StatusCode::OK, Some(RunResult::from(result)), None),
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
