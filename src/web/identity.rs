//! What every page's frame shows of the organisation from the settings the back-office
//! edits: its logo (in the header) and its status (in the footer: « Association reconnue
//! d’utilité publique »). Pages are rendered without waiting on the database for them: the
//! last reading is used, and one older than a minute is read again in the background (so
//! every instance follows a change within a minute; the instance that saved it at once).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::domain::organisation::{CATEGORIES, Organisation};
use crate::store::settings;

const MAX_AGE: Duration = Duration::from_secs(60);

/// The organisation as the frame shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// « Association reconnue d’utilité publique », or empty.
    pub status: String,
    /// The uploaded logo's address (`/medias/…`), or empty for the default mark.
    pub logo: String,
}

/// The last reading and when it was made (`None`: never, so the first page asks for one).
#[derive(Default)]
pub struct PublicIdentity {
    reading: RwLock<(Identity, Option<Instant>)>,
    refreshing: AtomicBool,
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

impl PublicIdentity {
    /// The last reading; asks for a new one in the background when it is old.
    pub fn current(self: &Arc<Self>, db: &Db) -> Identity {
        let (identity, read_at) = self
            .reading
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let stale = read_at.is_none_or(|at| at.elapsed() > MAX_AGE);
        if stale && !self.refreshing.swap(true, Ordering::AcqRel) {
            let (identity, db) = (Arc::clone(self), db.clone());
            tokio::spawn(async move {
                if let Err(error) = identity.refresh(&db).await {
                    tracing::warn!(%error, "organisation identity not read");
                }
                identity.refreshing.store(false, Ordering::Release);
            });
        }
        identity
    }

    /// Reads the settings now (at start-up, and when the team saved them).
    pub async fn refresh(&self, db: &Db) -> sqlx::Result<()> {
        let organisation = settings::organisation(db.pool()).await?;
        let identity = Identity {
            status: describe(&organisation),
            logo: organisation.logo_image,
        };
        *self.reading.write().unwrap_or_else(PoisonError::into_inner) =
            (identity, Some(Instant::now()));
        Ok(())
    }
}
