//! Identifiers: a short prefix naming the resource, then a ULID, so ids sort
//! by creation time and a stray id in a log says what it points at.

/// Kinds of objects that get a generated id.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Account,
    ApiKey,
    FunnelStage,
    Lead,
    FunnelEvent,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::Account => "acct",
            IdKind::ApiKey => "key",
            IdKind::FunnelStage => "stage",
            IdKind::Lead => "lead",
            IdKind::FunnelEvent => "fev",
        }
    }
}

/// A new, unique id such as `lead_01JDQ4W0Y3R7K2M8N6P5T9V1XZ`.
pub fn new_id(kind: IdKind) -> String {
    format!("{}_{}", kind.prefix(), ulid::Ulid::new())
}

/// `count` new ids of one kind that sort in the order they were made, even
/// within one millisecond (events written by one funnel move).
pub fn new_ordered_ids(kind: IdKind, count: usize) -> Vec<String> {
    let mut generator = ulid::Generator::new();
    (0..count)
        .map(|_| {
            let ulid = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
            format!("{}_{}", kind.prefix(), ulid)
        })
        .collect()
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
    fn ordered_ids_sort_in_creation_order() {
        let ids = new_ordered_ids(IdKind::FunnelEvent, 50);
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
