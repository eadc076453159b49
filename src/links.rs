//! Links in emails that act for their recipient without a sign-in: the one that fixes the
//! payment method of a recurring gift, and the one that unsubscribes. A token names whom the
//! link is about and until when it works; it is signed (HMAC-SHA256) with what it is for,
//! under a server key that every instance on the database shares. Nothing is stored per link.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::domain::consent::Topic;
use crate::store::server_keys;

const KEY_NAME: &str = "links";

/// An expiry that never comes: an unsubscribe link must work as long as the email is read.
pub const NO_EXPIRY: i64 = 0;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Opens a Billing Portal session for a recurring gift (its id).
    FixPayment,
    /// Stops a topic's emails to a supporter (their id).
    Unsubscribe(Topic),
}

impl Purpose {
    /// The path the link opens, before its token.
    pub fn path(self) -> String {
        match self {
            Purpose::FixPayment => "/paiement".to_owned(),
            Purpose::Unsubscribe(topic) => format!("/desinscription/{}", topic.as_str()),
        }
    }
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not signed by us for this purpose: altered, truncated or made up.
    Forged,
    /// Genuine, but too old.
    Expired,
}

/// The key links are signed with; cheap to clone.
#[derive(Clone)]
pub struct LinkKey(Arc<[u8]>);

impl LinkKey {
    /// The database's key, created at the first start-up.
    pub async fn load(db: &Db, now: i64) -> sqlx::Result<LinkKey> {
        let secret = server_keys::load_or_create(db, KEY_NAME, now).await?;
        Ok(LinkKey(secret.into()))
    }

    fn mac(&self, purpose: Purpose, id: i64, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        // The path names the purpose: a token for one purpose is worthless for another.
        mac.update(format!("{}|{id}|{expires}", purpose.path()).as_bytes());
        mac
    }

    /// `{id}.{expires}.{mac}`.
    pub fn token(&self, purpose: Purpose, id: i64, expires: i64) -> String {
        let mac = self.mac(purpose, id, expires).finalize().into_bytes();
        format!("{id}.{expires}.{}", hex::encode(mac))
    }

    /// The absolute link.
    pub fn url(&self, base_url: &str, purpose: Purpose, id: i64, expires: i64) -> String {
        format!(
            "{base_url}{}/{}",
            purpose.path(),
            self.token(purpose, id, expires)
        )
    }

    /// The id a genuine, unexpired token names.
    pub fn verify(&self, purpose: Purpose, token: &str, now: i64) -> Result<i64, LinkError> {
        let mut parts = token.split('.');
        let (Some(id), Some(expires), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Forged);
        };
        let (Ok(id), Ok(expires), Ok(mac)) = (id.parse(), expires.parse::<i64>(), hex::decode(mac))
        else {
            return Err(LinkError::Forged);
        };
        // Compared in constant time; the rest is not secret.
        if self.mac(purpose, id, expires).verify_slice(&mac).is_err() {
            return Err(LinkError::Forged);
        }
        if expires != NO_EXPIRY && now >= expires {
            return Err(LinkError::Expired);
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &[u8]) -> LinkKey {
        LinkKey(secret.into())
    }

    #[test]
    fn a_link_works_for_its_purpose_until_it_expires() {
        let key = key(b"a test key");
        let token = key.token(Purpose::FixPayment, 42, 1_000);
        assert_eq!(key.verify(Purpose::FixPayment, &token, 999), Ok(42));
        assert_eq!(
            key.verify(Purpose::FixPayment, &token, 1_000),
            Err(LinkError::Expired)
        );
        let news = Purpose::Unsubscribe(Topic::News);
        assert_eq!(
            key.verify(news, &token, 0),
            Err(LinkError::Forged),
            "another purpose"
        );
        let forever = key.token(news, 7, NO_EXPIRY);
        assert_eq!(key.verify(news, &forever, i64::MAX), Ok(7));
        assert_eq!(
            key.verify(Purpose::Unsubscribe(Topic::Instalments), &forever, 0),
            Err(LinkError::Forged),
            "another topic"
        );
    }

    #[test]
    fn an_altered_or_foreign_token_is_forged() {
        let foreign = key(b"another key").token(Purpose::FixPayment, 42, 1_000);
        let key = key(b"a test key");
        let token = key.token(Purpose::FixPayment, 42, 1_000);
        for altered in [
            token.replacen("42.", "43.", 1),
            token.replacen(".1000.", ".9000.", 1),
            format!("{token}.1"),
            token[..token.len() - 2].to_owned(),
            "42.1000.zz".to_owned(),
            String::new(),
            "..".to_owned(),
            foreign,
        ] {
            assert_eq!(
                key.verify(Purpose::FixPayment, &altered, 0),
                Err(LinkError::Forged),
                "{altered}"
            );
        }
    }

    #[test]
    fn links_are_absolute_and_name_their_topic() {
        let key = key(b"k");
        let url = key.url(
            "https://dons.example",
            Purpose::Unsubscribe(Topic::Instalments),
            3,
            NO_EXPIRY,
        );
        assert!(
            url.starts_with("https://dons.example/desinscription/instalments/3.0."),
            "{url}"
        );
    }
}
