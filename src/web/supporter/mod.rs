//! « Mon espace »: the supporter's own space, behind a sign-in by emailed link.
//!
//! - `sign_in`: asking for a link, opening it, signing out;
//! - `dashboard`: « Grâce à vous », what they gave and their recurring gifts.
//!
//! Every page here is personal: never cached, and only ever about the supporter of the
//! session.

mod dashboard;
mod gifts;
mod my_data;
mod profile;
mod receipts;
mod sign_in;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::session::Visitor;
use super::{AppState, csrf};
use crate::domain::dates;
use crate::error::AppError;
use crate::links::Purpose;
use crate::store::supporters;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mon-espace", get(dashboard::show))
        .route("/mon-espace/connexion", post(sign_in::ask))
        .route(
            "/mon-espace/connexion/{token}",
            get(sign_in::confirm).post(sign_in::open),
        )
        .route("/mon-espace/deconnexion", post(sign_in::sign_out))
        .route("/mon-espace/lien-apres-don", post(sign_in::after_gift))
        .route("/mon-espace/dons-reguliers/{id}", get(gifts::show))
        .route(
            "/mon-espace/dons-reguliers/{id}/arret",
            get(gifts::confirm_cancel).post(gifts::cancel),
        )
        .route(
            "/mon-espace/dons-reguliers/{id}/recommencer",
            post(gifts::restart),
        )
        .route(
            "/mon-espace/dons-reguliers/{id}/{action}",
            post(gifts::change),
        )
        .route(
            "/mon-espace/profil",
            get(profile::show).post(profile::save_identity),
        )
        .route("/mon-espace/preferences", post(profile::save_preferences))
        .route("/mon-espace/adresse", post(profile::ask_new_email))
        .route(
            "/mon-espace/adresse/{token}",
            get(profile::confirm_new_email).post(profile::use_new_email),
        )
        .route("/mon-espace/recus", get(receipts::list))
        .route("/mon-espace/recus/{id}", get(receipts::pdf))
        .route("/mon-espace/donnees.json", get(my_data::as_json))
        .route("/mon-espace/donnees.csv", get(my_data::as_csv))
        .route(
            "/mon-espace/suppression",
            get(my_data::confirm_erase).post(my_data::erase),
        )
}

/// The supporter signed in to the session; a handler that takes it sends anyone else to the
/// sign-in form.
pub struct SignedIn(pub i64);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let supporter_id = match visitor.supporter(dates::now()).await {
            Ok(Some(supporter_id)) => supporter_id,
            Ok(None) => return Err(Redirect::to("/mon-espace").into_response()),
            Err(error) => return Err(error.into_response()),
        };
        // Erased from another session: this one means nothing any more.
        match supporters::is_present(state.db.pool(), supporter_id).await {
            Ok(true) => Ok(SignedIn(supporter_id)),
            Ok(false) => {
                visitor
                    .sign_out()
                    .await
                    .map_err(IntoResponse::into_response)?;
                Err(Redirect::to("/mon-espace").into_response())
            }
            Err(error) => Err(AppError::from(error).into_response()),
        }
    }
}

/// The link that opens the Billing Portal for a gift whose payment failed, valid an hour
/// from this page.
fn fix_payment_url(state: &AppState, gift_id: i64, now: i64) -> String {
    state
        .links
        .url("", Purpose::FixPayment, gift_id, now + FIX_LINK_LIFETIME)
}

/// How long the fix link of a page works.
const FIX_LINK_LIFETIME: i64 = 3600;

/// A personal page: never cached, with the form cookie its CSRF token goes with.
fn personal(status: StatusCode, html: String, form_cookie: Option<HeaderValue>) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The sign-in link is in the URL: it is not sent on to other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(cookie) = form_cookie {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

/// A CSRF token for the page's forms, and the cookie it goes with.
fn form_token(state: &AppState, headers: &HeaderMap) -> (String, HeaderValue) {
    let secure = state.base_url.starts_with("https://");
    csrf::for_form(&state.form_key, headers, secure, dates::now())
}
