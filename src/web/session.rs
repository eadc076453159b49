//! Visitor sessions (tower-sessions, stored in the same database) and what Obole keeps in
//! them, typed: the donation form to re-fill after a cancelled checkout, and the checkouts
//! this browser started (their ids are secrets only it may present). A session row is
//! written only when a form is sent: the form's CSRF token needs none (see `web::csrf`).

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::db::Db;
use crate::domain::gift::GiftForm;
use crate::error::AppError;

const COOKIE: &str = "obole_session";
const DRAFTS_KEY: &str = "gift_drafts";
/// How many gifts started in one browser can be taken up again.
const MAX_DRAFTS: usize = 5;
/// Sessions live a day after the last request: long enough to come back from a checkout.
const INACTIVITY: time::Duration = time::Duration::days(1);

/// Whether `cookie` (`name=value`) is a visitor's session: pages are then personal.
pub fn is_session_cookie(cookie: &str) -> bool {
    cookie
        .split_once('=')
        .is_some_and(|(name, _)| name.trim() == COOKIE)
}

/// Adds the session layer, its store in the same database. `secure` is off only on
/// plain-http URLs.
pub async fn add_layer<S>(router: Router<S>, db: &Db, secure: bool) -> sqlx::Result<Router<S>>
where
    S: Clone + Send + Sync + 'static,
{
    // Expired sessions are deleted by the job worker's housekeeping.
    let store = db.session_store().await?;
    let layer = SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(INACTIVITY));
    Ok(router.layer(layer))
}

/// The back-office's own session: another cookie, sent only to `/admin` and never from
/// another site (`SameSite=Strict`), so that a staff session and a supporter's never mix.
pub async fn add_staff_layer<S>(router: Router<S>, db: &Db, secure: bool) -> sqlx::Result<Router<S>>
where
    S: Clone + Send + Sync + 'static,
{
    let store = db.session_store().await?;
    let layer = SessionManagerLayer::new(store)
        .with_name(STAFF_COOKIE)
        .with_path("/admin")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    Ok(router.layer(layer))
}

const STAFF_COOKIE: &str = "obole_staff";

/// The visitor's session, with Obole's typed accessors.
pub struct Visitor(Session);

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Session::from_request_parts(parts, state)
            .await
            .map(Visitor)
            .map_err(|(_, message)| {
                AppError::Other(anyhow::anyhow!("session unavailable: {message}"))
            })
    }
}

/// A draft of the donation form, for one campaign, and the checkout it started.
#[derive(serde::Serialize, serde::Deserialize)]
struct Draft {
    campaign: String,
    form: GiftForm,
    checkout_session: Option<String>,
}

impl Visitor {
    /// Keeps the form that started `checkout_session`, to fill it again if the donor comes
    /// back. The last few are kept, newest first: a donor may start another gift before the
    /// bank rejects the first one.
    pub async fn save_draft(
        &self,
        campaign: &str,
        form: &GiftForm,
        checkout_session: &str,
    ) -> Result<(), AppError> {
        let mut drafts = self.drafts().await?;
        drafts.retain(|d| d.checkout_session.as_deref() != Some(checkout_session));
        drafts.insert(
            0,
            Draft {
                campaign: campaign.to_owned(),
                form: form.clone(),
                checkout_session: Some(checkout_session.to_owned()),
            },
        );
        drafts.truncate(MAX_DRAFTS);
        self.0
            .insert(DRAFTS_KEY, drafts)
            .await
            .map_err(session_error)
    }

    /// The newest draft for this campaign; with `checkout_session`, the draft of that very
    /// checkout (not the last gift started in this browser).
    pub async fn draft(
        &self,
        campaign: &str,
        checkout_session: Option<&str>,
    ) -> Result<Option<GiftForm>, AppError> {
        Ok(self
            .drafts()
            .await?
            .into_iter()
            .filter(|d| d.campaign == campaign)
            .find(|d| {
                checkout_session.is_none() || d.checkout_session.as_deref() == checkout_session
            })
            .map(|d| d.form))
    }

    async fn drafts(&self) -> Result<Vec<Draft>, AppError> {
        Ok(self
            .0
            .get::<Vec<Draft>>(DRAFTS_KEY)
            .await
            .map_err(session_error)?
            .unwrap_or_default())
    }
}

const CHECKOUTS_KEY: &str = "checkouts";
/// How many checkouts started in one browser it can still come back to, newest first.
const MAX_CHECKOUTS: usize = 20;

impl Visitor {
    /// Remembers that this browser started `checkout_session`. A Checkout Session id names
    /// a donor, a gift and a way to pay it: the thank-you page and what it offers (resuming
    /// the payment, a monthly gift, a sign-in link) answer only the browser that started it,
    /// wherever else its URL ends up (a shared link, a screenshot, a log).
    pub async fn remember_checkout(&self, checkout_session: &str) -> Result<(), AppError> {
        let mut started = self.checkouts().await?;
        started.retain(|id| id != checkout_session);
        started.insert(0, checkout_session.to_owned());
        started.truncate(MAX_CHECKOUTS);
        self.0
            .insert(CHECKOUTS_KEY, started)
            .await
            .map_err(session_error)
    }

    /// Whether this browser started `checkout_session` (reads the session, writes nothing).
    pub async fn started_checkout(&self, checkout_session: &str) -> Result<bool, AppError> {
        Ok(self
            .checkouts()
            .await?
            .iter()
            .any(|id| id == checkout_session))
    }

    async fn checkouts(&self) -> Result<Vec<String>, AppError> {
        Ok(self
            .0
            .get::<Vec<String>>(CHECKOUTS_KEY)
            .await
            .map_err(session_error)?
            .unwrap_or_default())
    }
}

/// Who is signed in to « Mon espace », and when they were last seen.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedIn {
    supporter_id: i64,
    seen_at: i64,
}

const SIGNED_IN_KEY: &str = "supporter";
/// Signed out after this long without a request (the session itself lives longer, for the
/// donation form's drafts).
pub const SUPPORTER_INACTIVITY: i64 = 2 * 3600;
/// How often being seen is written down: not at every request.
const SEEN_EVERY: i64 = 60;

impl Visitor {
    /// Signs the supporter in, under a new session id: an id planted in the browser before
    /// (session fixation) is worth nothing after.
    pub async fn sign_in_supporter(&self, supporter_id: i64, now: i64) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(session_error)?;
        self.0
            .insert(
                SIGNED_IN_KEY,
                SignedIn {
                    supporter_id,
                    seen_at: now,
                },
            )
            .await
            .map_err(session_error)
    }

    /// The supporter signed in, unless they have been away too long.
    pub async fn supporter(&self, now: i64) -> Result<Option<i64>, AppError> {
        let Some(signed_in) = self
            .0
            .get::<SignedIn>(SIGNED_IN_KEY)
            .await
            .map_err(session_error)?
        else {
            return Ok(None);
        };
        if now - signed_in.seen_at > SUPPORTER_INACTIVITY {
            self.sign_out().await?;
            return Ok(None);
        }
        if now - signed_in.seen_at > SEEN_EVERY {
            self.0
                .insert(
                    SIGNED_IN_KEY,
                    SignedIn {
                        seen_at: now,
                        ..signed_in
                    },
                )
                .await
                .map_err(session_error)?;
        }
        Ok(Some(signed_in.supporter_id))
    }

    /// Ends the session: its data is deleted and its cookie expired.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(session_error)
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    AppError::Other(anyhow::anyhow!("session: {error}"))
}
