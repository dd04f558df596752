//! Domain values and rules, free of HTTP and SQL.
//!
//! Input is parsed here once into types that cannot be invalid (an
//! [`email::EmailAddress`], a [`stage_title::StageTitle`], validated
//! [`lead`] fields); the funnel rules (backfill forward, archive backward,
//! no-op on the same stage) are a pure function in [`funnel`].

pub mod actor;
pub mod email;
pub mod funnel;
pub mod ids;
pub mod lead;
pub mod secrets;
pub mod stage_matching;
pub mod stage_title;
pub mod time;

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
