//! The scheduled reconciliation with Stripe ([`crate::payments::reconcile`]): every worker
//! enqueues the next period's run, and the job's dedupe key (the period) makes it one run
//! however many workers there are. By default, every night at 02:00 UTC.

use super::{Job, JobContext, JobError, enqueue_at};
use crate::db::Db;
use crate::domain::dates::{self, DAY};
use crate::payments::reconcile::{self, DEFAULT_LOOKBACK_DAYS, ReconcileError};
use crate::store::reconcile_runs::StartedBy;

/// A failed run is tried again a few times; the next period's reads the same objects anyway.
pub const MAX_ATTEMPTS: i64 = 3;
/// Where in each period the run falls: at night, when few gifts are made.
const OFFSET: i64 = 2 * 3600;

#[derive(serde::Deserialize)]
pub(super) struct Period {
    pub period: i64,
}

/// Reconciles the last [`DEFAULT_LOOKBACK_DAYS`] days.
pub(super) async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let since = dates::now() - DEFAULT_LOOKBACK_DAYS * DAY;
    match reconcile::run_recorded(&ctx.payments, &ctx.db, StartedBy::Schedule, since).await {
        Ok(_) => Ok(()),
        Err(error @ ReconcileError::Unreadable(_)) => Err(JobError::Permanent(error.to_string())),
        Err(error) => Err(JobError::Transient(error.to_string())),
    }
}

/// Enqueues the reconciliation of the next period once per worker and period.
pub struct Schedule {
    /// Seconds between runs; 0 for none.
    every: i64,
    enqueued: Option<i64>,
}

impl Schedule {
    pub fn every_hours(hours: u64) -> Schedule {
        Schedule {
            every: i64::try_from(hours).unwrap_or(0) * 3600,
            enqueued: None,
        }
    }

    /// Enqueues the next run after `now`, unless this worker already has.
    pub async fn enqueue_next(&mut self, db: &Db, now: i64) -> sqlx::Result<()> {
        if self.every <= 0 {
            return Ok(());
        }
        let (next, run_at) = self.next_after(now);
        if self.enqueued == Some(next) {
            return Ok(());
        }
        let mut tx = db.begin_write().await?;
        enqueue_at(&mut tx, &Job::Reconcile { period: next }, run_at, now).await?;
        tx.commit().await?;
        self.enqueued = Some(next);
        Ok(())
    }

    /// The first period whose run falls after `now`, and when.
    fn next_after(&self, now: i64) -> (i64, i64) {
        let period = (now - OFFSET).div_euclid(self.every) + 1;
        (period, period * self.every + OFFSET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_tomorrow_night_then_the_night_after() {
        let schedule = Schedule::every_hours(24);
        let day = 1_767_225_600; // 2026-01-01 00:00 UTC
        let next = |now: i64| schedule.next_after(now).1;
        assert_eq!(next(day + 10 * 3600), day + DAY + OFFSET, "after today's");
        assert_eq!(next(day + 3600), day + OFFSET, "before today's");
        assert_eq!(next(day + OFFSET), day + DAY + OFFSET, "at today's");
    }
}
