//! Visitor sessions stored in Obole's own database. tower-sessions' SQL stores do not speak
//! sqlx's `Any`, so the store gets a small pool of the backend's concrete type beside the main
//! one; [`SessionStore`] hides which of the two it is.

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::Sqlite;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Backend, Db, Quarantine, SQLITE_BUSY_TIMEOUT_MS};

/// Sessions are small and short: a few connections are plenty.
const MAX_CONNECTIONS: u32 = 4;

/// The session store on this database, whichever backend it is.
#[derive(Debug, Clone)]
pub struct SessionStore(Store);

#[derive(Debug, Clone)]
enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Db {
    /// A session store on this database, its table created and ready to use.
    pub async fn session_store(&self) -> sqlx::Result<SessionStore> {
        let url = self.url.expose_secret();
        let store = match self.backend {
            Backend::Sqlite => {
                // As the main pool: readers beside the writer, and writers wait their turn.
                let options = SqliteConnectOptions::from_str(url)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS.into()));
                // As the main pool's, connections a fault left unable to write are closed.
                let quarantine = Quarantine::default();
                let lending = quarantine.clone();
                let pool = SqlitePoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .before_acquire(move |conn, _meta| {
                        let lending = lending.clone();
                        Box::pin(async move { lending.may_lend::<Sqlite>(conn).await })
                    })
                    .after_connect(move |conn, _meta| {
                        let quarantine = quarantine.clone();
                        Box::pin(async move {
                            quarantine
                                .mark_read_only::<Sqlite>(conn, SQLITE_BUSY_TIMEOUT_MS)
                                .await
                        })
                    })
                    .connect_with(options)
                    .await?;
                let store = SqliteStore::new(pool);
                store.migrate().await?;
                Store::Sqlite(store)
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .connect(url)
                    .await?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                Store::Postgres(store)
            }
        };
        Ok(SessionStore(store))
    }
}

#[async_trait::async_trait]
impl session_store::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.create(record).await,
            Store::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.save(record).await,
            Store::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.0 {
            Store::Sqlite(store) => store.load(id).await,
            Store::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete(id).await,
            Store::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.0 {
            Store::Sqlite(store) => store.delete_expired().await,
            Store::Postgres(store) => store.delete_expired().await,
        }
    }
}
