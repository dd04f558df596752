//! Email addresses, checked once at the edge.

use super::InvalidInput;

/// A syntactically plausible email address, trimmed. The check is
/// deliberately modest (one `@`, a dotted domain, no spaces): the only real
/// proof an address works is a message arriving, and rejecting valid but
/// unusual addresses costs users more than accepting a typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailAddress(String);

const MAX_EMAIL_LENGTH: usize = 254;

impl EmailAddress {
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let email = raw.trim();
        let invalid = |why: &str| InvalidInput(format!("email `{email}` is not valid: {why}"));
        if email.is_empty() {
            return Err(InvalidInput("email must not be empty".into()));
        }
        if email.len() > MAX_EMAIL_LENGTH {
            return Err(invalid("it is longer than 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains spaces or control characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid("it has no `@`"));
        };
        if local.is_empty() || local.contains('@') {
            return Err(invalid("it needs exactly one `@` with a name before it"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
            return Err(invalid(
                "the part after `@` must be a domain such as example.com",
            ));
        }
        Ok(Self(email.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to find duplicates: addresses differing only in case
    /// are the same person.
    pub(crate) fn lookup_key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_unusual_valid_addresses() {
        for ok in [
            "ada@example.com",
            " Ada.Lovelace+crm@mail.example.co.uk ",
            "x@a.io",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok} should be accepted");
        }
        assert_eq!(EmailAddress::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
    }

    #[test]
    fn rejects_what_cannot_be_an_address_with_a_reason() {
        for (bad, reason) in [
            ("", "empty"),
            ("ada", "no `@`"),
            ("@example.com", "name before it"),
            ("ada@localhost", "domain"),
            ("ada@example..com", "domain"),
            ("ada lovelace@example.com", "spaces"),
            ("a@b@example.com", "exactly one"),
        ] {
            let error = EmailAddress::parse(bad).expect_err(bad);
            assert!(error.0.contains(reason), "{bad}: {error}");
        }
    }

    #[test]
    fn lookup_key_ignores_case() {
        let a = EmailAddress::parse("Ada@Example.com").unwrap();
        let b = EmailAddress::parse("ada@example.COM").unwrap();
        assert_eq!(a.lookup_key(), b.lookup_key());
    }
}
