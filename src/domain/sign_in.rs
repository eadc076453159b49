//! Sign-in links: a random token for the email, its hash for the database.

use sha2::{Digest, Sha256};

use super::dates::{DAY, MINUTE};

/// How long a sign-in link works.
pub const LIFETIME: i64 = 15 * MINUTE;
/// How long the link that confirms a new email address works: that mailbox may be read later.
pub const NEW_EMAIL_LIFETIME: i64 = DAY;

/// A new token: 256 random bits, in hex (it goes in a URL).
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What the database keeps of a token. Anything is hashed, so a made-up token is simply
/// unknown.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed_one_way() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_ne!(hash(&a), a);
    }
}
