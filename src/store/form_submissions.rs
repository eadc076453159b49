//! Form posts that acted, by their one-use key: what makes the same post sent twice act once
//! (see `web::once`).

use sqlx::AnyPool;

/// Where a key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Not sent before: this caller now holds it.
    First,
    /// Sent before and still at work.
    Running,
    /// Sent before; what it led to.
    Done(String),
}

/// Forgets the keys made before `before`: their tokens no longer pass.
pub async fn forget_expired(pool: &AnyPool, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM form_submissions WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Takes `key` for the caller if no one holds it.
pub async fn claim(pool: &AnyPool, key: &str, now: i64) -> sqlx::Result<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO form_submissions (key, outcome, created_at) VALUES ($1, NULL, $2) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::First);
    }
    let outcome: Option<Option<String>> =
        sqlx::query_scalar("SELECT outcome FROM form_submissions WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    Ok(match outcome {
        Some(Some(outcome)) => Claim::Done(outcome),
        // Still at work; or let go meanwhile (the first one did not act), and the caller's
        // next try may take it.
        Some(None) | None => Claim::Running,
    })
}

/// What the post holding `key` led to.
pub async fn complete(pool: &AnyPool, key: &str, outcome: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE form_submissions SET outcome = $1 WHERE key = $2")
        .bind(outcome)
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Lets `key` go: its post did not act, and may be sent again.
pub async fn release(pool: &AnyPool, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM form_submissions WHERE key = $1 AND outcome IS NULL")
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ())
}
