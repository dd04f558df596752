//! Locking the leads a group's records touch, in id order so concurrent
//! transactions cannot deadlock on them, with the account row
//! share-locked in the same statement.

use std::collections::BTreeSet;

use crate::storage::account_funnel::AccountVersions;
use crate::storage::sql::Arg;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Backend, StoreResult, params};

/// What [`lock_leads`] found.
pub(super) struct LockedLeads {
    /// (lead id, current stage) of each lead that exists.
    pub(super) stages: Vec<(String, Option<String>)>,
    /// The account's versions, read with its row share-locked; `None` when
    /// no lead was found (then nothing joined the account row).
    pub(super) versions: Option<AccountVersions>,
}

/// Locks the given leads of one account (in id order, so concurrent
/// transactions cannot deadlock on them) and returns their current stages,
/// with the account row share-locked in the same statement: its versions
/// then come without a round trip of their own (see [`account_funnel`](crate::storage::account_funnel)).
pub(super) async fn lock_leads(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_ids: &BTreeSet<&str>,
) -> StoreResult<LockedLeads> {
    let locks = match tx.backend() {
        Backend::Postgres => " FOR UPDATE OF l FOR SHARE OF a",
        Backend::Sqlite => "",
    };
    let ids: Vec<&str> = lead_ids.iter().copied().collect();
    let mut locked = LockedLeads {
        stages: Vec::with_capacity(ids.len()),
        versions: None,
    };
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT l.id, l.funnel_stage_id, a.funnel_version, a.webhooks_version \
             FROM leads l JOIN accounts a ON a.id = l.account_id \
             WHERE l.account_id = $1 AND l.id IN ({}) ORDER BY l.id{locks}",
            params(2, chunk.len()),
        );
        let mut binds = Vec::with_capacity(1 + chunk.len());
        binds.push(Arg::from(account_id));
        binds.extend(chunk.iter().map(|id| Arg::from(*id)));
        let rows = tx
            .fetch_all::<(String, Option<String>, i64, i64)>(&sql, &binds)
            .await?;
        for (lead_id, stage, funnel, webhooks) in rows {
            // Every row shows the one locked account row.
            locked.versions = Some(AccountVersions { funnel, webhooks });
            locked.stages.push((lead_id, stage));
        }
    }
    Ok(locked)
}
