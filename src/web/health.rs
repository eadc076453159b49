//! For load balancers, orchestrators and uptime checks: `/healthz` (liveness: the process
//! answers) and `/readyz` (readiness: it can serve now: database reachable, migrations
//! applied, job worker alive where this instance runs one, not shutting down).
//!
//! Liveness asks nothing of the database: an orchestrator restarts a process that fails it,
//! and restarting Obole never brings a database back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use crate::db::Db;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// What `/readyz` knows beyond the database: whether the instance is shutting down, and
/// whether its job worker runs.
#[derive(Debug, Default)]
pub struct Readiness {
    draining: AtomicBool,
    worker_expected: AtomicBool,
    worker_running: Arc<AtomicBool>,
}

/// Says the worker runs until dropped: at the end of its task, returned or panicked.
pub struct WorkerAlive(Arc<AtomicBool>);

impl Drop for WorkerAlive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Readiness {
    /// From now on, readiness fails: the load balancer sends the next requests elsewhere
    /// while those in flight finish here.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Held by the job worker's task for as long as it runs.
    pub fn worker_alive(&self) -> WorkerAlive {
        self.worker_expected.store(true, Ordering::Release);
        self.worker_running.store(true, Ordering::Release);
        WorkerAlive(self.worker_running.clone())
    }

    fn worker(&self) -> &'static str {
        match (
            self.worker_expected.load(Ordering::Acquire),
            self.worker_running.load(Ordering::Acquire),
        ) {
            (false, _) => "none",
            (true, true) => "ok",
            (true, false) => "stopped",
        }
    }
}

/// A check that takes longer answers "unreachable": a probe must not hang with the pool.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let (database, migrations) = database_checks(&state.db).await;
    let worker = state.readiness.worker();
    let draining = state.readiness.draining.load(Ordering::Acquire);
    let ready = database == "ok" && migrations == "ok" && worker != "stopped" && !draining;
    let body = Json(json!({
        "ready": ready,
        "draining": draining,
        "checks": { "database": database, "migrations": migrations, "worker": worker },
    }));
    if ready {
        body.into_response()
    } else {
        tracing::warn!(database, migrations, worker, draining, "not ready");
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// ("ok" or "unreachable", "ok", "pending" or "unknown").
async fn database_checks(db: &Db) -> (&'static str, &'static str) {
    match tokio::time::timeout(CHECK_TIMEOUT, db.migrations_pending()).await {
        Ok(Ok(false)) => ("ok", "ok"),
        Ok(Ok(true)) => ("ok", "pending"),
        Ok(Err(error)) if !crate::db::is_unavailable(&error) => {
            tracing::warn!(%error, "readiness: migrations not read");
            ("ok", "unknown")
        }
        Ok(Err(_)) | Err(_) => ("unreachable", "unknown"),
    }
}
