//! The way to a gift, per campaign and day: views of its page and of its donation form,
//! counted in memory (a page served from the cache counts too) and added to
//! `campaign_funnel` every few seconds, in one write no page shows (so the page cache stays
//! warm). Checkouts and gifts are the pledges themselves. No cookie and no personal data: a
//! count per campaign and day. A crash loses at most the last few seconds of counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::db::Db;
use crate::domain::dates::{self, DAY};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    PageView,
    FormView,
}

/// Counts waiting to be written: (campaign slug, day, step) → views.
#[derive(Default)]
pub struct Funnel {
    pending: Mutex<HashMap<(String, i64, Step), i64>>,
}

/// Distinct keys kept between two writes at most (made-up slugs never reach here: only
/// pages that answered 200 count).
const MAX_KEYS: usize = 10_000;
/// How often counts are written.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

impl Funnel {
    pub fn count(&self, slug: &str, step: Step) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (slug.to_owned(), dates::now() / DAY, step);
        if pending.len() < MAX_KEYS || pending.contains_key(&key) {
            *pending.entry(key).or_default() += 1;
        }
    }

    /// Adds what was counted to the table, in one transaction; nothing counted, no write.
    pub async fn flush(&self, db: &Db) -> sqlx::Result<()> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if taken.is_empty() {
            return Ok(());
        }
        let mut tx = db.begin_write().await?;
        for ((slug, day, step), views) in &taken {
            let (page, form) = match step {
                Step::PageView => (*views, 0),
                Step::FormView => (0, *views),
            };
            sqlx::query(
                "INSERT INTO campaign_funnel (campaign_id, day, page_views, form_views) \
                 SELECT id, $1, $2, $3 FROM campaigns WHERE slug = $4 \
                 ON CONFLICT (campaign_id, day) DO UPDATE SET \
                     page_views = campaign_funnel.page_views + excluded.page_views, \
                     form_views = campaign_funnel.form_views + excluded.form_views",
            )
            .bind(day)
            .bind(page)
            .bind(form)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit_unseen().await
    }

    /// Writes the counts every few seconds, for as long as the process runs.
    pub fn keep_flushing(self: Arc<Self>, db: Db) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FLUSH_EVERY);
            loop {
                every.tick().await;
                if let Err(error) = self.flush(&db).await {
                    tracing::warn!(%error, "funnel counts not written");
                }
            }
        });
    }
}

/// Counts a view of a campaign's page that answered 200 (from the cache or not).
pub async fn count_page_views(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let slug = request
        .uri()
        .path()
        .strip_prefix("/campagnes/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(str::to_owned);
    let response = next.run(request).await;
    if let (Some(slug), true) = (slug, response.status().is_success()) {
        state.funnel.count(&slug, Step::PageView);
    }
    response
}
