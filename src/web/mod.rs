//! HTTP: one router per audience, merged here, where the layers are applied once.

pub mod admin;
pub mod api;
pub mod assets;
pub mod csrf;
pub mod donate;
pub mod download;
pub mod email_links;
pub mod encoded;
pub mod errors;
pub mod extract;
pub mod funnel;
pub mod health;
pub mod identity;
pub mod layout;
pub mod legal;
pub mod limits;
pub mod medias;
pub mod once;
pub mod outbox;
pub mod page_cache;
pub mod prometheus;
pub mod public;
pub mod rate_limit;
pub mod request_id;
pub mod security;
pub mod serve;
pub mod session;
pub mod share;
pub mod spreadsheet;
pub mod supporter;
pub mod views;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::timeout::TimeoutLayer;

use crate::config::Config;
use crate::db::Db;
use crate::payments::Payments;
use crate::payments::applier::Applier;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Public URL without trailing slash, for absolute links.
    pub base_url: Arc<str>,
    pub payments: Payments,
    /// Applies verified Stripe events (group commit on SQLite).
    pub applier: Applier,
    /// The Stripe sandbox, mounted in demonstration mode only.
    #[cfg(feature = "sandbox")]
    pub sandbox: Option<stripe_sandbox::Sandbox>,
    /// Checkouts started per client address (card-testing protection).
    pub checkout_limiter: Arc<rate_limit::ClientLimiter>,
    /// Sign-in links asked for, per client address and per email.
    pub sign_in_limiter: Arc<rate_limit::SignInLimiter>,
    /// Staff sign-in attempts per client address.
    pub staff_sign_in_limiter: Arc<rate_limit::ClientLimiter>,
    /// Signs the donation form's CSRF tokens.
    pub form_key: csrf::FormKey,
    /// Signs the links emails carry (fix a payment, unsubscribe).
    pub links: crate::links::LinkKey,
    /// Public pages and API answers served from memory.
    pub page_cache: Arc<page_cache::PageCache>,
    /// What the donation form shows of its campaign, kept under the page cache's rule.
    pub form_readings: Arc<donate::readings::FormReadings>,
    /// Views of campaign pages and forms, on their way to `campaign_funnel`.
    pub funnel: Arc<funnel::Funnel>,
    /// The organisation's logo and status, as every page shows them.
    pub identity: Arc<identity::PublicIdentity>,
    /// What `/readyz` says beyond the database (shutting down, job worker alive).
    pub readiness: Arc<health::Readiness>,
}

/// Form posts are small; webhooks set their own (1 MiB) limit.
const BODY_LIMIT: usize = 64 * 1024;

/// What a request may take in all, its body included, before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every path template `router` serves, from its `Debug` form: axum has no other listing of
/// its routes, and the test that sends NUL bytes to every parameter of every route must not
/// miss one that no hand-kept list knows. Fallbacks and the tail of a nested service (axum's
/// `__private__` parameters) are left out; a nested service is listed at its mount point
/// (with and without a trailing slash).
pub fn route_paths<S>(router: &Router<S>) -> Vec<String> {
    const MARK: &str = "): \"";
    let debug = format!("{router:?}");
    let mut paths: Vec<String> = debug
        .match_indices("RouteId(")
        .filter_map(|(at, _)| {
            let rest = &debug[at..];
            let start = rest.find(MARK)? + MARK.len();
            // Before the first `)`: a `RouteId(3): "/path"` entry, not `RouteId(3): MethodRouter(..)`.
            rest[..start]
                .find(')')
                .filter(|close| close + MARK.len() == start)?;
            let path = &rest[start..start + rest[start..].find('"')?];
            (!path.contains("__private__")).then(|| path.to_owned())
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Every route with its layers; the session layer only on the pages that use it.
pub async fn router(state: AppState) -> sqlx::Result<Router> {
    let secure = state.base_url.starts_with("https://");
    let with_sessions = session::add_layer(
        donate::router().merge(supporter::router()),
        &state.db,
        secure,
    )
    .await?;
    let back_office = session::add_staff_layer(admin::router(), &state.db, secure).await?;
    let router = Router::new()
        .merge(public::router(&state))
        .merge(legal::router())
        .merge(with_sessions)
        .merge(back_office)
        .merge(health::router())
        .merge(prometheus::router())
        .merge(assets::router())
        .merge(medias::router())
        .merge(webhooks::router())
        .merge(email_links::router())
        .nest("/api/v1", api::router(&state));
    let router = match outbox::router(&state) {
        Some(outbox) => router.merge(outbox),
        None => router,
    };
    #[cfg(feature = "sandbox")]
    let router = match &state.sandbox {
        Some(sandbox) => router.nest_service("/sandbox", sandbox.router()),
        None => router,
    };
    Ok(router
        .route_layer(middleware::from_fn(prometheus::measure))
        .fallback(errors::not_found)
        .layer(middleware::from_fn(extract::refuse_nul_in_address))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn_with_state(
            state.config.http.body_timeout,
            limits::enforce,
        ))
        // What the layers above answer is rendered as our page, with the security headers.
        .layer(middleware::map_response_with_state(
            state.clone(),
            errors::render_error_pages,
        ))
        .layer(security::headers(&state.base_url))
        // Pages are rendered per request, so they are compressed per request: at the fastest
        // settings that still shrink HTML well (gzip level 1, brotli quality 1, both with
        // small state to set up). tower-http's defaults (gzip 6, brotli 4) cost more than
        // rendering the page and querying for it. Static files come compressed ahead of time.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(1))
                .compress_when(DefaultPredicate::new().and(encoded::not_precompressed)),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Every log line of a request carries its id (tower-http's trace layer is not used:
        // its spans hold the whole address, tokens and all).
        .layer(middleware::from_fn(request_id::tag))
        .with_state(state))
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};

    use super::*;

    #[test]
    fn route_paths_lists_every_route_nested_or_not_and_no_fallback() {
        let api = Router::<()>::new().route("/campaigns/{slug}", get(|| async {}));
        let router = Router::<()>::new()
            .route("/", get(|| async {}))
            .route("/merci/mensuel", post(|| async {}))
            .nest("/api/v1", api)
            .nest_service("/sandbox", Router::new().route("/x", get(|| async {})))
            .fallback(|| async {})
            .layer(middleware::from_fn(extract::refuse_nul_in_address));
        assert_eq!(
            route_paths(&router),
            [
                "/",
                "/api/v1/campaigns/{slug}",
                "/merci/mensuel",
                "/sandbox",
                "/sandbox/"
            ]
        );
    }
}
