//! An account's funnel as a write transaction sees it: its live stages in
//! order ([`AccountFunnel`]), which the funnel rules plan moves by, and
//! the versions that tell the caches of stages and webhooks whether they
//! still hold.
//!
//! Every change to the stage list bumps `accounts.funnel_version` with the
//! account row locked (`funnel_stages::lock_funnel_order`). A write that
//! reads the versions with the row share-locked (PostgreSQL; SQLite's one
//! writer excludes edits anyway) therefore sees the stages of that version
//! until it commits, and [`FunnelCache`] can answer instead of a read of
//! every stage per transaction: on PostgreSQL, a round trip per group of
//! inbound updates.

use std::sync::Arc;

use super::sql::args;
use super::versioned_cache::VersionedCache;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult};
use crate::domain::funnel::StagePosition;

/// An account's live stages and its webhooks' version, read together in
/// a write transaction.
#[derive(Debug, Clone)]
pub(crate) struct AccountFunnel {
    pub stages: Arc<Vec<StagePosition>>,
    /// See [`super::webhooks::SubscriptionCache`].
    pub webhooks_version: i64,
}

/// The account row's versions, read with the row share-locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AccountVersions {
    pub funnel: i64,
    pub webhooks: i64,
}

/// Each account's live stages, as read at its `funnel_version`.
pub(crate) type FunnelCache = VersionedCache<Vec<StagePosition>>;

/// Reads the account's versions, share-locking its row (PostgreSQL) so
/// that the funnel and the webhooks cannot change until the transaction
/// ends.
pub(crate) async fn lock_versions(
    tx: &mut WriteTx<'_>,
    account_id: &str,
) -> StoreResult<AccountVersions> {
    let sql = format!(
        "SELECT funnel_version, webhooks_version FROM accounts WHERE id = $1{}",
        tx.for_share()
    );
    let row: Option<(i64, i64)> = tx.fetch_optional(&sql, args![account_id]).await?;
    let (funnel, webhooks) =
        row.ok_or_else(|| StoreError::NotFound(format!("Account {account_id} not found")))?;
    Ok(AccountVersions { funnel, webhooks })
}

/// The account's live stages with their positions, for the funnel rules.
/// `versions` are the account's, if the caller has read them with the row
/// share-locked in this transaction (see [`lock_versions`]); otherwise
/// they are read here. The stages come from the cache when their version
/// is current.
pub(crate) async fn read(
    db: &Database,
    tx: &mut WriteTx<'_>,
    account_id: &str,
    versions: Option<AccountVersions>,
) -> StoreResult<AccountFunnel> {
    let versions = match versions {
        Some(versions) => versions,
        None => lock_versions(tx, account_id).await?,
    };
    let stages = match db.funnels().get(account_id, versions.funnel) {
        Some(stages) => stages,
        None => {
            // Read in a statement of its own, after the lock: on
            // PostgreSQL a lock that waited for an edit sees the edited
            // account row, and only a new statement sees the edited stages.
            let rows: Vec<(String, i64)> = tx
                .fetch_all(
                    "SELECT id, position FROM funnel_stages \
                     WHERE account_id = $1 AND deleted_at IS NULL ORDER BY position",
                    args![account_id],
                )
                .await?;
            let stages = Arc::new(
                rows.into_iter()
                    .map(|(id, position)| StagePosition { id, position })
                    .collect::<Vec<_>>(),
            );
            db.funnels()
                .put(account_id, versions.funnel, Arc::clone(&stages));
            stages
        }
    };
    Ok(AccountFunnel {
        stages,
        webhooks_version: versions.webhooks,
    })
}
