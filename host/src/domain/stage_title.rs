//! Funnel stage titles and the normalisation used to match stage names sent
//! by CRMs: case, surrounding space and runs of spaces, `_` and `-` do not
//! matter ("Application_Started" matches "Application Started").

use super::InvalidInput;

const MAX_TITLE_LENGTH: usize = 200;

/// A stage title as the admin wrote it (trimmed), with its matching key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageTitle {
    title: String,
    key: String,
}

impl StageTitle {
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(InvalidInput("title must not be empty".into()));
        }
        if title.chars().count() > MAX_TITLE_LENGTH {
            return Err(InvalidInput(format!(
                "title must be at most {MAX_TITLE_LENGTH} characters"
            )));
        }
        super::reject_nul("title", title)?;
        let key = matching_key(title);
        if key.is_empty() {
            return Err(InvalidInput(
                "title must contain something besides spaces, `_` and `-`".into(),
            ));
        }
        Ok(Self {
            title: title.to_owned(),
            key,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.title
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

/// The normalised form two stage names are compared by: lowercase, with each
/// run of whitespace, `_` and `-` turned into one space, and no space at
/// either end.
pub(crate) fn matching_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.chars() {
        if c.is_whitespace() || c == '_' || c == '-' {
            pending_separator = true;
            continue;
        }
        if pending_separator && !key.is_empty() {
            key.push(' ');
        }
        pending_separator = false;
        key.extend(c.to_lowercase());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_examples_all_match() {
        let expected = matching_key("Application Started");
        for variant in [
            "Application_Started",
            " application-started ",
            "APPLICATION STARTED",
            "application -_ started",
            "\tApplication\u{a0}Started\n",
        ] {
            assert_eq!(matching_key(variant), expected, "{variant:?}");
        }
        assert_eq!(expected, "application started");
    }

    #[test]
    fn different_words_do_not_match() {
        assert_ne!(
            matching_key("Application Started"),
            matching_key("ApplicationStarted")
        );
        assert_ne!(matching_key("Enrolled"), matching_key("Enrolled 2"));
    }

    #[test]
    fn titles_are_trimmed_and_checked() {
        assert_eq!(StageTitle::parse("  Inquiry ").unwrap().as_str(), "Inquiry");
        assert!(StageTitle::parse("   ").is_err());
        assert!(StageTitle::parse("__--").is_err());
        assert!(StageTitle::parse(&"x".repeat(201)).is_err());
    }
}
