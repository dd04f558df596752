//! Batch delivery, the decisions. [`group_for_batching`] decides which
//! claimed deliveries go out together (one group per webhook and batch
//! key); the worker then forms each group into batches of at most
//! `max_items` in the database, renders the members' payloads, and
//! [`assemble_batch`] makes one JSON array of them ([`batch_body`]), which
//! is sent signed once under the batch's own message id. A member whose
//! payload cannot be built fails alone; the others are sent.
//!
//! To change batching, edit this file; `batch_send.rs` applies it, and the
//! batch rows themselves (forming, members, stored payloads, members failed
//! alone) are written by `storage::deliveries`.

use std::collections::BTreeMap;

use crate::outbound::payload::BuiltPayload;
use crate::plugins::abi;
use crate::storage::deliveries::ClaimedDelivery;

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
fn check_member(member_id: &str, payload: &BuiltPayload) -> Result<(), String> {
    if abi::is_json(&payload.content_type) {
        Ok(())
    } else {
        Err(format!(
            "a batch is a JSON array, but the payload of message {member_id} is {}",
            payload.content_type
        ))
    }
}

/// What a batch sends, and the members that fail alone.
#[derive(Debug)]
pub(super) struct AssembledBatch {
    /// The members that could be built, as one JSON array; `None` when
    /// none could.
    pub(super) payload: Option<BuiltPayload>,
    /// `(member id, error)` of each member whose payload could not be built
    /// or is not JSON: failed on its own, with its error.
    pub(super) failed: Vec<(String, String)>,
}

/// The batch body of the members' payloads (by member id, in batch order),
/// leaving out, each with its error, the members whose payload failed.
pub(super) fn assemble_batch(
    members: Vec<(String, Result<BuiltPayload, String>)>,
) -> AssembledBatch {
    let mut bodies = Vec::with_capacity(members.len());
    let mut failed = Vec::new();
    for (id, payload) in members {
        match payload.and_then(|payload| check_member(&id, &payload).map(|()| payload)) {
            Ok(payload) => bodies.push(payload.body),
            Err(error) => failed.push((id, error)),
        }
    }
    AssembledBatch {
        payload: (!bodies.is_empty()).then(|| batch_body(&bodies)),
        failed,
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
                Err(format!(
                    "a batch is a JSON array, but the payload of message dlv_1 is {content_type}"
                ))
            };
            assert_eq!(checked, expected, "{content_type}");
        }
    }

    #[test]
    fn a_member_whose_payload_fails_fails_alone() {
        let json = |body: &str| {
            Ok(BuiltPayload {
                body: body.into(),
                content_type: "application/json".into(),
                headers: BTreeMap::new(),
            })
        };
        let form = Ok(BuiltPayload {
            body: "a=1".into(),
            content_type: "application/x-www-form-urlencoded".into(),
            headers: BTreeMap::new(),
        });
        let failed = |message: &str| Err(message.to_owned());
        let member = |id: &str, payload| (id.to_owned(), payload);
        // (members, body sent, failed members)
        type Case = (
            Vec<(String, Result<BuiltPayload, String>)>,
            Option<&'static str>,
            Vec<(&'static str, String)>,
        );
        let cases: Vec<Case> = vec![
            (vec![], None, vec![]),
            (
                vec![member("a", json(r#"{"n":1}"#)), member("b", json("2"))],
                Some(r#"[{"n":1},2]"#),
                vec![],
            ),
            // The plugin failed for b: a and c go, in order, b fails with
            // its own error.
            (
                vec![
                    member("a", json("1")),
                    member("b", failed("payload builder small failed: out of fuel")),
                    member("c", json("3")),
                ],
                Some("[1,3]"),
                vec![("b", "payload builder small failed: out of fuel".into())],
            ),
            // Not JSON: cannot go into an array.
            (
                vec![member("a", form.clone()), member("b", json("2"))],
                Some("[2]"),
                vec![(
                    "a",
                    "a batch is a JSON array, but the payload of message a is \
                     application/x-www-form-urlencoded"
                        .into(),
                )],
            ),
            // Every member failed: nothing to send.
            (
                vec![member("a", failed("no event")), member("b", failed("bad"))],
                None,
                vec![("a", "no event".into()), ("b", "bad".into())],
            ),
        ];
        for (members, body, failed) in cases {
            let assembled = assemble_batch(members);
            assert_eq!(
                assembled
                    .payload
                    .as_ref()
                    .map(|payload| payload.body.as_str()),
                body
            );
            if let Some(payload) = &assembled.payload {
                assert_eq!(payload.content_type, "application/json");
            }
            let failed: Vec<(String, String)> = failed
                .into_iter()
                .map(|(id, error)| (id.to_owned(), error))
                .collect();
            assert_eq!(assembled.failed, failed);
        }
    }
}
