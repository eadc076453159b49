//! Staff accounts: created, found for a sign-in, locked after repeated failures, signed out
//! everywhere, given another role or disabled.

use sqlx::{AnyConnection, AnyPool};

use crate::domain::email::Email;
use crate::domain::staff::{LOCK_AFTER, LOCKED_FOR, Role};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffMember {
    pub id: i64,
    pub email: Email,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub password_hash: String,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
    pub session_generation: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, role, password_hash, failed_attempts, locked_until, \
     session_generation, disabled_at, created_at";

/// Creates the account; `None` when the email has one already.
pub async fn create(
    conn: &mut AnyConnection,
    email: &Email,
    role: Role,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO staff (email, role, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<StaffMember>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_email(pool: &AnyPool, email: &Email) -> sqlx::Result<Option<StaffMember>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
}

/// Everyone, admins first, then by email.
pub async fn all(pool: &AnyPool) -> sqlx::Result<Vec<StaffMember>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM staff ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'editor' THEN 1 \
         ELSE 2 END, email"
    ))
    .fetch_all(pool)
    .await
}

/// A failed sign-in: counted, and at [`LOCK_AFTER`] in a row the account is locked for
/// [`LOCKED_FOR`]. One statement, so that concurrent failures all count.
pub async fn record_failure(conn: &mut AnyConnection, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE staff SET failed_attempts = failed_attempts + 1, \
             locked_until = CASE WHEN failed_attempts + 1 >= $1 THEN $2 ELSE locked_until END, \
             updated_at = $3 \
         WHERE id = $4",
    )
    .bind(LOCK_AFTER)
    .bind(now + LOCKED_FOR)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A sign-in that went through: the count of failures starts again.
pub async fn record_success(conn: &mut AnyConnection, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE staff SET failed_attempts = 0, locked_until = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Every session opened so far stops working.
pub async fn sign_out_everywhere(conn: &mut AnyConnection, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE staff SET session_generation = session_generation + 1, updated_at = $1 WHERE id = $2",
    )
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn set_role(conn: &mut AnyConnection, id: i64, role: Role, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE staff SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(role.as_str())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Disabled (or enabled again): a disabled account cannot sign in, and its sessions end.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: i64,
    disabled: bool,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE staff SET disabled_at = $1, session_generation = session_generation + 1, \
             updated_at = $2 WHERE id = $3",
    )
    .bind(disabled.then_some(now))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// How many enabled admins there are: the last one cannot be demoted or disabled.
pub async fn active_admins(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL")
        .fetch_one(conn)
        .await
}
