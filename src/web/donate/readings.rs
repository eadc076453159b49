//! What the donation form reads of its campaign (the campaign, its suggested amounts), kept in
//! memory for the form's views under the page cache's rule: until this instance commits a
//! write, and at most `PAGE_CACHE_SECONDS`. The form itself cannot be cached (each view has
//! its own CSRF token), but what it shows of the campaign can; a view then reads nothing.
//! Sending the form reads afresh: a gift is checked against the campaign as it is now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::domain::slug::Slug;
use crate::store::campaigns::{self, Campaign, SuggestedAmount};

/// Campaigns kept at most (only slugs that exist are kept).
const MAX_CAMPAIGNS: usize = 256;

/// What one campaign's form shows of it.
#[derive(Debug, Clone)]
pub struct CampaignReadings {
    pub campaign: Campaign,
    pub suggested: Vec<SuggestedAmount>,
}

impl CampaignReadings {
    /// Read now from the database; `None` when no public campaign has that slug.
    pub async fn read(db: &Db, slug: &Slug) -> sqlx::Result<Option<CampaignReadings>> {
        let pool = db.pool();
        let Some(campaign) = campaigns::find_public(pool, slug).await? else {
            return Ok(None);
        };
        let suggested = campaigns::suggested_amounts(pool, campaign.id).await?;
        Ok(Some(CampaignReadings {
            campaign,
            suggested,
        }))
    }
}

pub struct FormReadings {
    max_age: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    readings: Arc<CampaignReadings>,
    /// [`Db::writes_committed`] before they were read.
    writes: u64,
    read_at: Instant,
}

impl FormReadings {
    /// `max_age` zero keeps nothing.
    pub fn new(max_age: Duration) -> FormReadings {
        FormReadings {
            max_age,
            entries: Mutex::default(),
        }
    }

    /// The campaign's readings, from memory while they are current, else from the database.
    pub async fn get(&self, db: &Db, slug: &Slug) -> sqlx::Result<Option<Arc<CampaignReadings>>> {
        let writes = db.writes_committed();
        if let Some(entry) = self.lock().get(slug.as_str())
            && entry.writes == writes
            && entry.read_at.elapsed() < self.max_age
        {
            return Ok(Some(Arc::clone(&entry.readings)));
        }
        let Some(readings) = CampaignReadings::read(db, slug).await? else {
            return Ok(None);
        };
        let readings = Arc::new(readings);
        if !self.max_age.is_zero() {
            let mut entries = self.lock();
            if entries.len() >= MAX_CAMPAIGNS {
                entries.clear();
            }
            entries.insert(
                slug.as_str().to_owned(),
                Entry {
                    readings: Arc::clone(&readings),
                    writes,
                    read_at: Instant::now(),
                },
            );
        }
        Ok(Some(readings))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
