//! `POST /webhooks/stripe`: Stripe's word on what happened to a payment. Outside sessions and
//! CSRF (Stripe signs instead); answers 400 to anything unsigned or unreadable, 5xx when the
//! event could not be applied yet, so that Stripe delivers it again.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::AppState;
use crate::payments::applier::{Applied, ApplyError};
use crate::payments::refunds;
use crate::telemetry::measures;

/// Stripe's events are far below this; anything larger is not one of them.
const MAX_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/stripe", post(receive))
}

#[tracing::instrument(name = "stripe_webhook", skip_all)]
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Ok(payload) = to_bytes(body, MAX_BODY).await else {
        return reply(StatusCode::BAD_REQUEST, "body too large or unreadable");
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let mut event = match state.payments.verify_webhook(&payload, signature) {
        Ok(event) => event,
        Err(rejection) => {
            tracing::warn!(%rejection, "webhook refused");
            measures::webhook("-", "refused");
            return reply(StatusCode::BAD_REQUEST, &rejection.to_string());
        }
    };
    refunds::find_invoice(&state.payments, &state.db, &mut event).await;
    let (event_id, event_type) = (event.id.clone(), event.event_type.clone());
    let (outcome, response) = match state.applier.apply(event).await {
        Ok(Applied::Done) => {
            tracing::info!(%event_id, %event_type, "event applied");
            ("applied", reply(StatusCode::OK, "applied"))
        }
        Ok(Applied::Duplicate) => ("duplicate", reply(StatusCode::OK, "already applied")),
        Err(ApplyError::NotYet(reason)) => {
            tracing::info!(%event_id, reason, "event not applicable yet; Stripe will retry");
            ("not_yet", reply(StatusCode::SERVICE_UNAVAILABLE, reason))
        }
        Err(ApplyError::Stale(what)) => {
            // Rows are read locked: a moved row means a lock is missing somewhere.
            tracing::warn!(%event_id, what, "row changed while the event applied; Stripe will retry");
            (
                "not_yet",
                reply(StatusCode::SERVICE_UNAVAILABLE, "changed while applying"),
            )
        }
        Err(ApplyError::Database(error)) if crate::db::is_unavailable(&error) => {
            tracing::warn!(%event_id, %error, "database unavailable; Stripe will retry");
            (
                "not_yet",
                reply(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
            )
        }
        Err(error) => {
            tracing::error!(%event_id, %error, "event could not be applied");
            (
                "failed",
                reply(StatusCode::INTERNAL_SERVER_ERROR, "could not be applied"),
            )
        }
    };
    measures::webhook(event_type.as_str(), outcome);
    response
}

/// Plain JSON for Stripe's dashboard; never our HTML error page.
fn reply(status: StatusCode, message: &str) -> Response {
    let key = if status.is_success() {
        "status"
    } else {
        "error"
    };
    let mut response = (status, axum::Json(json!({ key: message }))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static(crate::error::RETRY_AFTER_SECONDS),
        );
    }
    response
}
