//! An import's inbound rate limit (issue 15): requests per second and a
//! burst, both blank for no limit (the default). Over it, the CRM's
//! requests get 429 with `Retry-After` and nothing is written.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::page::{ImportExtras, render_import};
use crate::domain::rate_limit::RateLimit;
use crate::http::AppState;
use crate::storage::webhook_imports;
use crate::ui::session::Session;
use crate::ui::{UiForm, UiResult, redirect_with_flash};

#[derive(Deserialize)]
pub(super) struct RateLimitForm {
    #[serde(default)]
    requests_per_second: String,
    #[serde(default)]
    burst: String,
}

/// The limit a form asks for: `None` when both fields are blank.
fn parse(form: &RateLimitForm) -> Result<Option<RateLimit>, String> {
    let number = |field: &str, text: &str| -> Result<Option<u32>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u32>()
            .map(Some)
            .map_err(|_| format!("{field} must be a whole number from 1 to 10000, not “{text}”"))
    };
    let per_second = number("Requests per second", &form.requests_per_second)?;
    let burst = number("Burst", &form.burst)?;
    match (per_second, burst) {
        (None, None) => Ok(None),
        (None, Some(_)) => {
            Err("Set requests per second too, or leave both blank for no limit".into())
        }
        (Some(per_second), burst) => RateLimit::new(per_second, burst)
            .map(Some)
            .map_err(|invalid| invalid.0),
    }
}

/// `POST /imports/{id}/rate-limit`: saves the limit, or lifts it.
pub(super) async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<RateLimitForm>,
) -> UiResult {
    let limit = match parse(&form) {
        Ok(limit) => limit,
        Err(message) => {
            let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
            return render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    rate_limit: Some((form.requests_per_second, form.burst)),
                    rate_limit_error: Some(message),
                    ..ImportExtras::default()
                },
            )
            .await;
        }
    };
    let import =
        webhook_imports::set_rate_limit(&state.db, &session.account_id, &id, limit).await?;
    let message = match limit {
        Some(limit) => format!(
            "“{}” accepts {} requests per second (bursts of up to {}); more get 429 Too Many Requests.",
            import.name, limit.per_second, limit.burst
        ),
        None => format!("“{}” has no rate limit.", import.name),
    };
    Ok(redirect_with_flash(
        &format!("/imports/{}#rate-limit", import.id),
        &message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(requests_per_second: &str, burst: &str) -> RateLimitForm {
        RateLimitForm {
            requests_per_second: requests_per_second.into(),
            burst: burst.into(),
        }
    }

    #[test]
    fn blank_is_no_limit_and_each_mistake_is_named() {
        assert_eq!(parse(&form(" ", "")), Ok(None));
        assert_eq!(parse(&form("10", "")), Ok(RateLimit::new(10, None).ok()));
        assert_eq!(
            parse(&form("10", "25")),
            Ok(RateLimit::new(10, Some(25)).ok())
        );
        assert!(
            parse(&form("ten", ""))
                .unwrap_err()
                .contains("Requests per second")
        );
        assert!(
            parse(&form("", "5"))
                .unwrap_err()
                .contains("requests per second too")
        );
        assert!(parse(&form("0", "")).unwrap_err().contains("1 to 10000"));
        assert!(parse(&form("5", "-1")).unwrap_err().contains("Burst"));
    }
}
