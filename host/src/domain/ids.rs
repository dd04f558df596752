//! Identifiers: a short prefix naming the resource, then a ULID, so ids sort
//! by creation time and a stray id in a log says what it points at.

/// Kinds of objects that get a generated id.
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Clone, Copy)]
pub(crate) enum IdKind {
    Account,
    ApiKey,
    FunnelStage,
    Lead,
    FunnelEvent,
    LeadEvent,
    WebhookImport,
    Plugin,
    Webhook,
    Delivery,
    DeliveryAttempt,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::Account => "acct",
            IdKind::ApiKey => "key",
            IdKind::FunnelStage => "stage",
            IdKind::Lead => "lead",
            IdKind::FunnelEvent => "fev",
            IdKind::LeadEvent => "evt",
            IdKind::WebhookImport => "imp",
            IdKind::Plugin => "plg",
            IdKind::Webhook => "wh",
            IdKind::Delivery => "msg",
            IdKind::DeliveryAttempt => "att",
        }
    }
}

/// One generator per process, so ids made by this process sort in the order
/// they were made even within one millisecond (ULIDs from independent calls
/// would only sort by millisecond).
static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new, unique id such as `lead_01JDQ4W0Y3R7K2M8N6P5T9V1XZ`.
pub(crate) fn new_id(kind: IdKind) -> String {
    let ulid = {
        let mut generator = GENERATOR.lock().unwrap_or_else(PoisonError::into_inner);
        generator
            .get_or_insert_with(ulid::Generator::new)
            .generate()
            // Only fails when 2^80 ids are made in one millisecond.
            .unwrap_or_else(|_| ulid::Ulid::new())
    };
    format!("{}_{}", kind.prefix(), ulid)
}

/// The smallest id of `kind` made at or after `micros` (µs since the Unix
/// epoch): ids sort by creation time, so `id < id_floor(kind, t)` selects
/// what was made before `t` through the primary key alone.
pub(crate) fn id_floor(kind: IdKind, micros: i64) -> String {
    let millis = u64::try_from(micros / 1_000).unwrap_or(0);
    format!("{}_{}", kind.prefix(), ulid::Ulid::from_parts(millis, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_are_unique() {
        let a = new_id(IdKind::Lead);
        let b = new_id(IdKind::Lead);
        assert!(a.starts_with("lead_"));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..500).map(|_| new_id(IdKind::FunnelEvent)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn id_floor_sorts_between_ids_made_before_and_after() {
        let before = new_id(IdKind::LeadEvent);
        std::thread::sleep(std::time::Duration::from_millis(3));
        let now = crate::domain::time::now_micros();
        let floor = id_floor(IdKind::LeadEvent, now);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = new_id(IdKind::LeadEvent);
        assert!(before < floor, "{before} < {floor}");
        assert!(floor < after, "{floor} < {after}");
        assert!(floor.starts_with("evt_"));
    }
}
