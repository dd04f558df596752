//! An import's stage-name mappings (the names a CRM sends for the
//! account's stages), and the stage directory they make with the funnel's
//! titles, which resolves an inbound record's stage.

use sqlx::FromRow;

use super::{get, import_not_found};
use crate::domain::InvalidInput;
use crate::domain::stage_matching::{ResolvedStage, StageDirectory};
use crate::domain::stage_title::matching_key;
use crate::domain::time::now_micros;
use crate::storage::sql::args;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreResult, funnel_stages};

/// Most mappings one import may have.
pub(crate) const MAX_MAPPINGS: usize = 1_000;

/// One mapping, with the title of the stage it points at.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct StageMapping {
    pub external_name: String,
    pub funnel_stage_id: String,
    pub funnel_stage_title: String,
}

/// The import's mappings, in the order they were given.
pub(crate) async fn mappings(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<Vec<StageMapping>> {
    get(db, account_id, import_id).await?;
    Ok(sqlx::query_as::<_, StageMapping>(
        "SELECT m.external_name, m.funnel_stage_id, s.title AS funnel_stage_title \
         FROM webhook_import_mappings m JOIN funnel_stages s ON s.id = m.funnel_stage_id \
         WHERE m.import_id = $1 AND s.deleted_at IS NULL ORDER BY m.list_order",
    )
    .bind(import_id)
    .fetch_all(db.reader())
    .await?)
}

/// Replaces every mapping of an import. Refuses unknown stages and external
/// names that are equal after normalising, naming them.
pub(crate) async fn replace_mappings(
    db: &Database,
    account_id: &str,
    import_id: &str,
    requested: &[(String, String)],
) -> StoreResult<Vec<StageMapping>> {
    if requested.len() > MAX_MAPPINGS {
        return Err(InvalidInput(format!("at most {MAX_MAPPINGS} mappings per import")).into());
    }
    let stages = funnel_stages::list(db, account_id).await?;
    let mut seen = std::collections::HashMap::new();
    for (index, (external_name, stage_id)) in requested.iter().enumerate() {
        crate::domain::reject_nul(&format!("mappings[{index}].external_name"), external_name)?;
        let key = matching_key(external_name);
        if key.is_empty() {
            return Err(
                InvalidInput(format!("mappings[{index}].external_name must not be empty")).into(),
            );
        }
        if let Some(first) = seen.insert(key, index) {
            return Err(InvalidInput(format!(
                "mappings[{index}].external_name \"{external_name}\" duplicates mappings[{first}] \
                 (names are compared ignoring case, spaces, `_` and `-`)"
            ))
            .into());
        }
        if !stages.iter().any(|stage| &stage.id == stage_id) {
            return Err(InvalidInput(format!(
                "mappings[{index}].funnel_stage_id {stage_id} is not a stage of this account's funnel"
            ))
            .into());
        }
    }
    let (account, import, requested) = (
        account_id.to_owned(),
        import_id.to_owned(),
        requested.to_vec(),
    );
    db.write(move |tx| {
        Box::pin(async move { write_mappings(tx, &account, &import, &requested).await })
    })
    .await?;
    mappings(db, account_id, import_id).await
}

/// The work of [`replace_mappings`], inside the caller's transaction.
async fn write_mappings(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    import_id: &str,
    requested: &[(String, String)],
) -> StoreResult<()> {
    let import_exists: Option<(String,)> = tx
        .fetch_optional(
            &format!(
                "SELECT id FROM webhook_imports WHERE account_id = $1 AND id = $2{}",
                tx.for_update()
            ),
            args![account_id, import_id],
        )
        .await?;
    if import_exists.is_none() {
        return Err(import_not_found(import_id));
    }
    tx.execute(
        "DELETE FROM webhook_import_mappings WHERE import_id = $1",
        args![import_id],
    )
    .await?;
    for (index, (external_name, stage_id)) in requested.iter().enumerate() {
        tx.execute(
            "INSERT INTO webhook_import_mappings (import_id, external_key, external_name, funnel_stage_id, list_order) \
             VALUES ($1, $2, $3, $4, $5)",
            args![
                import_id,
                matching_key(external_name),
                external_name.trim(),
                stage_id,
                index as i64
            ],
        )
        .await?;
    }
    tx.execute(
        "UPDATE webhook_imports SET updated_at = $1, version = version + 1 WHERE id = $2",
        args![now_micros(), import_id],
    )
    .await?;
    Ok(())
}

/// The mappings and live stage titles of an import, in one query.
pub(crate) async fn stage_directory(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<StageDirectory> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT 1, m.external_name, s.id, s.title \
         FROM webhook_import_mappings m JOIN funnel_stages s ON s.id = m.funnel_stage_id \
         WHERE m.import_id = $1 AND s.deleted_at IS NULL \
         UNION ALL \
         SELECT 0, title, id, title FROM funnel_stages WHERE account_id = $2 AND deleted_at IS NULL",
    )
    .bind(import_id)
    .bind(account_id)
    .fetch_all(db.reader())
    .await?;
    let (mapped, titled): (Vec<_>, Vec<_>) = rows.into_iter().partition(|row| row.0 == 1);
    Ok(StageDirectory::new(
        mapped
            .into_iter()
            .map(|(_, name, id, title)| (name, ResolvedStage { id, title })),
        titled
            .into_iter()
            .map(|(_, _, id, title)| ResolvedStage { id, title }),
    ))
}
