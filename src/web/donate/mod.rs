//! Giving: the donation form, the redirect to Stripe Checkout, and the thank-you page.
//!
//! Handlers live in `form` and `thanks` (parse, call the store, render); `views` shapes what
//! the templates show.

pub(crate) mod form;
mod monthly_offer;
pub mod readings;
pub(crate) mod thanks;
mod views;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campagnes/{slug}/don", get(form::show).post(form::submit))
        .route("/merci", get(thanks::show))
        .route("/merci/mensuel", post(monthly_offer::accept))
}

/// These pages hold a CSRF token or personal data: never cached.
fn no_store(status: StatusCode, html: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}
