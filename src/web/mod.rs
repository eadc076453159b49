//! HTTP: one router per audience, merged here, where the layers are applied once.

pub mod api;
pub mod assets;
pub mod errors;
pub mod extract;
pub mod health;
pub mod layout;
pub mod public;
pub mod security;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::db::Db;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Public URL without trailing slash, for absolute links.
    pub base_url: Arc<str>,
}

/// Form posts are small; webhooks set their own (1 MiB) limit.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(public::router())
        .merge(health::router())
        .merge(assets::router())
        .nest("/api/v1", api::router())
        .fallback(errors::not_found)
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(middleware::map_response_with_state(
            state.clone(),
            errors::render_error_pages,
        ))
        .layer(security::headers(&state.base_url))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
