//! Secrets the server signs with, kept in the database so that every instance on it signs
//! and verifies alike.

use crate::db::Db;

/// The secret named `name`, created at the first start-up. `ON CONFLICT DO NOTHING`: two
/// instances starting together end up with the same secret.
pub async fn load_or_create(db: &Db, name: &str, now: i64) -> sqlx::Result<Vec<u8>> {
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    sqlx::query(
        "INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(&fresh)
    .bind(now)
    .execute(db.pool())
    .await?;
    let secret: String = sqlx::query_scalar("SELECT secret FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(db.pool())
        .await?;
    Ok(secret.into_bytes())
}
