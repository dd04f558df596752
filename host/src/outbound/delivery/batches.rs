//! Batch delivery. [`group_for_batching`] decides which claimed deliveries
//! go out together (one group per webhook and batch key); the worker then
//! forms each group into batches of at most `max_items` in the database,
//! renders the members' payloads into one JSON array ([`batch_body`]) and
//! sends it signed once under the batch's own message id.
//!
//! To change batching, edit this file; the batch rows themselves (forming,
//! members, stored payloads) are written by `storage::deliveries`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::deliverer::{previous_stages, rendered, stored_payload};
use super::leases::{Held, lease_until};
use super::outcome::{give_up, parked, retry_later};
use super::recorder::{Recorded, ToRecord};
use super::{Context, DeliveryWorker};
use crate::domain::time::now_micros;
use crate::outbound::payload::BuiltPayload;
use crate::plugins::abi;
use crate::storage::StoreError;
use crate::storage::deliveries::{self, AttemptResult, ClaimedDelivery};
use crate::storage::lead_events;
use crate::storage::webhooks::Webhook;

/// Claimed deliveries, sorted for sending.
#[derive(Debug)]
pub(super) struct Grouped<C> {
    /// Messages of a batching webhook that share a batch key, in claim
    /// order, with the first one's context: each group is one task.
    pub(super) groups: Vec<(Vec<ClaimedDelivery>, C)>,
    /// Everything else, sent one by one: messages of webhooks that do not
    /// batch (or no longer do), and batches formed earlier.
    pub(super) singles: Vec<(ClaimedDelivery, C)>,
}

/// Sorts claimed deliveries into batch groups and singles. `batching` says
/// whether a delivery's webhook batches now.
pub(super) fn group_for_batching<C>(
    claimed: Vec<(ClaimedDelivery, C)>,
    batching: impl Fn(&C) -> bool,
) -> Grouped<C> {
    let mut groups: Vec<(Vec<ClaimedDelivery>, C)> = Vec::new();
    let mut singles = Vec::new();
    for (delivery, context) in claimed {
        match delivery.batch_key.clone() {
            Some(key) if batching(&context) && !delivery.is_batch() => {
                let existing = groups.iter_mut().find(|(group, _)| {
                    group.first().is_some_and(|first| {
                        first.webhook_id == delivery.webhook_id
                            && first.batch_key.as_deref() == Some(key.as_str())
                    })
                });
                match existing {
                    Some((group, _)) => group.push(delivery),
                    None => groups.push((vec![delivery], context)),
                }
            }
            _ => singles.push((delivery, context)),
        }
    }
    Grouped { groups, singles }
}

/// The body of a batch: the members' JSON bodies as one array.
fn batch_body(bodies: &[String]) -> BuiltPayload {
    BuiltPayload {
        body: format!("[{}]", bodies.join(",")),
        content_type: "application/json".into(),
        headers: BTreeMap::new(),
    }
}

/// A member's payload can go into a batch only if it is JSON.
fn check_member(member_id: &str, payload: &BuiltPayload) -> Result<(), BatchFailure> {
    if abi::is_json(&payload.content_type) {
        Ok(())
    } else {
        Err(BatchFailure::Permanent(format!(
            "a batch is a JSON array, but the payload of message {member_id} is {}",
            payload.content_type
        )))
    }
}

/// Why a batch could not be built.
#[derive(Debug, PartialEq, Eq)]
enum BatchFailure {
    /// The database: retried on the schedule.
    Transient(String),
    /// A payload plugin failed, or a payload is not JSON: fails the batch.
    Permanent(String),
}

