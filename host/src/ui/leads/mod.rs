//! The leads screens, one concept per file:
//!
//! - here: the list with search (email or name) and cursor paging;
//! - `page`: a lead's page with its funnel history (backfilled and
//!   archived events shown as such, archived ones on request), the id its
//!   CRM knows it by (lead sync), and delete;
//! - `form`: create and edit (fields and stage).
//!
//! Input goes through the API's own parsing
//! ([`CreateLead`](crate::http::leads::CreateLead),
//! [`UpdateLead`](crate::http::leads::UpdateLead)) and
//! [`crate::storage::leads`].

mod form;
mod page;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::session::Session;
use super::{Flash, Layout, UiResult, display_time, page as render_page};
use crate::http::AppState;
use crate::storage::lead_search;
use crate::storage::leads::{self, Lead};

/// Leads per page of the list.
const PAGE_SIZE: i64 = 50;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/leads", get(list).post(form::create))
        .route("/leads/new", get(form::new_form))
        .route("/leads/{id}", get(page::show))
        .route("/leads/{id}/edit", get(form::edit_form).post(form::edit))
        .route(
            "/leads/{id}/delete",
            get(page::confirm_delete).post(page::delete),
        )
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
    Ok(render_page(&LeadsPage {
        layout: Layout::new(&session, flash, "Leads", "leads"),
        rows,
        next,
        paged: after.is_some(),
        q,
    }))
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
