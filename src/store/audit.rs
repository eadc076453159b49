//! The journal of staff actions: written in the transaction of the change it records, read by
//! admins, never changed (the database refuses updates and deletions: migration 0013).

use serde::Serialize;
use sqlx::{AnyConnection, AnyPool};

/// One action to record.
pub struct Entry<'a> {
    /// `None` for the command line (`obole create-staff`).
    pub staff_id: Option<i64>,
    /// What was done, e.g. `staff.create`, `staff.role`.
    pub action: &'a str,
    /// What it was done to, e.g. `staff:3`.
    pub subject: String,
    /// The state before and after, for changes to money or access.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record(conn: &mut AnyConnection, entry: &Entry<'_>, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (staff_id, action, subject, before_state, after_state, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.staff_id)
    .bind(entry.action)
    .bind(&entry.subject)
    .bind(entry.before.as_ref().map(ToString::to_string))
    .bind(entry.after.as_ref().map(ToString::to_string))
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A line of the journal, with who did it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub at: i64,
    pub staff_email: Option<String>,
    pub action: String,
    pub subject: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
}

/// The newest lines first, a page at a time.
pub async fn page(pool: &AnyPool, limit: i64, offset: i64) -> sqlx::Result<Vec<Line>> {
    sqlx::query_as(
        "SELECT a.id, a.at, s.email AS staff_email, a.action, a.subject, a.before_state, \
             a.after_state \
         FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id \
         ORDER BY a.at DESC, a.id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

pub async fn count(pool: &AnyPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await
}
