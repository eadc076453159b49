//! The organisation's status as every page's footer states it (« Association reconnue
//! d’utilité publique »), from the settings the back-office edits. Pages are rendered without
//! waiting on the database for it: the last reading is used, and one older than a minute is
//! read again in the background (so every instance follows a change within a minute; the
//! instance that saved it at once).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::domain::organisation::{CATEGORIES, Organisation};
use crate::store::settings;

const MAX_AGE: Duration = Duration::from_secs(60);

pub struct PublicStatus {
    reading: RwLock<(String, Instant)>,
    refreshing: AtomicBool,
}

impl Default for PublicStatus {
    fn default() -> Self {
        PublicStatus {
            // Stale from the start: the first page asks for a reading.
            reading: RwLock::new((String::new(), Instant::now() - 2 * MAX_AGE)),
            refreshing: AtomicBool::new(false),
        }
    }
}

/// The status in words: public utility first, else the receipt's category; empty when the
/// settings say neither.
pub fn describe(o: &Organisation) -> String {
    if o.public_utility != 0 {
        return "Association reconnue d’utilité publique".to_owned();
    }
    CATEGORIES
        .iter()
        .find(|(key, _)| *key == o.category)
        .map_or_else(String::new, |(_, label)| (*label).to_owned())
}

impl PublicStatus {
    /// The last reading; asks for a new one in the background when it is old.
    pub fn current(self: &Arc<Self>, db: &Db) -> String {
        let (text, read_at) = self
            .reading
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if read_at.elapsed() > MAX_AGE && !self.refreshing.swap(true, Ordering::AcqRel) {
            let (status, db) = (Arc::clone(self), db.clone());
            tokio::spawn(async move {
                if let Err(error) = status.refresh(&db).await {
                    tracing::warn!(%error, "organisation status not read");
                }
                status.refreshing.store(false, Ordering::Release);
            });
        }
        text
    }

    /// Reads the settings now (at start-up, and when the team saved them).
    pub async fn refresh(&self, db: &Db) -> sqlx::Result<()> {
        let organisation = settings::organisation(db.pool()).await?;
        *self.reading.write().unwrap_or_else(PoisonError::into_inner) =
            (describe(&organisation), Instant::now());
        Ok(())
    }
}
