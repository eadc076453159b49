//! `/metrics`: the Prometheus exposition of [`crate::telemetry::measures`], behind a bearer
//! token (`METRICS_TOKEN`). Without a token set, the route answers 404 like any unknown
//! page: figures about gifts and jobs are not for the public.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::error::AppError;
use crate::store::{counters, jobs};
use crate::telemetry::measures::{self, Readings};

/// The database must not hold a scrape up.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some(token) = &state.config.metrics_token else {
        return Err(AppError::NotFound);
    };
    if !bearer_matches(&headers, token.expose_secret()) {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "jeton manquant ou incorrect\n",
        )
            .into_response());
    }
    let readings = tokio::time::timeout(READ_TIMEOUT, read(&state)).await;
    let readings = match readings {
        Ok(Ok(readings)) => Some(readings),
        Ok(Err(error)) => {
            tracing::warn!(%error, "metrics: database not read");
            None
        }
        Err(_) => None,
    };
    let pool = state.db.pool();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    measures::set_readings(readings, pool.size().saturating_sub(idle), idle);
    let handle = measures::handle();
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

async fn read(state: &AppState) -> sqlx::Result<Readings> {
    let pool = state.db.pool();
    let (jobs_queued, jobs_failing, jobs_dead) =
        jobs::backlog(pool, crate::domain::dates::now()).await?;
    let totals = counters::organisation(pool).await?;
    Ok(Readings {
        jobs_queued,
        jobs_failing,
        jobs_dead,
        donations: totals.donations,
        amount_cents: totals.raised_cents,
        donors: totals.donors,
    })
}

/// Whether `Authorization: Bearer …` carries `token` (compared as digests, so that the time
/// taken says nothing of how much of it was right).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Counts, times and logs every request that reached a route, under the route's template.
pub async fn measure(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(String::new, |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let (status, took) = (response.status().as_u16(), started.elapsed());
    measures::request(&route, &method, status, took);
    // The access log: the route's template, never the address itself (it may hold a token).
    tracing::info!(target: "obole::access", %route, status, ms = took.as_millis() as u64, "answered");
    response
}
