//! Links sent by email to a supporter, used once: a sign-in link to « Mon espace », or the
//! link that confirms a new email address (it carries that address). Only the token's hash is
//! stored ([`crate::domain::sign_in`]). One kind of link never works as the other.

use sqlx::{AnyConnection, AnyPool};

use crate::db::Db;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind<'a> {
    SignIn,
    /// Makes this address the supporter's.
    NewEmail(&'a str),
}

impl LinkKind<'_> {
    /// The rows of this kind of link.
    fn rows(self) -> &'static str {
        match self {
            LinkKind::SignIn => "new_email IS NULL",
            LinkKind::NewEmail(_) => "new_email IS NOT NULL",
        }
    }
}

/// Records a link for `supporter_id`, valid until `expires_at`.
pub async fn create(
    conn: &mut AnyConnection,
    supporter_id: i64,
    kind: LinkKind<'_>,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    let new_email = match kind {
        LinkKind::SignIn => None,
        LinkKind::NewEmail(email) => Some(email),
    };
    sqlx::query(
        "INSERT INTO sign_in_tokens (supporter_id, token_hash, created_at, expires_at, new_email) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(supporter_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .bind(new_email)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What a link is worth now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Works: for this supporter (and, for a new email's link, that address).
    Valid(i64, Option<String>),
    Used,
    Expired,
    /// Never made by us (or made for the other purpose).
    Unknown,
}

/// Reads what a link of `kind` is worth, without using it.
pub async fn state(
    pool: &AnyPool,
    kind: LinkKind<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<LinkState> {
    let row: Option<(i64, i64, Option<i64>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT supporter_id, expires_at, used_at, new_email FROM sign_in_tokens \
         WHERE token_hash = $1 AND {}",
        kind.rows()
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, _, Some(_), _)) => LinkState::Used,
        Some((_, expires_at, None, _)) if now >= expires_at => LinkState::Expired,
        Some((supporter_id, _, None, new_email)) => LinkState::Valid(supporter_id, new_email),
    })
}

/// Uses a link of `kind`: `Valid` once, and only once, however many requests race for it
/// (the `UPDATE`'s `WHERE` lets one of them through).
pub async fn use_once(
    conn: &mut AnyConnection,
    kind: LinkKind<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<LinkState> {
    let rows = kind.rows();
    let used: Option<(i64, Option<String>)> = sqlx::query_as(&format!(
        "UPDATE sign_in_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND {rows} \
         RETURNING supporter_id, new_email"
    ))
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((supporter_id, new_email)) = used {
        return Ok(LinkState::Valid(supporter_id, new_email));
    }
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT expires_at, used_at FROM sign_in_tokens WHERE token_hash = $1 AND {rows}"
    ))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => LinkState::Unknown,
        Some((_, Some(_))) => LinkState::Used,
        Some(_) => LinkState::Expired,
    })
}

/// Deletes the links that expired before `expired_before` (housekeeping). How many.
pub async fn forget_expired(db: &Db, expired_before: i64) -> sqlx::Result<u64> {
    let mut tx = db.begin_write().await?;
    let deleted = sqlx::query("DELETE FROM sign_in_tokens WHERE expires_at < $1")
        .bind(expired_before)
        .execute(&mut *tx)
        .await?;
    tx.commit_unseen().await?;
    Ok(deleted.rows_affected())
}
