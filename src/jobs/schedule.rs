//! Jobs that come back on a schedule (the reconciliation, housekeeping): each worker enqueues
//! the run of the next period, and the job's dedupe key (its kind and period) makes it one
//! run however many workers there are.

use super::{Job, enqueue_at};
use crate::db::Db;

/// The payload of a scheduled job: which period it runs for.
#[derive(serde::Deserialize)]
pub(super) struct Period {
    pub period: i64,
}

/// Enqueues the run of the next period, once per worker and period.
pub struct Schedule {
    /// Seconds between runs; 0 for none.
    every: i64,
    /// Where in each period the run falls.
    offset: i64,
    job: fn(i64) -> Job,
    enqueued: Option<i64>,
}

impl Schedule {
    /// Runs of `job(period)` every `every` seconds (0: never), `offset` seconds into each
    /// period, counted from 1970-01-01 00:00 UTC.
    pub fn new(every: i64, offset: i64, job: fn(i64) -> Job) -> Schedule {
        Schedule {
            every,
            offset,
            job,
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
        enqueue_at(&mut tx, &(self.job)(next), run_at, now).await?;
        tx.commit().await?;
        self.enqueued = Some(next);
        Ok(())
    }

    /// The first period whose run falls after `now`, and when.
    fn next_after(&self, now: i64) -> (i64, i64) {
        let period = (now - self.offset).div_euclid(self.every) + 1;
        (period, period * self.every + self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::DAY;

    #[test]
    fn the_next_run_is_tomorrow_night_then_the_night_after() {
        let offset = 2 * 3600;
        let schedule = Schedule::new(DAY, offset, |period| Job::Reconcile { period });
        let day = 1_767_225_600; // 2026-01-01 00:00 UTC
        let next = |now: i64| schedule.next_after(now).1;
        assert_eq!(next(day + 10 * 3600), day + DAY + offset, "after today's");
        assert_eq!(next(day + 3600), day + offset, "before today's");
        assert_eq!(next(day + offset), day + DAY + offset, "at today's");
    }
}
