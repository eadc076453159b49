//! The donation form's CSRF token, which needs no server state: viewing the form writes
//! nothing to the database, so a bot loading it a million times leaves no rows behind.
//!
//! The browser gets a random nonce in a cookie (`SameSite=Lax`: a cross-site post does not
//! carry it), and the form a token `{expires}.{nonce}.{serial}.{mac}`, the MAC an
//! HMAC-SHA256 of what precedes it under a server key kept in the database (the same for
//! every instance). A post is accepted only when its token is genuine, unexpired and names the
//! nonce of the cookie that came with it: a forged site can neither read the cookie nor make a
//! token for a nonce of its own. A post the browser marks as coming from another site
//! (`Sec-Fetch-Site: cross-site`), or whose `Origin` is not ours, is refused before the token
//! is even read.
//!
//! The serial is random at each rendering of a page, so that a token names one page as it
//! was shown: the posts that move money or change who someone is take effect once per token
//! (`web::once`), and a second page opened in the same second must not share the first one's.
//! A token of the earlier shape `{expires}.{nonce}.{mac}` (a page open while Obole was
//! upgraded) is still accepted until it expires.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::domain::dates::DAY;
use crate::error::AppError;
use crate::store::server_keys;

const COOKIE: &str = "obole_form";
/// As long as a session lived after the last request: a form left open for the day still
/// goes through.
const LIFETIME: i64 = DAY;
const KEY_NAME: &str = "form";

/// What a refused post says (the same page as when the token came from the session).
const REFUSED: &str = "Votre session a expiré ou ce formulaire ne vient pas de notre site. Merci de recharger la page et de réessayer.";

/// The server key the tokens are signed with, and the site's public origin; cheap to clone.
#[derive(Clone)]
pub struct FormKey {
    secret: Arc<[u8]>,
    /// `https://dons.example.org`, from `BASE_URL`: where our pages are served.
    site: Option<Arc<str>>,
}

impl FormKey {
    /// The database's key, created at the first start-up.
    pub async fn load(db: &Db, now: i64) -> sqlx::Result<FormKey> {
        let secret = server_keys::load_or_create(db, KEY_NAME, now).await?;
        Ok(FormKey::new(&secret))
    }

    fn new(secret: &[u8]) -> FormKey {
        FormKey {
            secret: secret.into(),
            site: None,
        }
    }

    /// The same key, for pages served at `base_url` (posts from its origin are ours).
    pub fn for_site(self, base_url: &str) -> FormKey {
        let site = url::Url::parse(base_url)
            .ok()
            .map(|url| url.origin().ascii_serialization().into());
        FormKey { site, ..self }
    }

