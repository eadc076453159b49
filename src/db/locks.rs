//! Locks that make concurrent write transactions touching the same rows apply one after the
//! other. PostgreSQL runs transactions side by side and needs them; SQLite's write
//! transactions already take turns ([`super::Db::begin_write`]), so there each is nothing.

use sqlx::AnyConnection;

use super::Backend;

/// Namespace of Obole's per-supporter advisory locks on PostgreSQL ("ob" in ASCII).
const SUPPORTER_LOCKS: i32 = 0x6f62;
/// Namespace and key of the start-up lock ([`super::setup_lock`]) ("os", for set-up): a
/// namespace of its own, or seeding would wait on itself for supporter 1's lock.
pub(super) const SETUP_LOCK: (i32, i32) = (0x6f73, 0);

impl Backend {
    /// Suffix of a `SELECT` that locks the rows it reads until the transaction ends, for a
    /// transaction that will change them.
    pub fn lock_for_update(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Like [`Backend::lock_for_update`], with the weaker lock an update that changes no key
    /// takes (`NO KEY UPDATE`): it does not block the key-share lock that a foreign key to the
    /// row takes, so rows pointing at a locked one can still be written.
    pub fn lock_for_no_key_update(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR NO KEY UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Suffix of a `SELECT` whose rows a worker claims: on PostgreSQL it locks them and skips
    /// those another worker is claiming (`FOR UPDATE SKIP LOCKED`), so workers never wait on
    /// each other nor take the same row. SQLite's write transactions already take turns.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// Makes the transactions that call this for one supporter take turns, until each ends.
    /// An advisory lock, not `FOR UPDATE` on the supporter's row: a donation just inserted
    /// holds a key-share lock on that row, and two such upgrades would deadlock.
    pub async fn lock_supporter(
        self,
        conn: &mut AnyConnection,
        supporter_id: i64,
    ) -> sqlx::Result<()> {
        if self == Backend::Sqlite {
            return Ok(());
        }
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1, CAST($2 AS INTEGER))) AS locked",
        )
        .bind(SUPPORTER_LOCKS)
        .bind(supporter_id % i64::from(i32::MAX))
        .fetch_one(conn)
        .await
        .map(|_| ())
    }

    /// Keeps other transactions from writing to `table` until this one ends (they may still
    /// read it); those already writing finish first.
    pub async fn block_writers(
        self,
        conn: &mut AnyConnection,
        table: &'static str,
    ) -> sqlx::Result<()> {
        if self == Backend::Sqlite {
            return Ok(());
        }
        sqlx::query(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))
            .execute(conn)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_locks_rows() {
        assert_eq!(Backend::Sqlite.lock_for_update(), "");
        assert_eq!(Backend::Sqlite.lock_for_no_key_update(), "");
        assert_eq!(Backend::Postgres.lock_for_update(), " FOR UPDATE");
        assert_eq!(
            Backend::Postgres.lock_for_no_key_update(),
            " FOR NO KEY UPDATE"
        );
    }
}
