//! The database: one connection pool for SQLite or PostgreSQL, chosen from `DATABASE_URL`.
//!
//! Obole talks to both through sqlx's `Any` driver with one portable SQL text per query (see
//! README, "Architecture"). Everything that differs between the two lives in this module, and
//! only here does code ask which backend it is: how a connection is prepared, how a write
//! transaction starts, which migrations run, the locks PostgreSQL needs ([`locks`]), the
//! start-up lock ([`setup_lock`]), the session store ([`sessions`]), and what each can do in
//! one statement.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub mod locks;
mod quarantine;
pub mod sessions;
mod setup_lock;

use quarantine::Quarantine;
pub use sessions::SessionStore;
pub use setup_lock::SetupLock;

/// How long a SQLite connection waits for another's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// Whether the database has one writer at a time (SQLite): writes then gain from being
    /// grouped in one transaction (group commit), and need no row locks.
    pub fn has_one_writer(self) -> bool {
        self == Backend::Sqlite
    }

    /// Whether one statement can feed several writes (data-modifying `WITH … AS (INSERT …)`,
    /// which PostgreSQL has and SQLite lacks): one round trip instead of several.
    pub fn has_writing_ctes(self) -> bool {
        self == Backend::Postgres
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// For the session store's own pool ([`Db::session_store`]).
    url: SecretString,
    /// SQLite has one writer at a time: writers queue here, in order, instead of polling the
    /// database file's lock with sleeps.
    writer: Arc<Mutex<()>>,
    /// Write transactions committed by this process.
    writes: Arc<Commits>,
}

/// Counts of committed write transactions.
#[derive(Debug, Default)]
struct Commits {
    /// Those that may change what a page shows: what was read before is out of date as soon
    /// as this moves ([`Db::writes_committed`]).
    seen: AtomicU64,
    /// All of them, the jobs' bookkeeping included ([`Db::transactions_committed`]).
    all: AtomicU64,
}

