//! Caches of what a read found, checked against a version column: each key
//! (an account, an import) keeps the value last read for it with the
//! version it was read at, and a lookup answers only for that exact
//! version. The callers read the current version first, in the same
//! transaction or statement as the rest of their work, so whatever any
//! process changed is seen at once: a change bumps the version (see
//! [`super::fresh_version`]) and the next lookup misses.
//!
//! The instances: an account's live stages ([`super::account_funnel`]),
//! its active webhooks ([`super::webhooks`]) and an import's stage
//! directory ([`super::webhook_imports`]). They are read on every inbound
//! update and every event, so a lookup is one lock, one hash lookup and
//! an `Arc` clone.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Values per key, each with the version it was read at. `V` is the
/// version (a column, or a tuple of columns when the value depends on
/// several); past `MAX_KEYS` keys the cache starts over.
pub(crate) struct VersionedCache<T, V = i64, const MAX_KEYS: usize = { usize::MAX }> {
    entries: Mutex<HashMap<String, (V, Arc<T>)>>,
}

impl<T, V, const MAX_KEYS: usize> Default for VersionedCache<T, V, MAX_KEYS> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T, V, const MAX_KEYS: usize> fmt::Debug for VersionedCache<T, V, MAX_KEYS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("VersionedCache")
            .field("keys", &keys)
            .finish()
    }
}

impl<T, V: PartialEq, const MAX_KEYS: usize> VersionedCache<T, V, MAX_KEYS> {
    /// The value cached for `key`, if it was read at `version`.
    pub(crate) fn get(&self, key: &str, version: V) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((cached, value)) if *cached == version => Some(Arc::clone(value)),
            _ => None,
        }
    }

    /// Keeps `value` as read for `key` at `version`, replacing what was
    /// kept for the key.
    pub(crate) fn put(&self, key: &str, version: V, value: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_KEYS {
            entries.clear();
        }
        entries.insert(key.to_owned(), (version, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_served_only_at_the_version_it_was_read_at() {
        let cache: VersionedCache<Vec<&str>> = VersionedCache::default();
        assert_eq!(cache.get("acc_1", 7), None);
        cache.put("acc_1", 7, Arc::new(vec!["lead"]));
        assert_eq!(cache.get("acc_1", 7).as_deref(), Some(&vec!["lead"]));
        assert_eq!(cache.get("acc_1", 8), None, "a bumped version misses");
        assert_eq!(cache.get("acc_2", 7), None, "keys are independent");
    }

    #[test]
    fn a_read_at_a_new_version_replaces_the_old_one() {
        let cache: VersionedCache<&str> = VersionedCache::default();
        cache.put("acc_1", 7, Arc::new("before"));
        cache.put("acc_1", -3, Arc::new("after"));
        assert_eq!(cache.get("acc_1", 7), None);
        assert_eq!(cache.get("acc_1", -3).as_deref(), Some(&"after"));
    }

    #[test]
    fn a_lookup_shares_the_cached_value() {
        let cache: VersionedCache<String> = VersionedCache::default();
        let value = Arc::new("stages".to_owned());
        cache.put("acc_1", 1, Arc::clone(&value));
        let found = cache.get("acc_1", 1).expect("cached");
        assert!(Arc::ptr_eq(&found, &value));
    }

    #[test]
    fn every_part_of_a_tuple_version_must_match() {
        let cache: VersionedCache<&str, (i64, i64)> = VersionedCache::default();
        cache.put("imp_1", (1, 10), Arc::new("directory"));
        assert_eq!(cache.get("imp_1", (1, 10)).as_deref(), Some(&"directory"));
        assert_eq!(cache.get("imp_1", (2, 10)), None, "the import changed");
        assert_eq!(cache.get("imp_1", (1, 11)), None, "the funnel changed");
    }

    #[test]
    fn past_its_most_keys_the_cache_starts_over() {
        let cache: VersionedCache<u32, i64, 2> = VersionedCache::default();
        cache.put("a", 1, Arc::new(1));
        cache.put("b", 1, Arc::new(2));
        cache.put("c", 1, Arc::new(3));
        assert_eq!(cache.get("a", 1), None);
        assert_eq!(cache.get("b", 1), None);
        assert_eq!(cache.get("c", 1).as_deref(), Some(&3));
    }
}