    /// Whether the `Origin` a browser sent names our site: its public origin, or the host
    /// the request was sent to (a page opened at another of the server's addresses, with
    /// no proxy between). `null` says nothing: browsers send it for our own pages whose
    /// referrer policy is `no-referrer` (« Mon espace »), so the token decides then.
    fn is_our_origin(&self, origin: &HeaderValue, headers: &HeaderMap) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if origin == "null" {
            return true;
        }
        if self.site.as_deref() == Some(origin) {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| host == Some(authority))
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        // Any key length is accepted by HMAC: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(signed.as_bytes());
        mac
    }

    /// A token for `nonce` and one rendering (`serial`), valid until `expires` (unix seconds).
    pub fn token(&self, nonce: &str, serial: &str, expires: i64) -> String {
        let signed = format!("{expires}.{nonce}.{serial}");
        let mac = self.mac(&signed).finalize().into_bytes();
        format!("{signed}.{}", hex::encode(mac))
    }

    /// Accepts `submitted` only if this key signed it for the request's cookie nonce and it
    /// has not expired at `now`.
    pub fn check(
        &self,
        headers: &HeaderMap,
        submitted: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        let refused = || AppError::Forbidden(REFUSED.to_owned());
        // A second line: the browser says the post comes from another site's page (every
        // current browser sends `Sec-Fetch-Site`; the cookie's `SameSite=Lax` is the first).
        if headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
        {
            return Err(refused());
        }
        // And for browsers without `Sec-Fetch-Site`: the `Origin` every browser sends with a
        // post.
        if let Some(origin) = headers.get(header::ORIGIN)
            && !self.is_our_origin(origin, headers)
        {
            return Err(refused());
        }
        let cookie = cookie_nonce(headers).ok_or_else(refused)?;
        let (signed, mac) = submitted
            .ok_or_else(refused)?
            .rsplit_once('.')
            .ok_or_else(refused)?;
        // `{expires}.{nonce}.{serial}`, or the earlier `{expires}.{nonce}`.
        let mut parts = signed.split('.');
        let (Some(expires), Some(nonce), serial, None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        if serial.is_some_and(str::is_empty) {
            return Err(refused());
        }
        let expires: i64 = expires.parse().map_err(|_| refused())?;
        let mac = hex::decode(mac).map_err(|_| refused())?;
        // The MAC is compared in constant time; the rest is not secret.
        let genuine = self.mac(signed).verify_slice(&mac).is_ok();
        if genuine && nonce == cookie && now < expires {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// The nonce of the form cookie the browser sent, if it has a well-formed one.
fn cookie_nonce(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, nonce)| nonce)
        .filter(|nonce| nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token for a rendering of the form, and the cookie to send with the page: the
/// browser's nonce if it has one (so that forms open in several tabs all stay valid), a new
/// one otherwise; the cookie is sent again either way, to extend its life with the token's.
/// Each rendering has a serial of its own.
pub fn for_form(
    key: &FormKey,
    headers: &HeaderMap,
    secure: bool,
    now: i64,
) -> (String, HeaderValue) {
    let nonce = cookie_nonce(headers)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={nonce}; Path=/; Max-Age={LIFETIME}; HttpOnly; SameSite=Lax{secure}");
    let cookie = HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| unreachable!("the cookie is made of ASCII letters and digits"));
    let serial = &uuid::Uuid::new_v4().simple().to_string()[..16];
    (key.token(&nonce, serial, now + LIFETIME), cookie)
}

/// How long a token lives: a post older than this was refused anyway.
pub const TOKEN_LIFETIME: i64 = LIFETIME;

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FormKey {
        FormKey::new(b"a test key").for_site("https://dons.example.org/")
    }

    fn with_cookie(nonce: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE}={nonce}")).unwrap(),
        );
        headers
    }

    const NONCE: &str = "0123456789abcdef0123456789abcdef";
    const SERIAL: &str = "00112233aabbccdd";

    #[test]
    fn a_post_a_browser_says_comes_from_another_site_is_refused_even_with_its_token() {
        let token = key().token(NONCE, SERIAL, 1_000);
        for (site, accepted) in [("same-origin", true), ("none", true), ("cross-site", false)] {
            let mut headers = with_cookie(NONCE);
            headers.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert_eq!(
                key().check(&headers, Some(&token), 0).is_ok(),
                accepted,
                "{site}"
            );
        }
    }

    #[test]
    fn a_post_whose_origin_is_not_our_site_is_refused_even_with_its_token() {
        let token = key().token(NONCE, SERIAL, 1_000);
        for (origin, host, accepted) in [
            (None, "dons.example.org", true),
            (Some("https://dons.example.org"), "127.0.0.1:3000", true),
            (Some("http://127.0.0.1:3000"), "127.0.0.1:3000", true),
            (Some("https://evil.example"), "dons.example.org", false),
            (
                Some("https://dons.example.org.evil.example"),
                "dons.example.org",
                false,
            ),
            (Some("null"), "dons.example.org", true),
        ] {
            let mut headers = with_cookie(NONCE);
            headers.insert(header::HOST, HeaderValue::from_static(host));
            if let Some(origin) = origin {
                headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
            }
            assert_eq!(
                key().check(&headers, Some(&token), 0).is_ok(),
                accepted,
                "{origin:?} to {host}"
            );
        }
    }

    #[test]
    fn a_token_is_accepted_with_its_cookie_until_it_expires() {
        let token = key().token(NONCE, SERIAL, 1_000);
        let headers = with_cookie(NONCE);
        assert!(key().check(&headers, Some(&token), 999).is_ok());
        assert!(
            key().check(&headers, Some(&token), 1_000).is_err(),
            "expired"
        );
        let other = with_cookie("fedcba9876543210fedcba9876543210");
        assert!(
            key().check(&other, Some(&token), 0).is_err(),
            "another browser"
        );
        assert!(
            key().check(&HeaderMap::new(), Some(&token), 0).is_err(),
            "no cookie"
        );
        let forged = FormKey::new(b"another key").token(NONCE, SERIAL, 1_000);
        assert!(
            key().check(&headers, Some(&forged), 0).is_err(),
            "another key"
        );
        let extended = token.replacen("1000.", "9000.", 1);
        assert!(
            key().check(&headers, Some(&extended), 0).is_err(),
            "expiry edited"
        );
        assert!(key().check(&headers, None, 0).is_err());
        assert!(key().check(&headers, Some(""), 0).is_err());
        assert!(
            key()
                .check(&headers, Some(&format!("{token}.")), 0)
                .is_err()
        );
    }

    #[test]
    fn a_serial_edited_or_dropped_is_refused_and_the_earlier_shape_still_passes() {
        let headers = with_cookie(NONCE);
        let token = key().token(NONCE, SERIAL, 1_000);
        let edited = token.replacen(SERIAL, "00112233aabbccde", 1);
        assert!(key().check(&headers, Some(&edited), 0).is_err());
        let mac = token.rsplit('.').next().unwrap();
        let dropped = format!("1000.{NONCE}.{mac}");
        assert!(key().check(&headers, Some(&dropped), 0).is_err());
        let emptied = format!("1000.{NONCE}..{mac}");
        assert!(key().check(&headers, Some(&emptied), 0).is_err());
        // `{expires}.{nonce}.{mac}`, as pages made before serials were.
        let earlier = format!(
            "1000.{NONCE}.{}",
            hex::encode(key().mac(&format!("1000.{NONCE}")).finalize().into_bytes())
        );
        assert!(key().check(&headers, Some(&earlier), 0).is_ok());
        assert!(key().check(&headers, Some(&earlier), 1_000).is_err());
    }

    #[test]
    fn the_form_keeps_the_browsers_nonce_or_makes_one() {
        let (token, cookie) = for_form(&key(), &with_cookie(NONCE), true, 0);
        assert!(token.starts_with(&format!("{LIFETIME}.{NONCE}.")));
        let (again, _) = for_form(&key(), &with_cookie(NONCE), true, 0);
        assert_ne!(token, again, "each rendering its own token");
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with(&format!("{COOKIE}={NONCE};")) && cookie.ends_with("; Secure"));
        let (token, cookie) = for_form(&key(), &HeaderMap::new(), false, 0);
        assert!(!token.contains(NONCE) && !cookie.to_str().unwrap().contains("Secure"));
    }
}
