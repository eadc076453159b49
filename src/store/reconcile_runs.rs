//! The runs of the reconciliation with Stripe: started, then finished with what they did or
//! the error that stopped them. The back-office shows the latest.

use sqlx::AnyPool;

use crate::db::Db;

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedBy {
    /// `obole reconcile`.
    Command,
    /// The job worker's daily run.
    Schedule,
}

impl StartedBy {
    fn as_str(self) -> &'static str {
        match self {
            StartedBy::Command => "command",
            StartedBy::Schedule => "schedule",
        }
    }
}

/// What a finished run did.
pub struct Outcome<'a> {
    pub checked: i64,
    pub repaired: i64,
    pub waiting: i64,
    /// One line per object repaired.
    pub changes: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub started_by: String,
    pub since: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub checked: i64,
    pub repaired: i64,
    pub waiting: i64,
    pub changes: String,
    pub error: Option<String>,
}

pub async fn start(db: &Db, started_by: StartedBy, since: i64, now: i64) -> sqlx::Result<i64> {
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reconcile_runs (started_by, since, started_at) VALUES ($1, $2, $3) \
         RETURNING id",
    )
    .bind(started_by.as_str())
    .bind(since)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn finish(db: &Db, id: i64, outcome: &Outcome<'_>, now: i64) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE reconcile_runs SET finished_at = $1, checked = $2, repaired = $3, waiting = $4, \
         changes = $5 WHERE id = $6",
    )
    .bind(now)
    .bind(outcome.checked)
    .bind(outcome.repaired)
    .bind(outcome.waiting)
    .bind(outcome.changes)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn fail(db: &Db, id: i64, error: &str, now: i64) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE reconcile_runs SET finished_at = $1, error = $2 WHERE id = $3")
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The latest run, finished or not.
pub async fn latest(pool: &AnyPool) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as(
        "SELECT started_by, since, started_at, finished_at, checked, repaired, waiting, \
         changes, error FROM reconcile_runs ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}
