//! Staff passwords: argon2id with its default parameters (19 MiB, 2 passes), stored as a PHC
//! string (algorithm, parameters and salt with the hash). Hashing takes tens of milliseconds
//! of CPU by design: callers run it off the async threads (`spawn_blocking`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` is the one `stored` was made from; `false` for a malformed `stored`.
pub fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of nothing anyone knows, to check against when the email is unknown: the answer
/// then takes as long as for a real account, and tells nothing.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash(&hex::encode(rand::random::<[u8; 16]>())).unwrap_or_default()
    });
    &DECOY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let stored = hash("une phrase assez longue").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&stored, "une phrase assez longue"));
        assert!(!verify(&stored, "une phrase assez longue!"));
        assert_ne!(stored, hash("une phrase assez longue").unwrap(), "salted");
        assert!(!verify("pas un hash", "x"));
        assert!(!verify(decoy(), ""));
    }
}
