//! Funnel stages: the account's ordered list of titles. Ids are stable
//! across rename and reorder; positions are always 1..n with no gaps.
//! Changes to the list lock the account row (PostgreSQL) so that concurrent
//! edits cannot produce two stages at one position.

use sqlx::FromRow;

use std::collections::HashMap;

use super::leads::LeadStageView;
use super::sql::{self, Arg, args};
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, fresh_version, params};
use crate::domain::InvalidInput;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::stage_title::StageTitle;
use crate::domain::time::now_micros;

/// A live funnel stage.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct FunnelStage {
    pub id: String,
    pub title: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const STAGE_COLUMNS: &str = "id, title, position, created_at, updated_at";

/// The live stages of an account, in funnel order.
pub(crate) async fn list(db: &Database, account_id: &str) -> StoreResult<Vec<FunnelStage>> {
    let stages = sqlx::query_as::<_, FunnelStage>(&format!(
        "SELECT {STAGE_COLUMNS} FROM funnel_stages \
         WHERE account_id = $1 AND deleted_at IS NULL ORDER BY position"
    ))
    .bind(account_id)
    .fetch_all(db.reader())
    .await?;
    Ok(stages)
}

/// One live stage by id.
pub(crate) async fn get(
    db: &Database,
    account_id: &str,
    stage_id: &str,
) -> StoreResult<FunnelStage> {
    sqlx::query_as::<_, FunnelStage>(&format!(
        "SELECT {STAGE_COLUMNS} FROM funnel_stages \
         WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(account_id)
    .bind(stage_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| stage_not_found(stage_id))
}

/// Adds a stage at `position` (1-based; the end of the funnel when `None`),
/// moving later stages down by one.
pub(crate) async fn create(
    db: &Database,
    account_id: &str,
    title: &StageTitle,
    position: Option<i64>,
) -> StoreResult<FunnelStage> {
    let (account, new_title) = (account_id.to_owned(), title.clone());
    let id = db
        .write(move |tx| Box::pin(async move { insert(tx, &account, &new_title, position).await }))
        .await?;
    get(db, account_id, &id).await
}

/// The work of [`create`], inside the caller's transaction; returns the
/// new stage's id.
async fn insert(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    title: &StageTitle,
    position: Option<i64>,
) -> StoreResult<String> {
    let mut order = lock_funnel_order(tx, account_id).await?;
    let last = order.len() as i64 + 1;
    let position = place(position.unwrap_or(last), last)?;
    let now = now_micros();
    let id = new_id(IdKind::FunnelStage);
    tx.execute(
        "INSERT INTO funnel_stages (id, account_id, title, title_key, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        args![&id, account_id, title.as_str(), title.key(), last, now],
    )
    .await
    .map_err(|error| title_conflict(error, title))?;
    order.insert(position as usize - 1, id.clone());
    write_order(tx, account_id, &order, now).await?;
    Ok(id)
}

/// A requested 1-based position within a funnel whose last place is
/// `last`: one past the end (or further) is the end, as the document says,
/// so a client need not know how many stages there are to append one.
fn place(position: i64, last: i64) -> StoreResult<i64> {
    if position < 1 {
        return Err(InvalidInput(format!(
            "position must be at least 1 (one past the end, or more, puts the stage last, at {last})"
        ))
        .into());
    }
    Ok(position.min(last))
}

/// Renames a stage and/or moves it to another position (1-based).
pub(crate) async fn update(
    db: &Database,
    account_id: &str,
    stage_id: &str,
    title: Option<&StageTitle>,
    position: Option<i64>,
) -> StoreResult<FunnelStage> {
    let (account, stage, new_title) = (account_id.to_owned(), stage_id.to_owned(), title.cloned());
    db.write(move |tx| {
        Box::pin(async move { change(tx, &account, &stage, new_title.as_ref(), position).await })
    })
    .await?;
    get(db, account_id, stage_id).await
}

/// The work of [`update`], inside the caller's transaction.
async fn change(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    stage_id: &str,
    title: Option<&StageTitle>,
    position: Option<i64>,
) -> StoreResult<()> {
    let mut order = lock_funnel_order(tx, account_id).await?;
    let Some(current_index) = order.iter().position(|id| id == stage_id) else {
        return Err(stage_not_found(stage_id));
    };
    let now = now_micros();
    if let Some(title) = title {
        tx.execute(
            "UPDATE funnel_stages SET title = $1, title_key = $2, updated_at = $3 \
             WHERE id = $4 AND account_id = $5",
            args![title.as_str(), title.key(), now, stage_id, account_id],
        )
        .await
        .map_err(|error| title_conflict(error, title))?;
    }
    if let Some(position) = position {
        let position = place(position, order.len() as i64)?;
        let moved = order.remove(current_index);
        order.insert(position as usize - 1, moved);
        write_order(tx, account_id, &order, now).await?;
    }
    Ok(())
}

/// Puts the stages in the given order. `stage_ids` must name every live
/// stage exactly once.
pub(crate) async fn reorder(
    db: &Database,
    account_id: &str,
    stage_ids: &[String],
) -> StoreResult<Vec<FunnelStage>> {
    let (account, requested) = (account_id.to_owned(), stage_ids.to_vec());
    db.write(move |tx| Box::pin(async move { put_in_order(tx, &account, &requested).await }))
        .await?;
    list(db, account_id).await
}

/// The work of [`reorder`], inside the caller's transaction.
async fn put_in_order(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    stage_ids: &[String],
) -> StoreResult<()> {
    let order = lock_funnel_order(tx, account_id).await?;
    let mut requested = stage_ids.to_vec();
    requested.sort();
    let mut existing = order.clone();
    existing.sort();
    if requested != existing {
        let unknown: Vec<&str> = stage_ids
            .iter()
            .filter(|id| !order.contains(id))
            .map(String::as_str)
            .collect();
        let missing: Vec<&str> = order
            .iter()
            .filter(|id| !stage_ids.contains(id))
            .map(String::as_str)
            .collect();
        let mut problems = Vec::new();
        if !unknown.is_empty() {
            problems.push(format!("unknown ids: {}", unknown.join(", ")));
        }
        if !missing.is_empty() {
            problems.push(format!("missing ids: {}", missing.join(", ")));
        }
        if problems.is_empty() {
            problems.push("an id appears more than once".into());
        }
        return Err(InvalidInput(format!(
            "stage_ids must list every funnel stage exactly once ({})",
            problems.join("; ")
        ))
        .into());
    }
    write_order(tx, account_id, stage_ids, now_micros()).await
}

/// Deletes a stage that no lead is currently at. Its history events are
/// kept: the stage row stays, marked deleted, so the history still shows its
/// title.
pub(crate) async fn delete(db: &Database, account_id: &str, stage_id: &str) -> StoreResult<()> {
    let (account, stage) = (account_id.to_owned(), stage_id.to_owned());
    db.write(move |tx| Box::pin(async move { remove(tx, &account, &stage).await }))
        .await
}

/// The work of [`delete`], inside the caller's transaction.
async fn remove(tx: &mut WriteTx<'_>, account_id: &str, stage_id: &str) -> StoreResult<()> {
    let mut order = lock_funnel_order(tx, account_id).await?;
    let Some(index) = order.iter().position(|id| id == stage_id) else {
        return Err(stage_not_found(stage_id));
    };
    let (leads_at_stage,): (i64,) = tx
        .fetch_one(
            "SELECT COUNT(*) FROM leads WHERE account_id = $1 AND funnel_stage_id = $2",
            args![account_id, stage_id],
        )
        .await?;
    if leads_at_stage > 0 {
        let plural = if leads_at_stage == 1 {
            "lead is"
        } else {
            "leads are"
        };
        return Err(StoreError::Conflict(format!(
            "Funnel stage {stage_id} cannot be deleted: {leads_at_stage} {plural} at this stage. \
             Move them to another stage first."
        )));
    }
    let now = now_micros();
    // Mappings to a deleted stage would resolve to nothing useful.
    tx.execute(
        "DELETE FROM webhook_import_mappings WHERE funnel_stage_id = $1",
        args![stage_id],
    )
    .await?;
    tx.execute(
        "UPDATE funnel_stages SET deleted_at = $1, position = NULL, updated_at = $1 \
         WHERE id = $2 AND account_id = $3",
        args![now, stage_id, account_id],
    )
    .await?;
    order.remove(index);
    write_order(tx, account_id, &order, now).await
}

/// Locks the account's funnel against concurrent edits, marks it changed,
/// and returns the live stage ids in order.
async fn lock_funnel_order(tx: &mut WriteTx<'_>, account_id: &str) -> StoreResult<Vec<String>> {
    // The update both locks the account row until the transaction ends and
    // tells caches of the funnel (see webhook_imports) that it changed.
    tx.execute(
        "UPDATE accounts SET funnel_version = $2 WHERE id = $1",
        args![account_id, fresh_version()],
    )
    .await?;
    let ids: Vec<(String,)> = tx
        .fetch_all(
            "SELECT id FROM funnel_stages WHERE account_id = $1 AND deleted_at IS NULL ORDER BY position",
            args![account_id],
        )
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Gives each stage in `order` its 1-based index as position, touching only
/// the rows whose position changes.
async fn write_order(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    order: &[String],
    now: i64,
) -> StoreResult<()> {
    for (index, stage_id) in order.iter().enumerate() {
        tx.execute(
            "UPDATE funnel_stages SET position = $1, updated_at = $2 \
             WHERE id = $3 AND account_id = $4 AND (position IS NULL OR position <> $1)",
            args![index as i64 + 1, now, stage_id, account_id],
        )
        .await?;
    }
    Ok(())
}

fn stage_not_found(stage_id: &str) -> StoreError {
    StoreError::NotFound(format!("Funnel stage {stage_id} not found"))
}

/// A refused title write as the user should see it: a conflict when
/// another live stage has a matching title.
fn title_conflict(error: StoreError, title: &StageTitle) -> StoreError {
    if error.is_unique_violation() {
        StoreError::Conflict(format!(
            "A funnel stage titled \"{}\" (or a name that matches it ignoring case, spaces, `_` and `-`) already exists",
            title.as_str()
        ))
    } else {
        error
    }
}

/// Stages by id (deleted ones too, since events keep pointing at them), as
/// a lead shows them, inside a write transaction.
pub(crate) async fn views_by_id(
    tx: &mut WriteTx<'_>,
    stage_ids: &[&str],
) -> StoreResult<HashMap<String, LeadStageView>> {
    let mut stages = HashMap::new();
    for chunk in stage_ids.chunks(500) {
        let (sql, binds) = views_query(chunk);
        let rows: Vec<(String, String, Option<i64>)> = tx.fetch_all(&sql, &binds).await?;
        stages.extend(rows.into_iter().map(stage_view));
    }
    Ok(stages)
}

/// [`views_by_id`] outside a transaction.
pub(crate) async fn read_views_by_id(
    db: &Database,
    stage_ids: &[&str],
) -> StoreResult<HashMap<String, LeadStageView>> {
    let mut stages = HashMap::new();
    for chunk in stage_ids.chunks(500) {
        let (sql, binds) = views_query(chunk);
        let rows: Vec<(String, String, Option<i64>)> =
            sql::fetch_all(db.reader(), &sql, &binds).await?;
        stages.extend(rows.into_iter().map(stage_view));
    }
    Ok(stages)
}

fn views_query<'a>(stage_ids: &[&'a str]) -> (String, Vec<Arg<'a>>) {
    let sql = format!(
        "SELECT id, title, position FROM funnel_stages WHERE id IN ({})",
        params(1, stage_ids.len())
    );
    (sql, stage_ids.iter().map(|id| Arg::from(*id)).collect())
}

fn stage_view((id, title, position): (String, String, Option<i64>)) -> (String, LeadStageView) {
    (
        id.clone(),
        LeadStageView {
            id,
            title,
            position,
        },
    )
}
