//! Bearer secrets (admin API keys, import tokens): generated from the OS's
//! random source and stored only as a SHA-256 digest. The secrets carry 256
//! bits of entropy, so a fast digest is enough; a slow password hash would
//! only slow every request down.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated secret: the plain text is shown to the user once, the
/// digest is what gets stored.
pub struct NewSecret {
    pub plain: String,
    pub digest: String,
}

/// Generates `<prefix>_<43 url-safe characters>`.
pub fn generate(prefix: &str) -> NewSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let plain = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = digest(&plain);
    NewSecret { plain, digest }
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn digest(plain: &str) -> String {
    let hash = Sha256::digest(plain.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_prefixed_unique_and_digest_consistently() {
        let a = generate("sk");
        let b = generate("sk");
        assert!(a.plain.starts_with("sk_"));
        assert_eq!(a.plain.len(), "sk_".len() + 43);
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.digest, digest(&a.plain));
        assert_ne!(a.digest, b.digest);
        assert_eq!(a.digest.len(), 64);
    }
}
