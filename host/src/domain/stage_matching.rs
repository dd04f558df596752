//! Resolving a stage name sent by a CRM to a funnel stage: first the
//! import's own mappings, then the account's stage titles, both compared by
//! [`matching_key`].

use std::collections::HashMap;

use super::stage_title::matching_key;

/// A funnel stage a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedStage {
    pub id: String,
    pub title: String,
}

/// Everything needed to resolve names for one import, loaded once per
/// request.
#[derive(Debug, Default, Clone)]
pub(crate) struct StageDirectory {
    mapped: HashMap<String, ResolvedStage>,
    titled: HashMap<String, ResolvedStage>,
}

impl StageDirectory {
    /// `mappings` are (external name, stage); `stages` are the live stages.
    pub(crate) fn new(
        mappings: impl IntoIterator<Item = (String, ResolvedStage)>,
        stages: impl IntoIterator<Item = ResolvedStage>,
    ) -> Self {
        Self {
            mapped: mappings
                .into_iter()
                .map(|(name, stage)| (matching_key(&name), stage))
                .collect(),
            titled: stages
                .into_iter()
                .map(|stage| (matching_key(&stage.title), stage))
                .collect(),
        }
    }

    /// The stage `name` means, if any.
    pub(crate) fn resolve(&self, name: &str) -> Option<&ResolvedStage> {
        let key = matching_key(name);
        self.mapped.get(&key).or_else(|| self.titled.get(&key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, title: &str) -> ResolvedStage {
        ResolvedStage {
            id: id.into(),
            title: title.into(),
        }
    }

    fn directory() -> StageDirectory {
        StageDirectory::new(
            [
                ("lead".to_owned(), stage("s1", "Inquiry")),
                // A mapping wins over a title that normalises the same way.
                ("Enrolled".to_owned(), stage("s2", "Application Started")),
            ],
            [
                stage("s1", "Inquiry"),
                stage("s2", "Application Started"),
                stage("s3", "Enrolled"),
            ],
        )
    }

    #[test]
    fn mappings_come_first_then_titles_both_normalised() {
        let directory = directory();
        assert_eq!(
            directory.resolve(" LEAD ").map(|s| s.id.as_str()),
            Some("s1")
        );
        assert_eq!(
            directory.resolve("enrolled").map(|s| s.id.as_str()),
            Some("s2")
        );
        assert_eq!(
            directory
                .resolve("application_started")
                .map(|s| s.title.as_str()),
            Some("Application Started")
        );
        assert_eq!(directory.resolve("Application-Complete"), None);
        assert_eq!(directory.resolve(""), None);
    }
}
