//! An import's stage mappings: rows of the name a CRM sends and a stage
//! dropdown, saved all at once; a refusal is explained on the row at
//! fault, with every row kept as typed.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::page::{ImportExtras, MappingRow, render_import};
use crate::http::AppState;
use crate::storage::{StoreError, webhook_imports};
use crate::ui::session::Session;
use crate::ui::{UiForm, UiResult, redirect_with_flash};

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

pub(super) async fn save_mappings(
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
