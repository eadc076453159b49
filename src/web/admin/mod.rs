//! The back-office (`/admin`) for the fundraising team: signed in with an email and a
//! password, under their own session cookie; what each one may do depends on their role.
//!
//! - `sign_in`: signing in and out (also everywhere at once);
//! - `dashboard`: the money, the recurring gifts, the campaigns at a glance;
//! - `projects`: projects created, edited, previewed, published and closed;
//! - `campaigns`: campaigns created, edited, previewed, published and closed;
//! - `uploads`: pictures sent from a form (covers, the receipts' signature);
//! - `news`: news posted to a project, and emailed to its supporters who want it;
//! - `donations`: every donation, filtered, exported as CSV; a donor's page;
//! - `donors`: new and returning donors, retention, LYBUNT and SYBUNT;
//! - `disputes`: bank disputes to follow up;
//! - `receipts`: tax receipts searched, downloaded, cancelled and reissued; the annual run;
//!   the yearly totals to declare;
//! - `gifts`: one donation, its refund, and gifts entered by hand;
//! - `organisation`: what receipts and legal pages say of the organisation (admins);
//! - `team`: staff accounts (admins);
//! - `journal`: the audit log of every staff action (admins).

mod campaigns;
mod charts;
mod dashboard;
mod disputes;
mod donations;
mod donors;
mod gifts;
mod journal;
mod news;
mod organisation;
mod projects;
mod receipts;
mod reconciliation;
mod sign_in;
mod team;
mod uploads;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_sessions::Session;

use super::{AppState, csrf};
use crate::domain::campaign::CampaignStatus;
use crate::domain::dates;
use crate::domain::staff::{INACTIVITY, Role};
use crate::error::AppError;
use crate::media;
use crate::store::staff;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/connexion", get(sign_in::form).post(sign_in::submit))
        .route("/admin/deconnexion", post(sign_in::sign_out))
        .route(
            "/admin/deconnexion-partout",
            post(sign_in::sign_out_everywhere),
        )
        .route("/admin/equipe", get(team::show).post(team::create))
        .route("/admin/equipe/{id}/role", post(team::change_role))
        .route("/admin/equipe/{id}/acces", post(team::change_access))
        .route("/admin/journal", get(journal::show))
        .route("/admin/campagnes", get(campaigns::list))
        .route(
            "/admin/campagnes/nouvelle",
            get(campaigns::new).post(campaigns::create),
        )
        .route(
            "/admin/campagnes/{id}",
            get(campaigns::edit).post(campaigns::save),
        )
        .route(
            "/admin/campagnes/{id}/statut",
            post(campaigns::change_status),
        )
        .route(
            "/admin/campagnes/{id}/image",
            post(campaigns::upload_cover).layer(
                ServiceBuilder::new()
                    .layer(uploads::closing())
                    .layer(uploads::body_limit(media::COVER)),
            ),
        )
        .route("/admin/campagnes/{id}/apercu", get(campaigns::preview))
        .route("/admin/projets", get(projects::list))
        .route(
            "/admin/projets/nouveau",
            get(projects::new).post(projects::create),
        )
        .route(
            "/admin/projets/{id}",
            get(projects::edit).post(projects::save),
        )
        .route("/admin/projets/{id}/statut", post(projects::change_status))
        .route(
            "/admin/projets/{id}/image",
            post(projects::upload_cover).layer(
                ServiceBuilder::new()
                    .layer(uploads::closing())
                    .layer(uploads::body_limit(media::COVER)),
            ),
        )
        .route("/admin/projets/{id}/apercu", get(projects::preview))
        .route("/admin/nouvelles", get(news::show).post(news::create))
        .route("/admin/dons", get(donations::list))
        .route("/admin/dons.csv", get(donations::export))
        .route(
            "/admin/dons/hors-ligne",
            get(gifts::offline_form).post(gifts::record_offline),
        )
        .route("/admin/dons/{id}", get(gifts::show))
        .route("/admin/dons/{id}/remboursement", post(gifts::refund))
        .route("/admin/donateurs", get(donors::show))
        .route("/admin/litiges", get(disputes::show))
        .route("/admin/recus", get(receipts::list))
        .route("/admin/recus/totaux.csv", get(receipts::totals_csv))
        .route("/admin/recus/annuels", post(receipts::run_year))
        .route("/admin/recus/{id}", get(receipts::pdf))
        .route("/admin/recus/{id}/annulation", post(receipts::cancel))
        .route(
            "/admin/organisation",
            get(organisation::show).post(organisation::save),
        )
        .route(
            "/admin/organisation/signature",
            post(organisation::upload_signature).layer(
                ServiceBuilder::new()
                    .layer(uploads::closing())
                    .layer(uploads::body_limit(media::SIGNATURE)),
            ),
        )
        .route(
            "/admin/organisation/logo",
            post(organisation::upload_logo).layer(
                ServiceBuilder::new()
                    .layer(uploads::closing())
                    .layer(uploads::body_limit(media::LOGO)),
            ),
        )
        .route("/admin/donateurs/{id}", get(donations::donor))
}

