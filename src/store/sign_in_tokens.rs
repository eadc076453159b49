//! Sign-in links to « Mon espace »: created when a supporter asks, used once. Only the token's
//! hash is stored ([`crate::domain::sign_in`]).

use sqlx::{AnyConnection, AnyPool};

/// Records a link for `supporter_id`, valid until `expires_at`.
pub async fn create(
    conn: &mut AnyConnection,
    supporter_id: i64,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_tokens (supporter_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(supporter_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What a link is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Works: it opens this supporter's space.
    Valid(i64),
    Used,
    Expired,
    /// Never made by us.
    Unknown,
}

/// Reads what the link is worth, without using it.
pub async fn state(pool: &AnyPool, token_hash: &str, now: i64) -> sqlx::Result<LinkState> {
    let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT supporter_id, expires_at, used_at FROM sign_in_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, _, Some(_))) => LinkState::Used,
        Some((_, expires_at, None)) if now >= expires_at => LinkState::Expired,
        Some((supporter_id, _, None)) => LinkState::Valid(supporter_id),
    })
}

/// Uses the link: `Valid` once, and only once, however many requests race for it (the
/// `UPDATE`'s `WHERE` lets one of them through).
pub async fn use_once(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<LinkState> {
    let used: Option<i64> = sqlx::query_scalar(
        "UPDATE sign_in_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING supporter_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(supporter_id) = used {
        return Ok(LinkState::Valid(supporter_id));
    }
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT expires_at, used_at FROM sign_in_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, Some(_))) => LinkState::Used,
        Some(_) => LinkState::Expired,
    })
}
