//! Moves whose history is not written yet: the funnel rules need a lead's
//! earlier events written before its next move, so moves of distinct leads
//! wait here and are written together, a few statements per account.

use std::collections::{BTreeMap, HashSet};

use crate::domain::actor::Actor;
use crate::storage::StoreResult;
use crate::storage::funnel_history::{self, BackwardMove, ReachedStage};
use crate::storage::write_tx::WriteTx;

/// Moves whose history is not written yet, each of a distinct lead (also
/// lead sync's).
#[derive(Default)]
pub(in crate::storage) struct Waiting<'a> {
    /// (account, lead, backfilled stages, target, actor) of forward moves.
    forward: Vec<(&'a str, &'a str, Vec<String>, String, &'a Actor)>,
    /// (account, move) of backward moves.
    backward: Vec<(&'a str, BackwardMove<'a>)>,
    /// (account, lead) of every move above.
    leads: HashSet<(&'a str, &'a str)>,
}

impl<'a> Waiting<'a> {
    pub(in crate::storage) fn has(&self, account_id: &str, lead_id: &str) -> bool {
        self.leads.contains(&(account_id, lead_id))
    }

    pub(in crate::storage) fn add_forward(
        &mut self,
        account_id: &'a str,
        lead_id: &'a str,
        backfill: Vec<String>,
        target: String,
        actor: &'a Actor,
    ) {
        self.leads.insert((account_id, lead_id));
        self.forward
            .push((account_id, lead_id, backfill, target, actor));
    }

    pub(in crate::storage) fn add_backward(
        &mut self,
        account_id: &'a str,
        backward: BackwardMove<'a>,
    ) {
        self.leads.insert((account_id, backward.lead_id));
        self.backward.push((account_id, backward));
    }

    /// Writes the waiting history, per account: one statement archives
    /// the events after the backward moves' targets, one inserts the
    /// forward moves' events and the targets that lack one (per 100
    /// rows). Archiving first is not required (it never touches a target)
    /// but reads as the rules do.
    pub(in crate::storage) async fn write(
        &mut self,
        tx: &mut WriteTx<'_>,
        now: i64,
    ) -> StoreResult<()> {
        let mut backward: BTreeMap<&str, Vec<BackwardMove>> = BTreeMap::new();
        for (account_id, lead_move) in self.backward.drain(..) {
            backward.entry(account_id).or_default().push(lead_move);
        }
        let mut reached: BTreeMap<&str, Vec<ReachedStage>> = BTreeMap::new();
        for (account_id, lead_id, backfill, target, actor) in &self.forward {
            reached
                .entry(account_id)
                .or_default()
                .extend(funnel_history::reached_rows(
                    lead_id, backfill, target, actor,
                ));
        }
        for (account_id, moves) in &backward {
            funnel_history::archive_after_targets(tx, account_id, moves, now).await?;
            reached
                .entry(account_id)
                .or_default()
                .extend(moves.iter().map(BackwardMove::target_row));
        }
        for (account_id, rows) in reached {
            funnel_history::insert_reached(tx, account_id, &rows, now).await?;
        }
        self.forward.clear();
        self.leads.clear();
        Ok(())
    }
}
