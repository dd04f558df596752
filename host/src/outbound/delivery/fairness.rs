//! Fair delivery: how a worker's free slots are shared among the webhooks
//! with due deliveries ([`fair_shares`]), and what each webhook has in
//! flight in this worker ([`InFlight`]).
//!
//! Without it a claim took the oldest due deliveries whoever they belonged
//! to, and one receiver that hangs until its timeout could hold every
//! slot: the deliveries of every other webhook and account waited behind
//! it. Now no webhook has more than its `max_in_flight` deliveries in
//! flight in a worker, and free slots are dealt one at a time, round robin
//! across accounts and, within an account, across its webhooks, the ones
//! waiting longest first.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::storage::deliveries::DueWebhook;

/// How many due deliveries to claim from each webhook with `free` slots,
/// in the order to claim them. `in_flight` is what each webhook has in
/// flight in this worker; none gets more than its cap.
///
/// Accounts take turns, the one whose oldest due delivery waited longest
/// first, and each turn gives one slot to the account's next webhook with
/// room (its webhooks in the same order): an account with ten webhooks
/// gets no more slots than an account with one while both have work.
pub(super) fn fair_shares(
    due: &[DueWebhook],
    in_flight: &HashMap<String, u32>,
    free: usize,
) -> Vec<(String, i64)> {
    struct Account<'a> {
        oldest_due: i64,
        /// Its webhooks, longest waiting first, with their room left.
        webhooks: Vec<(&'a DueWebhook, i64)>,
        /// The webhook whose turn is next.
        next: usize,
    }
    let mut by_account: BTreeMap<&str, Account<'_>> = BTreeMap::new();
    for webhook in due {
        let busy = in_flight.get(&webhook.webhook_id).copied().unwrap_or(0);
        let room = webhook.max_in_flight.saturating_sub(i64::from(busy));
        if room <= 0 {
            continue;
        }
        let account = by_account
            .entry(webhook.account_id.as_str())
            .or_insert_with(|| Account {
                oldest_due: webhook.oldest_due,
                webhooks: Vec::new(),
                next: 0,
            });
        account.oldest_due = account.oldest_due.min(webhook.oldest_due);
        account.webhooks.push((webhook, room));
    }
    let mut accounts: Vec<Account<'_>> = by_account.into_values().collect();
    // Stable sorts: ties keep the order of ids.
    accounts.sort_by_key(|account| account.oldest_due);
    for account in &mut accounts {
        account.webhooks.sort_by(|(a, _), (b, _)| {
            (a.oldest_due, &a.webhook_id).cmp(&(b.oldest_due, &b.webhook_id))
        });
    }
    let mut shares: Vec<(String, i64)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut left = free;
    while left > 0 && !accounts.is_empty() {
        // One turn per account; an account with no room left drops out.
        accounts.retain_mut(|account| {
            if left == 0 {
                return true;
            }
            let count = account.webhooks.len();
            for step in 0..count {
                let index = (account.next + step) % count;
                let (webhook, room) = &mut account.webhooks[index];
                if *room == 0 {
                    continue;
                }
                *room -= 1;
                left -= 1;
                account.next = index + 1;
                let webhook: &DueWebhook = webhook;
                let at = *position
                    .entry(webhook.webhook_id.as_str())
                    .or_insert_with(|| {
                        shares.push((webhook.webhook_id.clone(), 0));
                        shares.len() - 1
                    });
                shares[at].1 += 1;
                return true;
            }
            false
        });
    }
    shares
}

/// What each webhook has in flight in this worker: a [`Slot`] per
/// delivery (or batch) being sent, given back when dropped.
#[derive(Debug, Clone, Default)]
pub(super) struct InFlight(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    by_webhook: Mutex<HashMap<String, u32>>,
    /// A slot was given back: a webhook at its cap may have room again.
    released: Notify,
}

/// One of a webhook's deliveries in flight, until dropped.
#[derive(Debug)]
pub(super) struct Slot {
    webhook_id: String,
    in_flight: InFlight,
}

impl InFlight {
    pub(super) fn take(&self, webhook_id: &str) -> Slot {
        let mut counts = self.lock();
        *counts.entry(webhook_id.to_owned()).or_default() += 1;
        Slot {
            webhook_id: webhook_id.to_owned(),
            in_flight: self.clone(),
        }
    }

    /// The counts now, for a claim to share slots by.
    pub(super) fn counts(&self) -> HashMap<String, u32> {
        self.lock().clone()
    }

