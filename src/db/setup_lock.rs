//! The start-up lock: migrations and one-time set-up (demonstration content) run in one
//! process at a time, so that instances started together on a fresh database do not race
//! (two seeding the same projects would break a unique key and one would exit).
//!
//! On PostgreSQL it is a session-level advisory lock, held by one connection taken out of the
//! pool: if the process dies, PostgreSQL ends the session and frees it. On SQLite, where
//! several processes can only share a file on one machine, it is a lock on a file beside the
//! database (`obole.db.setup-lock`), freed by the system when the process dies too.

use std::fs::File;

use secrecy::ExposeSecret;
use sqlx::Any;
use sqlx::pool::PoolConnection;

use super::locks::SETUP_LOCK;
use super::{Backend, Db, sqlite_path};

/// Held until [`SetupLock::release`] (or the end of the process).
#[must_use = "the lock is held until released"]
pub struct SetupLock(Held);

enum Held {
    Postgres(PoolConnection<Any>),
    Sqlite(File),
    /// An in-memory SQLite database: no other process can reach it.
    Nothing,
}

impl Db {
    /// Waits for the start-up lock and takes it.
    pub async fn lock_setup(&self) -> sqlx::Result<SetupLock> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await?;
                sqlx::query_scalar::<_, i64>(
                    "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_lock($1, $2)) AS locked",
                )
                .bind(SETUP_LOCK.0)
                .bind(SETUP_LOCK.1)
                .fetch_one(&mut *conn)
                .await?;
                Ok(SetupLock(Held::Postgres(conn)))
            }
            Backend::Sqlite => {
                let Some(path) = sqlite_path(self.url.expose_secret()) else {
                    return Ok(SetupLock(Held::Nothing));
                };
                let path = format!("{path}.setup-lock");
                // `File::lock` blocks the thread until the other process lets go.
                let file = tokio::task::spawn_blocking(move || {
                    let file = File::options()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)?;
                    file.lock()?;
                    Ok::<_, std::io::Error>(file)
                })
                .await
                .map_err(|_| sqlx::Error::WorkerCrashed)??;
                Ok(SetupLock(Held::Sqlite(file)))
            }
        }
    }
}

impl SetupLock {
    /// Lets the next process in.
    pub async fn release(self) {
        match self.0 {
            Held::Postgres(mut conn) => {
                let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1, $2)")
                    .bind(SETUP_LOCK.0)
                    .bind(SETUP_LOCK.1)
                    .fetch_one(&mut *conn)
                    .await;
                if !matches!(unlocked, Ok(true)) {
                    // Ending the session frees its locks: this connection must not go back
                    // to the pool still holding one.
                    drop(conn.detach());
                }
            }
            // Closing the file lets go of its lock.
            Held::Sqlite(file) => drop(file),
            Held::Nothing => {}
        }
    }
}
