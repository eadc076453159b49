//! The scheduled reconciliation with Stripe ([`crate::payments::reconcile`]), one run per
//! period of its [`Schedule`]: by default, every night at 02:00 UTC.

use super::schedule::Schedule;
use super::{Job, JobContext, JobError};
use crate::domain::dates::{self, DAY};
use crate::payments::reconcile::{self, DEFAULT_LOOKBACK_DAYS, ReconcileError};
use crate::store::reconcile_runs::StartedBy;

/// A failed run is tried again a few times; the next period's reads the same objects anyway.
pub const MAX_ATTEMPTS: i64 = 3;
/// Where in each period the run falls: at night, when few gifts are made.
const OFFSET: i64 = 2 * 3600;

/// Every `hours` hours (0: never; `obole reconcile` by hand instead).
pub fn schedule(hours: u64) -> Schedule {
    let every = i64::try_from(hours).unwrap_or(0) * 3600;
    Schedule::new(every, OFFSET, |period| Job::Reconcile { period })
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