    /// Resolves once a slot has been given back since the last call.
    pub(super) async fn released(&self) {
        self.0.released.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.0
            .by_webhook
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut counts = self.in_flight.lock();
            if let Some(count) = counts.get_mut(&self.webhook_id) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    counts.remove(&self.webhook_id);
                }
            }
        }
        // One stored wake-up for the claim loop, however many slots free.
        self.in_flight.0.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Webhook `id` of `account`, due since `oldest_due`, with cap `max`.
    fn due(id: &str, account: &str, oldest_due: i64, max: i64) -> DueWebhook {
        DueWebhook {
            webhook_id: id.into(),
            account_id: account.into(),
            oldest_due,
            max_in_flight: max,
        }
    }

    fn shares(due: &[DueWebhook], in_flight: &[(&str, u32)], free: usize) -> Vec<(String, i64)> {
        let in_flight = in_flight
            .iter()
            .map(|(id, n)| ((*id).to_owned(), *n))
            .collect();
        fair_shares(due, &in_flight, free)
    }

    fn expected(shares: &[(&str, i64)]) -> Vec<(String, i64)> {
        shares
            .iter()
            .map(|(id, n)| ((*id).to_owned(), *n))
            .collect()
    }

    #[test]
    fn free_slots_are_shared_fairly_within_each_webhooks_cap() {
        // (due webhooks, in flight here, free slots, shares in claim order)
        type Case = (
            Vec<DueWebhook>,
            Vec<(&'static str, u32)>,
            usize,
            Vec<(&'static str, i64)>,
        );
        let cases: Vec<Case> = vec![
            (vec![], vec![], 10, vec![]),
            (vec![due("w1", "a", 5, 16)], vec![], 0, vec![]),
            // One webhook: up to its cap, not the free slots.
            (vec![due("w1", "a", 5, 16)], vec![], 256, vec![("w1", 16)]),
            (vec![due("w1", "a", 5, 16)], vec![], 3, vec![("w1", 3)]),
            // What it has in flight counts against its cap.
            (
                vec![due("w1", "a", 5, 16)],
                vec![("w1", 10)],
                256,
                vec![("w1", 6)],
            ),
            (vec![due("w1", "a", 5, 16)], vec![("w1", 16)], 256, vec![]),
            // A hanging webhook at its cap leaves the slots to the others.
            (
                vec![due("slow", "a", 1, 16), due("fast", "b", 9, 16)],
                vec![("slow", 16)],
                240,
                vec![("fast", 16)],
            ),
            // Two accounts share few slots evenly; the one waiting longest
            // goes first.
            (
                vec![due("w1", "a", 9, 16), due("w2", "b", 1, 16)],
                vec![],
                5,
                vec![("w2", 3), ("w1", 2)],
            ),
            // An account's many webhooks get one account's share, taking
            // turns within it (longest waiting first).
            (
                vec![
                    due("a1", "a", 3, 16),
                    due("a2", "a", 1, 16),
                    due("a3", "a", 2, 16),
                    due("b1", "b", 4, 16),
                ],
                vec![],
                6,
                vec![("a2", 1), ("b1", 3), ("a3", 1), ("a1", 1)],
            ),
            // Once an account has no room, the others take what is left.
            (
                vec![due("w1", "a", 1, 2), due("w2", "b", 2, 100)],
                vec![],
                10,
                vec![("w1", 2), ("w2", 8)],
            ),
            // Caps of 1 and a webhook over its cap (lowered meanwhile).
            (
                vec![due("w1", "a", 1, 1), due("w2", "a", 2, 4)],
                vec![("w2", 9)],
                10,
                vec![("w1", 1)],
            ),
        ];
        for (due, in_flight, free, want) in cases {
            let got = shares(&due, &in_flight, free);
            assert_eq!(got, expected(&want), "{due:?}, {in_flight:?}, {free}");
            let total: i64 = got.iter().map(|(_, n)| n).sum();
            assert!(total <= i64::try_from(free).unwrap());
        }
    }

    /// PostgreSQL's one-statement claim (`storage::deliveries::claims`)
    /// gives a lone scheduled webhook `min(max_in_flight - in flight, free)`
    /// (nothing at or over its cap) without asking `fair_shares`: this is
    /// what `fair_shares` gives it too.
    #[test]
    fn a_lone_webhook_gets_its_room_up_to_the_free_slots() {
        for max in [1_i64, 2, 16, 64] {
            for busy in [0_u32, 1, 15, 16, 63, 64, 70] {
                for free in [0_usize, 1, 3, 16, 64, 500] {
                    let got = shares(&[due("w1", "a", 5, max)], &[("w1", busy)], free);
                    let take = (max - i64::from(busy))
                        .min(i64::try_from(free).unwrap())
                        .max(0);
                    let want = if take == 0 {
                        vec![]
                    } else {
                        expected(&[("w1", take)])
                    };
                    assert_eq!(got, want, "max {max}, busy {busy}, free {free}");
                }
            }
        }
    }

    #[test]
    fn a_slot_counts_until_dropped() {
        let in_flight = InFlight::default();
        let first = in_flight.take("w1");
        let second = in_flight.take("w1");
        let other = in_flight.take("w2");
        assert_eq!(
            in_flight.counts(),
            HashMap::from([("w1".to_owned(), 2), ("w2".to_owned(), 1)])
        );
        drop(first);
        drop(other);
        assert_eq!(in_flight.counts(), HashMap::from([("w1".to_owned(), 1)]));
        drop(second);
        assert!(in_flight.counts().is_empty());
    }
}
