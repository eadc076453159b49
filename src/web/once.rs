//! Posts that take effect once per form token: a checkout opened, money refunded or
//! recorded, a recurring gift changed, an account or an identity changed, a news sent to
//! many. The same post sent again (a double click, a reload that resends it, the back button)
//! does nothing the second time and leads where the first one did: a donor who clicks twice
//! lands on their checkout, a team member on the refund they asked for, not on an error.
//!
//! "The same post" is the same path and the same body: the same rendering of a page (its
//! token is in the body, and new at each rendering: see `web::csrf`) sent with the same
//! entries. Entries changed after going back (another amount, another reason) are another
//! post, which acts. The key is a hash of path and body; the first post claims it before
//! acting and records what it led to after; one sent meanwhile waits for that, a few seconds
//! at most. A post that did not act (refused, invalid, a service down) lets its key go, so
//! that sending it again tries again. Viewing a page writes nothing: only a post that acts.

use std::time::Duration;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::domain::dates;
use crate::error::{AppError, Result};
use crate::store::form_submissions::{self, Claim};
use crate::web::AppState;
use crate::web::csrf::TOKEN_LIFETIME;
use crate::web::extract::{AppForm, UNREADABLE_FORM};
use crate::web::layout::Layout;

/// How long a post sent again waits for the first one to finish.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// What a post sent again is told when the first one has not finished after [`WAIT`].
const STILL_RUNNING: &str = "Votre demande est déjà en cours de traitement. Patientez quelques secondes, puis rechargez la page pour en voir le résultat.";

/// Whether a post is the first with its token.
pub enum Sending {
    /// The first: act, then say what it led to ([`FirstSending::done`]).
    First(FirstSending),
    /// Sent before: what the first one led to (a path, a Checkout Session id…; empty when it
    /// led to no page of its own).
    Again(String),
}

/// The first post of a token, holding its key until it says what it led to. Dropped without
/// [`done`](Self::done) (it failed, or did not act), it lets the key go.
pub struct FirstSending {
    db: Db,
    key: String,
    settled: bool,
}

/// A form whose post takes effect once: its fields (decoded as [`AppForm`] does), and the
/// post itself, for [`claim`].
pub struct OnceForm<T>(pub T, pub Post);

/// A post as it was sent: a hash of its path and body.
pub struct Post {
    key: String,
}

impl<T, S> FromRequest<S> for OnceForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Response> {
        let (method, uri, headers) = (
            req.method().clone(),
            req.uri().clone(),
            req.headers().clone(),
        );
        let body = match Bytes::from_request(req, state).await {
            Ok(body) => body,
            // Axum's 413, which the error layer renders as our "Envoi trop volumineux" page.
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(rejection.into_response());
            }
            Err(_) => return Err(AppError::BadRequest(UNREADABLE_FORM.to_owned()).into_response()),
        };
        let post = Post {
            key: key(uri.path(), &body),
        };
        let mut again = Request::new(Body::from(body));
        *again.method_mut() = method;
        *again.uri_mut() = uri;
        *again.headers_mut() = headers;
        let AppForm(form) = AppForm::<T>::from_request(again, state).await?;
        Ok(OnceForm(form, post))
    }
}

/// Claims `post` (whose token is checked), or finds what its first sending led to.
pub async fn claim(state: &AppState, post: &Post) -> Result<Sending> {
    let key = post.key.clone();
    let pool = state.db.pool();
    // About one post in sixteen (the key is a hash) forgets the keys of expired tokens: the
    // table keeps about a day of posts, without one more write at every post.
    if key.starts_with('0') {
        form_submissions::forget_expired(pool, dates::now() - TOKEN_LIFETIME).await?;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match form_submissions::claim(pool, &key, dates::now()).await? {
            Claim::First => {
                return Ok(Sending::First(FirstSending {
                    db: state.db.clone(),
                    key,
                    settled: false,
                }));
            }
            Claim::Done(outcome) => return Ok(Sending::Again(outcome)),
            Claim::Running if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            Claim::Running => return Err(AppError::Conflict(STILL_RUNNING.to_owned())),
        }
    }
}

/// The key of a post to `path` with `body`: only a hash is stored (the body holds personal
/// data and the token).
fn key(path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}

impl FirstSending {
    /// Records what the post led to, for the same post sent again. Said after the effect is
    /// committed; if it cannot be written, a post sent again is told to wait and reload,
    /// never made to act twice.
    pub async fn done(mut self, outcome: &str) {
        self.settled = true;
        if let Err(error) = form_submissions::complete(self.db.pool(), &self.key, outcome).await {
            tracing::error!(%error, "outcome of a form post not recorded");
        }
    }
}

impl Drop for FirstSending {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (db, key) = (self.db.clone(), std::mem::take(&mut self.key));
        tokio::spawn(async move {
            if let Err(error) = form_submissions::release(db.pool(), &key).await {
                tracing::warn!(%error, "key of a form post that did not act not let go");
            }
        });
    }
}

#[derive(Template)]
#[template(path = "already_sent.html")]
struct AlreadySentTemplate {
    layout: Layout,
    back: &'static str,
}

/// What a post sent again is shown when its first one led to no page of its own: it was
/// taken into account once, and nothing changed this time.
pub fn already_sent(state: &AppState, back: &'static str) -> Result<Response> {
    let html = AlreadySentTemplate {
        layout: Layout::new(state, "Déjà pris en compte"),
        back,
    }
    .render()?;
    let mut response = (StatusCode::OK, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn a_key_is_the_same_for_the_same_post_only() {
        let path = "/admin/dons/7/remboursement";
        let body = b"csrf_token=1000.abc.0011.ff&amount=10";
        let k = key(path, body);
        assert_eq!(k.len(), 64);
        assert_eq!(k, key(path, body));
        assert_ne!(
            k,
            key(path, b"csrf_token=1000.abc.0012.ff&amount=10"),
            "token"
        );
        assert_ne!(
            k,
            key(path, b"csrf_token=1000.abc.0011.ff&amount=15"),
            "entries"
        );
        assert_ne!(k, key("/admin/dons/8/remboursement", body), "path");
        assert!(!k.contains("abc"), "only a hash is kept");
    }
}