/// A write transaction from [`Db::begin_write`]; use it as a connection, then `commit`.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    writes: Arc<Commits>,
    // Declared last: released after the transaction ends.
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await?;
        self.writes.all.fetch_add(1, Ordering::Release);
        self.writes.seen.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Commits a write that no page shows (the jobs' own bookkeeping): what readers keep in
    /// memory stays valid, so a worker draining its queue does not make every page render
    /// afresh.
    pub async fn commit_unseen(self) -> sqlx::Result<()> {
        self.tx.commit().await?;
        self.writes.all.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A start-up failure, worded for the operator with the URL's password masked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL « {0} » n'est ni sqlite:// ni postgres://")]
    UnknownScheme(String),
    #[error("impossible de créer le dossier de la base SQLite pour « {url} » : {source}")]
    CreateDir { url: String, source: std::io::Error },
    #[error("impossible d'ouvrir la base de données « {url} » : {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("échec des migrations sur « {url} » : {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
}

impl Db {
    /// Opens the pool; for SQLite, creates the file (and its folder) when missing.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let masked = mask_password(url);
        let backend =
            Backend::from_url(url).ok_or_else(|| DbError::UnknownScheme(masked.clone()))?;
        let session_url = SecretString::from(url);
        let url = match backend {
            Backend::Sqlite => {
                create_sqlite_dir(url).map_err(|source| DbError::CreateDir {
                    url: masked.clone(),
                    source,
                })?;
                with_create_mode(url)
            }
            Backend::Postgres => url.to_owned(),
        };
        let quarantine = Quarantine::default();
        let lending = quarantine.clone();
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .before_acquire(move |conn, _meta| {
                let lending = lending.clone();
                Box::pin(async move { lending.may_lend::<Any>(conn).await })
            })
            .after_connect(move |conn, _meta| {
                let quarantine = quarantine.clone();
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer. FULL: every commit is on
                        // disk before it is acknowledged (NORMAL could lose the last ones to
                        // a power cut); group commit keeps that to one sync per batch.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                        quarantine
                            .mark_read_only::<Any>(conn, SQLITE_BUSY_TIMEOUT_MS)
                            .await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&url)
            .await
            .map_err(|source| DbError::Connect {
                url: masked.clone(),
                source,
            })?;
        Ok(Db {
            pool,
            backend,
            url: session_url,
            writer: Arc::new(Mutex::new(())),
            writes: Arc::default(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. On SQLite, writers take turns in this process
    /// and then take the database's write lock up front (`BEGIN IMMEDIATE`), so none fails
    /// upgrading a read lock; the busy timeout still covers other processes.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        match self.backend {
            Backend::Sqlite => {
                let writer = self.writer.clone().lock_owned().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    writes: self.writes.clone(),
                    _writer: Some(writer),
                })
            }
            Backend::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                writes: self.writes.clone(),
                _writer: None,
            }),
        }
    }

    /// How many write transactions ([`Db::begin_write`]) this process has committed with
    /// [`WriteTx::commit`] (not the bookkeeping of [`WriteTx::commit_unseen`]). A reading
    /// taken when it was `n` is current as long as it is still `n`, as far as this process
    /// knows (other processes on the same database are not counted).
    pub fn writes_committed(&self) -> u64 {
        self.writes.seen.load(Ordering::Acquire)
    }

    /// How many write transactions this process has committed, whatever they wrote.
    pub fn transactions_committed(&self) -> u64 {
        self.writes.all.load(Ordering::Acquire)
    }

    /// The migrations embedded in this binary for this backend.
    fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        }
    }

    /// Runs the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        self.migrator().run(&self.pool).await
    }

    /// Whether a migration this binary carries is not applied yet (for `/readyz`).
    pub async fn migrations_pending(&self) -> sqlx::Result<bool> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?;
        Ok(self
            .migrator()
            .iter()
            .any(|migration| !applied.contains(&migration.version)))
    }

    /// Has PostgreSQL read `tables` afresh for its planner (SQLite plans without them). Every
    /// connection then drops the plans it keeps for statements on those tables, foreign-key
    /// checks included: plans chosen while a table was empty stay wrong as it grows when
    /// nothing analyses it (autovacuum may be off, or not yet woken).
    pub async fn refresh_statistics(&self, tables: &[&str]) -> sqlx::Result<()> {
        if self.backend == Backend::Sqlite || tables.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The SQLite database's file (none on PostgreSQL or in memory).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        sqlite_file(self.url.expose_secret())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs.
/// Whether `error` says the database is out of reach or cannot take writes for now (a
/// connection lost or refused, a server shutting down or restarting, a file locked, read-only
/// or on a full disk), rather than something wrong with the query: worth trying again later,
/// so answered 503 with `Retry-After`, never 500.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if code.len() == 5 {
                // PostgreSQL's SQLSTATE: connection exceptions (class 08), too many
                // connections (53300), shutdown or restart (57P01–57P03), a database not
                // accepting connections (55000).
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "53300" | "57P01" | "57P02" | "57P03" | "55000"
                    )
            } else {
                // SQLite's result code: busy or locked (5, 6), read-only (8), I/O error (10),
                // disk full (13), cannot open (14); an extended code keeps the primary one in
                // its low byte.
                code.parse::<i32>()
                    .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
            }
        }
        _ => false,
    }
}

pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The database file a `sqlite://` URL names (none for `:memory:` or PostgreSQL).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    sqlite_path(url).map(std::path::PathBuf::from)
}

/// The file path of a `sqlite://` URL, when it names a file (not `:memory:`).
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

fn create_sqlite_dir(url: &str) -> std::io::Result<()> {
    match sqlite_path(url).and_then(|p| Path::new(p).parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// SQLite opens read-write without creating unless told; Obole creates its file on first run.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_only() {
        assert_eq!(
            mask_password("postgres://obole:s3cret@db.example.org:5432/obole"),
            "postgres://obole:***@db.example.org:5432/obole"
        );
        assert_eq!(
            mask_password("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            mask_password("sqlite://data/obole.db"),
            "sqlite://data/obole.db"
        );
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://data/obole.db"), Some("data/obole.db"));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(with_create_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            with_create_mode("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("sqlite://x"), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgresql://x"), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("mysql://x"), None);
    }

    #[tokio::test]
    async fn a_read_only_database_is_unavailable_and_a_broken_rule_is_not() {
        use sqlx::{Connection, SqliteConnection};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t (id) VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap();
        let duplicate = sqlx::query("INSERT INTO t (id) VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(!is_unavailable(&duplicate), "{duplicate}");
        let read_only = format!("sqlite://{}?mode=ro", file.display());
        let mut conn = SqliteConnection::connect(&read_only).await.unwrap();
        let refused = sqlx::query("INSERT INTO t (id) VALUES (2)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(is_unavailable(&refused), "{refused}");
        let missing = format!("sqlite://{}?mode=ro", dir.path().join("none.db").display());
        let unopened = SqliteConnection::connect(&missing).await.unwrap_err();
        assert!(is_unavailable(&unopened), "{unopened}");
    }
}
