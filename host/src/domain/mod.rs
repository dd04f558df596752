//! Domain values and rules, free of HTTP and SQL.
//!
//! Input is parsed here once into types that cannot be invalid (an
//! `email::EmailAddress`, a `stage_title::StageTitle`, validated
//! `lead` fields); the funnel rules (backfill forward, archive backward,
//! no-op on the same stage) are a pure function in `funnel`.
//!
//! The models of the two configurable things live here too, so that
//! `storage` (which stores them), `outbound` and `plugins` (which run them)
//! and `http` and `ui` (which edit them) share one definition:
//! `webhook` (a webhook's settings and their defaults) and [`plugin`]
//! (a plugin's kind and limits). Stored values are parsed back through the
//! same types, and a value that does not parse is an error, not a default.

pub(crate) mod actor;
pub(crate) mod delivery;
pub(crate) mod email;
pub(crate) mod funnel;
pub(crate) mod ids;
pub(crate) mod lead;
pub mod plugin;
pub(crate) mod rate_limit;
pub mod secrets;
pub(crate) mod stage_matching;
pub(crate) mod stage_title;
pub(crate) mod time;
pub(crate) mod webhook;

/// A value a user sent that breaks a rule; the message says which and how to
/// fix it, and is shown to the user as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// Refuses text containing NUL characters: PostgreSQL cannot store them, so
/// both engines refuse them alike.
pub fn reject_nul(field: &str, value: &str) -> Result<(), InvalidInput> {
    if value.contains('\0') {
        return Err(InvalidInput(format!(
            "{field} must not contain NUL (\\u0000) characters"
        )));
    }
    Ok(())
}

/// Longest name of a webhook or webhook import, in characters.
const MAX_NAME_LENGTH: usize = 200;

/// A trimmed, non-empty name of a webhook or webhook import.
pub fn parse_name(raw: &str) -> Result<String, InvalidInput> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidInput("name must not be empty".into()));
    }
    reject_nul("name", name)?;
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(InvalidInput(format!(
            "name must be at most {MAX_NAME_LENGTH} characters"
        )));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  CRM sync ").unwrap(), "CRM sync");
        assert_eq!(parse_name(" \t").unwrap_err().0, "name must not be empty");
        assert_eq!(
            parse_name("a\0b").unwrap_err().0,
            "name must not contain NUL (\\u0000) characters"
        );
        assert_eq!(parse_name(&"é".repeat(200)).unwrap().chars().count(), 200);
        assert_eq!(
            parse_name(&"é".repeat(201)).unwrap_err().0,
            "name must be at most 200 characters"
        );
    }
}