impl DeliveryWorker {
    /// Claimed deliveries of one batching webhook and key: made into
    /// batches of at most `max_items` (with other deliveries waiting under
    /// the key) and sent one after the other, each batch claimed by this
    /// worker and recorded as soon as it is done. Stops forming batches
    /// once the worker is stopping (or the database fails); what is left is
    /// given back.
    pub(super) async fn process_group(
        &self,
        group: Vec<ClaimedDelivery>,
        mut held: HashMap<String, Held>,
        context: Arc<Context>,
        results: &mpsc::UnboundedSender<ToRecord>,
        stopped: &watch::Receiver<bool>,
    ) {
        let mut held_by = |id: &str| held.remove(id).into_iter().collect::<Vec<Held>>();
        let Some(webhook) = &context.webhook else {
            for delivery in &group {
                let result = self.new_result(delivery, None);
                let recorded = give_up(result, "the webhook no longer exists".into());
                let _ = results.send((recorded, held_by(&delivery.id)));
            }
            return;
        };
        if !webhook.settings.active {
            for delivery in &group {
                let result = self.new_result(delivery, Some(webhook));
                let recorded = parked(result, webhook.disabled_reason.as_deref());
                let _ = results.send((recorded, held_by(&delivery.id)));
            }
            return;
        }
        let db = &self.deliverer.db;
        let mut remaining: Vec<&ClaimedDelivery> = group.iter().collect();
        while let Some(first) = remaining.first().copied() {
            if *stopped.borrow() {
                break;
            }
            let now = now_micros();
            let lease_until = lease_until(now, self.config.lease);
            let formed = deliveries::form_batch(
                db,
                first,
                webhook.settings.batching.max_items,
                lease_until,
                now,
            )
            .await;
            let (batch, members) = match formed {
                Ok(Some(formed)) => formed,
                // `first` went into another batch meanwhile.
                Ok(None) => {
                    remaining.remove(0);
                    held_by(&first.id);
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, webhook = %webhook.id, "cannot form a batch; its deliveries are given back");
                    break;
                }
            };
            let batch_held = self.held.hold(&batch.id);
            // The members are the batch's now: their own claims are gone.
            remaining.retain(|delivery| {
                delivery.id != first.id && !members.iter().any(|member| member.id == delivery.id)
            });
            held_by(&first.id);
            for member in &members {
                held_by(&member.id);
            }
            let result = self.new_result(&batch, Some(webhook));
            let recorded = self
                .process_batch(result, &batch, webhook, Some(members))
                .await;
            let _ = results.send((recorded, vec![batch_held]));
        }
        // Stopping, or the database failed: what was not batched is given
        // back rather than held until this worker stops renewing it.
        if !remaining.is_empty() {
            let left: Vec<String> = remaining
                .iter()
                .map(|delivery| delivery.id.clone())
                .collect();
            if let Err(error) = deliveries::release(db, &self.holder, &left).await {
                tracing::error!(%error, "cannot give claimed deliveries back; their leases lapse");
            }
        }
    }

    /// Sends a batch: its stored body, or the members' payloads (rendered
    /// now unless stored) as one JSON array, signed once under the batch's
    /// own message id.
    pub(super) async fn process_batch(
        &self,
        mut result: AttemptResult,
        batch: &ClaimedDelivery,
        webhook: &Webhook,
        members: Option<Vec<ClaimedDelivery>>,
    ) -> Recorded {
        let payload = match stored_payload(batch) {
            Some(payload) => payload,
            None => {
                let members = match members {
                    Some(members) => members,
                    None => match deliveries::batch_members(&self.deliverer.db, &batch.id).await {
                        Ok(members) => members,
                        Err(error) => {
                            return retry_later(
                                result,
                                batch,
                                webhook,
                                format!("cannot read the batch's messages: {error}"),
                            );
                        }
                    },
                };
                match self.render_batch(webhook, &members).await {
                    Ok(payload) => {
                        result.rendered = Some(rendered(&payload));
                        payload
                    }
                    Err(BatchFailure::Transient(error)) => {
                        return retry_later(result, batch, webhook, error);
                    }
                    Err(BatchFailure::Permanent(error)) => return give_up(result, error),
                }
            }
        };
        self.send_and_decide(result, batch, webhook, &batch.id, &[], &payload)
            .await
    }

    /// The members' payloads as one JSON array; each member keeps its own
    /// rendered payload, so that it can be resent alone.
    async fn render_batch(
        &self,
        webhook: &Webhook,
        members: &[ClaimedDelivery],
    ) -> Result<BuiltPayload, BatchFailure> {
        let db = &self.deliverer.db;
        let transient = |error: StoreError| BatchFailure::Transient(error.to_string());
        let event_ids: Vec<&str> = members
            .iter()
            .filter(|member| member.payload_body.is_none())
            .filter_map(|member| member.event_id.as_deref())
            .collect();
        let events = lead_events::events_by_id(db, &event_ids)
            .await
            .map_err(transient)?;
        let stages = previous_stages(db, events.values())
            .await
            .map_err(transient)?;
        let mut bodies = Vec::with_capacity(members.len());
        let mut newly_rendered = Vec::new();
        for member in members {
            let payload = match stored_payload(member) {
                Some(payload) => payload,
                None => {
                    let event = member
                        .event_id
                        .as_ref()
                        .and_then(|id| events.get(id))
                        .ok_or_else(|| {
                            BatchFailure::Permanent(format!(
                                "the event of message {} no longer exists",
                                member.id
                            ))
                        })?;
                    let (_, document) = self
                        .deliverer
                        .event_document(member, webhook, event, &stages)
                        .await
                        .map_err(transient)?;
                    let payload =
                        self.deliverer
                            .render(webhook, &document)
                            .await
                            .map_err(|error| {
                                let message = format!("message {}: {error}", member.id);
                                if error.transient {
                                    BatchFailure::Transient(message)
                                } else {
                                    BatchFailure::Permanent(message)
                                }
                            })?;
                    newly_rendered.push((member.id.clone(), rendered(&payload)));
                    payload
                }
            };
            check_member(&member.id, &payload)?;
            bodies.push(payload.body);
        }
        deliveries::save_payloads(db, &newly_rendered)
            .await
            .map_err(transient)?;
        Ok(batch_body(&bodies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::deliveries::BATCH_EVENT;

    /// A claimed message `id` of `webhook`, with a batch key or none.
    fn claimed(id: &str, webhook: &str, key: Option<&str>) -> ClaimedDelivery {
        ClaimedDelivery {
            id: id.into(),
            account_id: "acc_1".into(),
            webhook_id: webhook.into(),
            event_id: Some(format!("evt_{id}")),
            event_type: "lead.created".into(),
            attempt_count: 0,
            next_trigger: "schedule".into(),
            batch_key: key.map(Into::into),
            payload_body: None,
            payload_content_type: None,
            payload_headers: None,
            claimed_by: String::new(),
        }
    }

    fn batch_row(id: &str, webhook: &str, key: &str) -> ClaimedDelivery {
        ClaimedDelivery {
            event_id: None,
            event_type: BATCH_EVENT.into(),
            ..claimed(id, webhook, Some(key))
        }
    }

    /// Group ids and single ids, for comparing.
    fn ids(grouped: &Grouped<bool>) -> (Vec<Vec<&str>>, Vec<&str>) {
        (
            grouped
                .groups
                .iter()
                .map(|(group, _)| group.iter().map(|d| d.id.as_str()).collect())
                .collect(),
            grouped.singles.iter().map(|(d, _)| d.id.as_str()).collect(),
        )
    }

    #[test]
    fn claimed_deliveries_group_by_webhook_and_key() {
        // (claimed deliveries with whether their webhook batches, groups, singles)
        type Case = (
            Vec<(ClaimedDelivery, bool)>,
            Vec<Vec<&'static str>>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (vec![], vec![], vec![]),
            // A webhook that does not batch: sent one by one, key or not.
            (
                vec![
                    (claimed("a", "w1", Some("*")), false),
                    (claimed("b", "w1", None), false),
                ],
                vec![],
                vec!["a", "b"],
            ),
            // A batching webhook: messages with the same key form one group,
            // in claim order.
            (
                vec![
                    (claimed("a", "w1", Some("*")), true),
                    (claimed("b", "w1", Some("*")), true),
                    (claimed("c", "w1", Some("*")), true),
                ],
                vec![vec!["a", "b", "c"]],
                vec![],
            ),
            // Different keys, or different webhooks with one key: groups of their own.
            (
                vec![
                    (claimed("a", "w1", Some("lead.created")), true),
                    (claimed("b", "w1", Some("lead.deleted")), true),
                    (claimed("c", "w2", Some("lead.created")), true),
                    (claimed("d", "w1", Some("lead.created")), true),
                ],
                vec![vec!["a", "d"], vec!["b"], vec!["c"]],
                vec![],
            ),
            // A message enqueued before batching was turned on has no key;
            // a batch formed earlier is sent as it is.
            (
                vec![
                    (claimed("a", "w1", None), true),
                    (batch_row("b", "w1", "*"), true),
                    (claimed("c", "w1", Some("*")), true),
                ],
                vec![vec!["c"]],
                vec!["a", "b"],
            ),
            // Batching turned off since the key was set.
            (
                vec![
                    (claimed("a", "w1", Some("*")), true),
                    (claimed("b", "w2", Some("*")), false),
                ],
                vec![vec!["a"]],
                vec!["b"],
            ),
        ];
        for (claimed, groups, singles) in cases {
            let grouped = group_for_batching(claimed, |batching| *batching);
            assert_eq!(ids(&grouped), (groups, singles));
        }
    }

    #[test]
    fn a_group_keeps_the_first_members_context() {
        let claimed = vec![
            (claimed("a", "w1", Some("*")), 1),
            (claimed("b", "w1", Some("*")), 2),
        ];
        let grouped = group_for_batching(claimed, |_| true);
        assert_eq!(grouped.groups.len(), 1);
        assert_eq!(grouped.groups[0].1, 1);
    }

    #[test]
    fn a_batch_is_a_json_array_of_json_payloads() {
        let bodies = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (bodies(&[]), "[]"),
            (bodies(&[r#"{"a":1}"#]), r#"[{"a":1}]"#),
            (bodies(&[r#"{"a":1}"#, "2", r#""x""#]), r#"[{"a":1},2,"x"]"#),
        ];
        for (members, expected) in cases {
            let payload = batch_body(&members);
            assert_eq!(payload.body, expected);
            assert_eq!(payload.content_type, "application/json");
            assert!(payload.headers.is_empty());
        }

        let payload = |content_type: &str| BuiltPayload {
            body: "{}".into(),
            content_type: content_type.into(),
            headers: BTreeMap::new(),
        };
        let cases = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/cloudevents+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ];
        for (content_type, accepted) in cases {
            let checked = check_member("dlv_1", &payload(content_type));
            let expected = if accepted {
                Ok(())
            } else {
                Err(BatchFailure::Permanent(format!(
                    "a batch is a JSON array, but the payload of message dlv_1 is {content_type}"
                )))
            };
            assert_eq!(checked, expected, "{content_type}");
        }
    }
}
