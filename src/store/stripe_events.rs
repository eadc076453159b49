//! The Stripe events already applied: recording one is what makes a redelivery harmless.

use sqlx::AnyConnection;

/// Records the event; `false` when it was already there (a redelivery: apply nothing).
/// On PostgreSQL a concurrent delivery of the same event waits here for the first to commit.
pub async fn record(
    conn: &mut AnyConnection,
    id: &str,
    event_type: &str,
    api_version: Option<&str>,
    created: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, event_type, api_version, created_at, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(event_type)
    .bind(api_version)
    .bind(created)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
