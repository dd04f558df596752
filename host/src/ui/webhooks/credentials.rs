//! The webhook form's authentication fields: the [`WebhookAuth`] they
//! describe, where an empty secret keeps the stored one of the same kind
//! (the page never shows a stored credential, so an edit that leaves the
//! field empty must not erase it).

use std::collections::BTreeMap;

use super::fields::WebhookForm;
use crate::domain::webhook::WebhookAuth;

impl WebhookForm {
    /// The auth these fields describe; an empty secret keeps the stored
    /// one of the same kind.
    pub(super) fn auth(&self, current: Option<&WebhookAuth>) -> Result<WebhookAuth, String> {
        match self.auth_type.as_str() {
            "" | "none" => Ok(WebhookAuth::None),
            "basic" => {
                let password = match (self.auth_password.as_str(), current) {
                    ("", Some(WebhookAuth::Basic { password, .. })) => password.clone(),
                    (typed, _) => typed.to_owned(),
                };
                Ok(WebhookAuth::Basic {
                    username: self.auth_username.trim().to_owned(),
                    password,
                })
            }
            "bearer" => {
                let token = match (self.auth_token.trim(), current) {
                    ("", Some(WebhookAuth::Bearer { token })) => token.clone(),
                    ("", _) => return Err("Enter the bearer token the receiver expects.".into()),
                    (typed, _) => typed.to_owned(),
                };
                Ok(WebhookAuth::Bearer { token })
            }
            "headers" => {
                let stored = match current {
                    Some(WebhookAuth::Headers { headers }) => headers.clone(),
                    _ => BTreeMap::new(),
                };
                let mut headers = BTreeMap::new();
                for (number, line) in self.auth_headers.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    let Some((name, value)) = line.split_once(':') else {
                        return Err(format!(
                            "Line {} of the headers needs the form “Name: value”.",
                            number + 1
                        ));
                    };
                    let (name, value) = (name.trim(), value.trim());
                    let value = match (value, stored.get(name)) {
                        ("", Some(kept)) => kept.clone(),
                        ("", None) => {
                            return Err(format!("Give the header “{name}” a value."));
                        }
                        (typed, _) => typed.to_owned(),
                    };
                    headers.insert(name.to_owned(), value);
                }
                if headers.is_empty() {
                    return Err("List at least one header, as “Name: value”.".into());
                }
                Ok(WebhookAuth::Headers { headers })
            }
            other => Err(format!(
                "Authentication must be none, basic, bearer or headers, not “{other}”."
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::webhooks::fields::tests::fields;

    #[test]
    fn empty_secrets_keep_the_stored_ones() {
        let stored = WebhookAuth::Headers {
            headers: BTreeMap::from([("X-Api-Key".to_owned(), "k1".to_owned())]),
        };
        let form = WebhookForm::from_fields(fields(&[
            ("auth_type", "headers"),
            ("auth_headers", "X-Api-Key:\nX-Tenant: acme"),
        ]));
        assert_eq!(
            form.auth(Some(&stored)),
            Ok(WebhookAuth::Headers {
                headers: BTreeMap::from([
                    ("X-Api-Key".to_owned(), "k1".to_owned()),
                    ("X-Tenant".to_owned(), "acme".to_owned()),
                ])
            })
        );
        let basic =
            WebhookForm::from_fields(fields(&[("auth_type", "basic"), ("auth_username", "ada")]));
        let stored = WebhookAuth::Basic {
            username: "old".into(),
            password: "pw".into(),
        };
        assert_eq!(
            basic.auth(Some(&stored)),
            Ok(WebhookAuth::Basic {
                username: "ada".into(),
                password: "pw".into()
            })
        );
        assert!(
            WebhookForm::from_fields(fields(&[("auth_type", "bearer")]))
                .auth(None)
                .is_err()
        );
    }
}
