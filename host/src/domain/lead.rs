//! Lead fields and their rules: a valid email is required, text fields are
//! trimmed (blank means absent) and bounded, the score is an integer.

use super::InvalidInput;
use super::email::EmailAddress;

/// Longest value accepted for `notes`.
pub(crate) const MAX_NOTES_LENGTH: usize = 10_000;
/// Longest value accepted for every other text field.
pub(crate) const MAX_TEXT_LENGTH: usize = 500;

/// Every stored field of a lead except its id, stage and times, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeadFields {
    pub email: EmailAddress,
    pub company: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub position: Option<String>,
    pub twitter: Option<String>,
    pub linkedin: Option<String>,
    pub notes: Option<String>,
    pub score: i64,
}

impl LeadFields {
    /// A lead known by its email alone: every other field absent, score 0.
    pub(crate) fn with_email(email: EmailAddress) -> Self {
        Self {
            email,
            company: None,
            first_name: None,
            last_name: None,
            phone: None,
            website: None,
            position: None,
            twitter: None,
            linkedin: None,
            notes: None,
            score: 0,
        }
    }
}

/// Trims an optional text field; a blank value is stored as absent. Too long
/// a value is refused with the field's name and limit.
pub(crate) fn optional_text(
    field: &str,
    value: Option<String>,
) -> Result<Option<String>, InvalidInput> {
    let Some(value) = value else {
        return Ok(None);
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    super::reject_nul(field, trimmed)?;
    let limit = if field == "notes" {
        MAX_NOTES_LENGTH
    } else {
        MAX_TEXT_LENGTH
    };
    if trimmed.chars().count() > limit {
        return Err(InvalidInput(format!(
            "{field} must be at most {limit} characters"
        )));
    }
    Ok(Some(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_absent_and_text_is_trimmed() {
        assert_eq!(optional_text("company", Some("  ".into())), Ok(None));
        assert_eq!(optional_text("company", None), Ok(None));
        assert_eq!(
            optional_text("company", Some(" Acme ".into())),
            Ok(Some("Acme".into()))
        );
    }

    #[test]
    fn nul_characters_are_refused() {
        let error = optional_text("notes", Some("a\0b".into())).unwrap_err();
        assert_eq!(error.0, "notes must not contain NUL (\\u0000) characters");
    }

    #[test]
    fn limits_name_the_field() {
        let long = "x".repeat(MAX_TEXT_LENGTH + 1);
        let error = optional_text("phone", Some(long.clone())).unwrap_err();
        assert!(error.0.starts_with("phone must be at most 500"));
        assert!(optional_text("notes", Some(long)).is_ok());
    }
}
