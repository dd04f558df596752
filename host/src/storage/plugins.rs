//! Uploaded plugins: their records (name, kind, limits) per account, and
//! their modules, stored once per content hash.

use sqlx::FromRow;

use super::sql::args;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, corrupt_column};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::plugin::{PluginKind, PluginLimits};
use crate::domain::time::now_micros;

/// An uploaded plugin.
#[derive(Debug, Clone)]
pub(crate) struct PluginRecord {
    pub id: String,
    pub name: String,
    pub kind: PluginKind,
    pub sha256: String,
    pub size_bytes: i64,
    pub limits: PluginLimits,
    pub created_at: i64,
}

#[derive(Debug, FromRow)]
struct PluginRow {
    id: String,
    name: String,
    kind: String,
    sha256: String,
    size_bytes: i64,
    fuel: i64,
    memory_bytes: i64,
    time_limit_ms: i64,
    output_bytes: i64,
    created_at: i64,
}

impl PluginRow {
    /// Parses the columns back; one that does not parse is reported (see
    /// [`corrupt_column`]).
    fn into_record(self) -> StoreResult<PluginRecord> {
        let row = format!("plugin {}", self.id);
        let corrupt = |column: &str, detail: String| corrupt_column(&row, column, detail);
        let kind = PluginKind::parse(&self.kind).map_err(|error| corrupt("kind", error.0))?;
        let limit = |column: &str, value: i64| {
            u64::try_from(value).map_err(|_| corrupt(column, format!("{value} is negative")))
        };
        let limits = PluginLimits {
            fuel: limit("fuel", self.fuel)?,
            memory_bytes: limit("memory_bytes", self.memory_bytes)?,
            time_limit_ms: limit("time_limit_ms", self.time_limit_ms)?,
            output_bytes: limit("output_bytes", self.output_bytes)?,
        };
        Ok(PluginRecord {
            id: self.id,
            name: self.name,
            kind,
            sha256: self.sha256,
            size_bytes: self.size_bytes,
            limits,
            created_at: self.created_at,
        })
    }
}

const PLUGIN_SELECT: &str = "SELECT p.id, p.name, p.kind, p.sha256, m.size_bytes, p.fuel, p.memory_bytes, \
    p.time_limit_ms, p.output_bytes, p.created_at \
    FROM plugins p JOIN plugin_modules m ON m.sha256 = p.sha256";

/// A plugin to store: its module was validated and compiled already.
pub(crate) struct NewPlugin<'a> {
    pub name: &'a str,
    pub kind: PluginKind,
    pub sha256: &'a str,
    pub module: &'a [u8],
    pub limits: PluginLimits,
}

pub(crate) async fn create(
    db: &Database,
    account_id: &str,
    plugin: NewPlugin<'_>,
) -> StoreResult<PluginRecord> {
    let now = now_micros();
    let id = new_id(IdKind::Plugin);
    let (plugin_id, account, name, kind) = (
        id.clone(),
        account_id.to_owned(),
        plugin.name.to_owned(),
        plugin.kind.as_str(),
    );
    let (sha256, module, limits) = (
        plugin.sha256.to_owned(),
        plugin.module.to_vec(),
        plugin.limits,
    );
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO plugin_modules (sha256, module, size_bytes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
                args![&sha256, module.as_slice(), module.len() as i64, now],
            )
            .await?;
            let inserted = tx
                .execute(
                    "INSERT INTO plugins (id, account_id, name, kind, sha256, fuel, memory_bytes, \
                         time_limit_ms, output_bytes, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    args![
                        &plugin_id,
                        &account,
                        &name,
                        &kind,
                        &sha256,
                        limits.fuel as i64,
                        limits.memory_bytes as i64,
                        limits.time_limit_ms as i64,
                        limits.output_bytes as i64,
                        now,
                    ],
                )
                .await;
            match inserted {
                Err(error) if error.is_unique_violation() => Err(StoreError::Conflict(format!(
                    "A plugin named \"{name}\" already exists; delete it or choose another name"
                ))),
                other => other.map(|_| ()),
            }
        })
    })
    .await?;
    get(db, account_id, &id).await
}

