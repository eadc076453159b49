//! The database's identity: a random id given once, at the first start-up, that names this
//! ledger to what lives outside it (the demo sandbox's state file).

use crate::db::Db;
use crate::domain::dates;

/// This database's id, created if it has none yet. Two instances starting at once on a new
/// database both insert; the first wins, the other's insert does nothing, and both read the
/// winner's id.
pub async fn id(db: &Db) -> sqlx::Result<String> {
    let candidate = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query(
        "INSERT INTO ledger_identity (singleton, ledger_id, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(&candidate)
    .bind(dates::now())
    .execute(db.pool())
    .await?;
    sqlx::query_scalar("SELECT ledger_id FROM ledger_identity WHERE singleton = 1")
        .fetch_one(db.pool())
        .await
}