/// What the back-office keeps in its session.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignedIn {
    staff_id: i64,
    /// The account's `session_generation` when this session was opened.
    generation: i64,
    seen_at: i64,
}

const SIGNED_IN_KEY: &str = "staff";
/// How often being seen is written down.
const SEEN_EVERY: i64 = 60;

fn session_error(error: tower_sessions::session::Error) -> AppError {
    AppError::Other(anyhow::anyhow!("staff session: {error}"))
}

/// The back-office session of the request.
pub struct StaffSession(Session);

impl<S: Send + Sync> FromRequestParts<S> for StaffSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Session::from_request_parts(parts, state)
            .await
            .map(StaffSession)
            .map_err(|(_, message)| AppError::Other(anyhow::anyhow!("session: {message}")))
    }
}

impl StaffSession {
    /// Signs in under a new session id (a planted id is worth nothing after).
    async fn sign_in(&self, staff_id: i64, generation: i64, now: i64) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(session_error)?;
        let signed_in = SignedIn {
            staff_id,
            generation,
            seen_at: now,
        };
        self.0
            .insert(SIGNED_IN_KEY, signed_in)
            .await
            .map_err(session_error)
    }

    async fn sign_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(session_error)
    }
}

/// The staff member signed in to the request's session, as they are now (role, access).
/// Anyone else goes to the sign-in page; so does a session that was idle too long, opened
/// before « déconnecter partout », or of an account disabled since.
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub role: Role,
    session: StaffSession,
}

impl Staff {
    /// `Err(403)` unless the role allows what `needed` may do.
    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "Votre rôle ({}) ne permet pas cette action.",
                self.role.label()
            )))
        }
    }

    /// What the frame of every page shows of them.
    pub fn bar(&self) -> StaffBar {
        StaffBar {
            email: self.email.clone(),
            role: self.role.label(),
            is_admin: self.role == Role::Admin,
        }
    }
}

pub struct StaffBar {
    pub email: String,
    pub role: &'static str,
    pub is_admin: bool,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = StaffSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let to_sign_in = || Redirect::to("/admin/connexion").into_response();
        let now = dates::now();
        let signed_in: Option<SignedIn> = session
            .0
            .get(SIGNED_IN_KEY)
            .await
            .map_err(|e| session_error(e).into_response())?;
        let Some(signed_in) = signed_in else {
            return Err(to_sign_in());
        };
        let member = staff::find(state.db.pool(), signed_in.staff_id)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        let still_valid = member.as_ref().is_some_and(|m| {
            m.disabled_at.is_none() && signed_in.generation == m.session_generation
        });
        let (Some(member), true) = (member, still_valid) else {
            session
                .sign_out()
                .await
                .map_err(IntoResponse::into_response)?;
            return Err(to_sign_in());
        };
        if now - signed_in.seen_at > INACTIVITY {
            session
                .sign_out()
                .await
                .map_err(IntoResponse::into_response)?;
            return Err(to_sign_in());
        }
        if now - signed_in.seen_at > SEEN_EVERY {
            let seen = SignedIn {
                seen_at: now,
                ..signed_in
            };
            session
                .0
                .insert(SIGNED_IN_KEY, seen)
                .await
                .map_err(|e| session_error(e).into_response())?;
        }
        Ok(Staff {
            id: member.id,
            email: member.email.as_str().to_owned(),
            role: member.role,
            session,
        })
    }
}

/// What the edit page of a project or a campaign shows above its form: its status and the
/// buttons that change it, its previews, its cover and the form that replaces it.
pub struct Publication {
    /// The edit page, e.g. `/admin/projets/3`; the forms post below it.
    pub edit_path: String,
    pub public_path: String,
    pub status: CampaignStatus,
    pub status_label: &'static str,
    /// « Terminer la collecte », « Terminer le projet ».
    pub close_label: &'static str,
    pub cover_image: String,
}

impl Publication {
    /// The statuses it may move to, with their buttons' words.
    pub fn moves(&self) -> Vec<(&'static str, &'static str)> {
        [
            (CampaignStatus::Published, "Mettre en ligne"),
            (CampaignStatus::Closed, self.close_label),
            (CampaignStatus::Draft, "Repasser en brouillon"),
        ]
        .into_iter()
        .filter(|(status, _)| *status != self.status)
        .map(|(status, label)| (status.as_str(), label))
        .collect()
    }
}

/// A back-office page: never cached, never framed elsewhere, with its forms' cookie.
fn page(status: StatusCode, html: String, form_cookie: HeaderValue) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.append(header::SET_COOKIE, form_cookie);
    response
}

/// A CSRF token for the page's forms, and the cookie it goes with.
fn form_token(state: &AppState, headers: &HeaderMap) -> (String, HeaderValue) {
    let secure = state.base_url.starts_with("https://");
    csrf::for_form(&state.form_key, headers, secure, dates::now())
}
