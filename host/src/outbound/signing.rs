//! Signatures: Standard Webhooks
//! (<https://www.standardwebhooks.com/>) `webhook-id`, `webhook-timestamp`
//! and `webhook-signature` headers, plus the optional compatibility headers
//! `X-Webhook-Secret` (the secret itself) and `X-Hmac-Signature` (hex
//! HMAC-SHA256 of the body alone).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::secrets::{SIGNING_SECRET_PREFIX, to_hex};

/// The HMAC key of a secret: the base64 after `whsec_`. Secrets are only
/// ever made by `domain::secrets::generate_signing_secret`, so a malformed
/// one means a corrupted row; it falls back to the raw text rather than
/// failing every delivery.
fn key_bytes(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SIGNING_SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

fn hmac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_bytes(secret))
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub(crate) fn standard_signature(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let signed = hmac(
        secret,
        &[
            message_id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body,
        ],
    );
    format!("v1,{}", STANDARD.encode(signed))
}

/// Lowercase hex HMAC-SHA256 of the body alone, keyed like the standard
/// signature (the secret's bytes after `whsec_`).
pub(crate) fn body_hmac_hex(secret: &str, body: &[u8]) -> String {
    to_hex(&hmac(secret, &[body]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn generated_secrets_have_the_prefix_and_32_bytes() {
        use crate::domain::secrets::generate_signing_secret;
        let secret = generate_signing_secret();
        assert!(secret.starts_with(SIGNING_SECRET_PREFIX));
        assert_eq!(key_bytes(&secret).len(), 32);
        assert_ne!(secret, generate_signing_secret());
    }

    #[test]
    fn body_hmac_is_hex_of_the_body_alone() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let hex = body_hmac_hex(secret, b"{}");
        assert_eq!(hex.len(), 64);
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(hex, body_hmac_hex(secret, b"[]"));
    }
}
