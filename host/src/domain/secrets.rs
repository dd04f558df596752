//! Every secret Switchyard generates, from the OS's random source:
//!
//! - bearer secrets (admin API keys, import tokens), stored only as a
//!   SHA-256 digest. They carry 256 bits of entropy, so a fast digest is
//!   enough; a slow password hash would only slow every request down;
//! - webhook signing secrets, stored as they are, since Switchyard signs
//!   with them (`outbound::signing`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::distr::Alphanumeric;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// A freshly generated secret: the plain text is shown to the user once, the
/// digest is what gets stored.
pub struct NewSecret {
    pub plain: String,
    pub digest: String,
}

/// Characters of randomness in a secret: 43 alphanumerics carry 256 bits.
const SECRET_LENGTH: usize = 43;

/// Generates `<prefix>_<43 letters and digits>`; letters and digits only, so
/// a double-click selects the whole secret.
pub fn generate(prefix: &str) -> NewSecret {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(SECRET_LENGTH)
        .map(char::from)
        .collect();
    let plain = format!("{prefix}_{random}");
    let digest = digest(&plain);
    NewSecret { plain, digest }
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn digest(plain: &str) -> String {
    sha256_hex(plain.as_bytes())
}

/// Lowercase hex SHA-256 of any bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Prefix of webhook signing secrets, as the Standard Webhooks libraries
/// expect.
pub const SIGNING_SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new signing secret (the spec allows 24 to 64).
const SIGNING_SECRET_BYTES: usize = 32;

/// A new webhook signing secret: `whsec_<base64 of 32 random bytes>`.
pub fn generate_signing_secret() -> String {
    let mut key = [0u8; SIGNING_SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("{SIGNING_SECRET_PREFIX}{}", STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_unique_and_digest_consistently() {
        let a = generate("sk");
        let b = generate("sk");
        assert!(a.plain.starts_with("sk_"));
        assert_eq!(a.plain.len(), "sk_".len() + SECRET_LENGTH);
        assert!(
            a.plain["sk_".len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.digest, digest(&a.plain));
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.digest.len(), 64);
    }
}