pub(crate) async fn list(db: &Database, account_id: &str) -> StoreResult<Vec<PluginRecord>> {
    sqlx::query_as::<_, PluginRow>(&format!(
        "{PLUGIN_SELECT} WHERE p.account_id = $1 ORDER BY p.id"
    ))
    .bind(account_id)
    .fetch_all(db.reader())
    .await?
    .into_iter()
    .map(PluginRow::into_record)
    .collect()
}

pub(crate) async fn get(
    db: &Database,
    account_id: &str,
    plugin_id: &str,
) -> StoreResult<PluginRecord> {
    sqlx::query_as::<_, PluginRow>(&format!(
        "{PLUGIN_SELECT} WHERE p.account_id = $1 AND p.id = $2"
    ))
    .bind(account_id)
    .bind(plugin_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| plugin_not_found(plugin_id))?
    .into_record()
}

/// Points a plugin at another module (already validated and compiled),
/// storing the module once per hash; the plugin keeps its id, name, kind
/// and limits.
pub(crate) async fn replace_module(
    db: &Database,
    account_id: &str,
    plugin_id: &str,
    sha256: &str,
    module: &[u8],
) -> StoreResult<PluginRecord> {
    let now = now_micros();
    let (account, id, hash, bytes) = (
        account_id.to_owned(),
        plugin_id.to_owned(),
        sha256.to_owned(),
        module.to_vec(),
    );
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO plugin_modules (sha256, module, size_bytes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
                args![&hash, bytes.as_slice(), bytes.len() as i64, now],
            )
            .await?;
            let changed = tx
                .execute(
                    "UPDATE plugins SET sha256 = $3 WHERE account_id = $1 AND id = $2",
                    args![&account, &id, &hash],
                )
                .await?;
            if changed == 0 {
                return Err(plugin_not_found(&id));
            }
            Ok(())
        })
    })
    .await?;
    get(db, account_id, plugin_id).await
}

/// The module bytes with this hash.
pub(crate) async fn module(db: &Database, sha256: &str) -> StoreResult<Vec<u8>> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT module FROM plugin_modules WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(db.reader())
            .await?;
    row.map(|(module,)| module)
        .ok_or_else(|| StoreError::NotFound(format!("Plugin module {sha256} not found")))
}

/// Deletes a plugin no webhook import or webhook uses.
pub(crate) async fn delete(db: &Database, account_id: &str, plugin_id: &str) -> StoreResult<()> {
    let (account_id, plugin_id) = (account_id.to_owned(), plugin_id.to_owned());
    db.write(move |tx| Box::pin(async move { remove(tx, &account_id, &plugin_id).await }))
        .await
}

/// The work of [`delete`], inside the caller's transaction.
async fn remove(tx: &mut WriteTx<'_>, account_id: &str, plugin_id: &str) -> StoreResult<()> {
    let users: Vec<(String, String)> = tx
        .fetch_all(
            "SELECT id, name FROM webhook_imports WHERE account_id = $1 AND transform_plugin_id = $2 ORDER BY id",
            args![account_id, plugin_id],
        )
        .await?;
    if !users.is_empty() {
        let names: Vec<String> = users
            .iter()
            .map(|(id, name)| format!("\"{name}\" ({id})"))
            .collect();
        return Err(StoreError::Conflict(format!(
            "Plugin {plugin_id} is the transform of webhook import {}; remove it there first",
            names.join(", ")
        )));
    }
    let webhooks = super::webhooks::using_plugin(tx, account_id, plugin_id).await?;
    if !webhooks.is_empty() {
        return Err(StoreError::Conflict(format!(
            "Plugin {plugin_id} is the payload format of webhook {}; choose another format there first",
            webhooks.join(", ")
        )));
    }
    let deleted = tx
        .execute(
            "DELETE FROM plugins WHERE account_id = $1 AND id = $2",
            args![account_id, plugin_id],
        )
        .await?;
    if deleted == 0 {
        return Err(plugin_not_found(plugin_id));
    }
    Ok(())
}

fn plugin_not_found(plugin_id: &str) -> StoreError {
    StoreError::NotFound(format!("Plugin {plugin_id} not found"))
}
