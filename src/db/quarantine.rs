//! Keeps out of use the connections a fault left unable to write, which would otherwise
//! refuse every write long after the fault is fixed (until a restart):
//! - a transaction whose `COMMIT` failed on an I/O error (a file turned read-only, a full
//!   disk) is rolled back by SQLite itself, but sqlx 0.8 still counts it open: its `ROLLBACK`
//!   then fails, and so does every later `BEGIN` on that connection;
//! - SQLite opens a file it may not write read-only, for good.
//!
//! The pool closes such a connection instead of lending it, and opens a fresh one when asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Connection, Database, Executor, Row};

/// Shared by a pool's hooks (`after_connect`, `before_acquire`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Quarantine {
    /// Connections opened read-only and not closed here yet. While there are none (the
    /// usual case), lending a connection asks it nothing.
    read_only: Arc<AtomicUsize>,
}

impl Quarantine {
    /// As a SQLite connection opens: one that cannot write is marked `query_only`, to be
    /// closed the next time it would be lent (this time it still serves a reader). The test
    /// is a write that changes nothing, made without waiting for the write lock: a writer
    /// elsewhere makes it "busy", which says the connection can write. Leaves the connection
    /// waiting up to `busy_timeout_ms` for locks.
    pub(crate) async fn mark_read_only<DB: Database>(
        &self,
        conn: &mut DB::Connection,
        busy_timeout_ms: u32,
    ) -> sqlx::Result<()>
    where
        for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    {
        conn.execute("PRAGMA busy_timeout = 0").await?;
        // Before the first migration the table is missing: that says nothing either.
        let probe = conn
            .execute("UPDATE _sqlx_migrations SET version = version WHERE 0")
            .await;
        conn.execute(format!("PRAGMA busy_timeout = {busy_timeout_ms}").as_str())
            .await?;
        let read_only = matches!(
            &probe,
            // SQLITE_READONLY and its extended codes.
            Err(sqlx::Error::Database(error)) if error
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| code & 0xff == 8)
        );
        if read_only {
            conn.execute("PRAGMA query_only = 1").await?;
            // Once per spell: while it lasts, every connection opened is read-only.
            if self.read_only.fetch_add(1, Ordering::AcqRel) == 0 {
                tracing::warn!("database file not writable: connections open read-only");
            }
        }
        Ok(())
    }

    /// Whether the pool may lend this connection (else it closes it).
    pub(crate) async fn may_lend<DB: Database>(
        &self,
        conn: &mut DB::Connection,
    ) -> sqlx::Result<bool>
    where
        for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
        i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
    {
        if conn.is_in_transaction() {
            tracing::warn!("connection left inside a failed transaction: closed");
            return Ok(false);
        }
        if self.read_only.load(Ordering::Acquire) == 0 {
            return Ok(true);
        }
        let marked = conn.fetch_one("PRAGMA query_only").await?;
        if marked.try_get::<i64, _>(0)? == 0 {
            return Ok(true);
        }
        self.read_only.fetch_sub(1, Ordering::AcqRel);
        Ok(false)
    }
}
