//! Housekeeping, every hour through the job worker (one run per hour whatever the number of
//! workers): what has served its purpose is removed or closed, each by its own rule.
//! - Visitor sessions past their expiry are deleted (tower-sessions' own rule).
//! - Sign-in and email-change links expired for `SIGN_IN_RETENTION_DAYS` are deleted: until
//!   then, a supporter who clicks an old link is told it expired rather than that it is wrong.
//! - Pledges still `open` 25 hours after their checkout opened are marked `expired`: Stripe
//!   closes a Checkout Session after 24 hours, and its `checkout.session.expired` event was
//!   missed. Should the payment turn up after all (a late event, the reconciliation), the
//!   pledge still settles as completed ([`crate::domain::pledge::PledgeStatus::settle`]).
//! - Jobs done for `JOBS_RETENTION_DAYS` are deleted (dead ones stay, for the team to see);
//!   the emails sent keep their own record (`emails_sent`).

use tower_sessions::session_store::ExpiredDeletion;

use super::schedule::Schedule;
use super::{Job, JobContext, JobError};
use crate::db::Db;
use crate::domain::dates::{self, DAY};
use crate::store::{jobs, pledges, sign_in_tokens};

/// How long after it opened an unpaid checkout is given up.
pub const OPEN_PLEDGE_SECONDS: i64 = 25 * 3600;
const HOUR: i64 = 3600;
/// A quarter past each hour, out of the way of the reconciliation's hour.
const OFFSET: i64 = 15 * 60;

/// One run an hour, or none when `on` is false.
pub fn schedule(on: bool) -> Schedule {
    let every = if on { HOUR } else { 0 };
    Schedule::new(every, OFFSET, |period| Job::Housekeeping { period })
}

/// How long what is swept is kept, in days.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub jobs_days: u64,
    pub sign_in_days: u64,
}

/// What one run removed or closed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub sign_in_links: u64,
    pub pledges_expired: u64,
    pub jobs: u64,
}

pub(super) async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let retention = Retention {
        jobs_days: ctx.config.jobs_retention_days,
        sign_in_days: ctx.config.sign_in_retention_days,
    };
    let swept = sweep(&ctx.db, retention, dates::now()).await?;
    tracing::info!(
        sign_in_links = swept.sign_in_links,
        pledges_expired = swept.pledges_expired,
        jobs = swept.jobs,
        "housekeeping"
    );
    Ok(())
}

/// Sweeps everything by the rules above, as of `now`.
pub async fn sweep(db: &Db, retention: Retention, now: i64) -> Result<Swept, JobError> {
    db.session_store()
        .await?
        .delete_expired()
        .await
        .map_err(|error| JobError::Transient(format!("sessions : {error}")))?;
    let days = |n: u64| i64::try_from(n).unwrap_or(i64::MAX / DAY) * DAY;
    Ok(Swept {
        sign_in_links: sign_in_tokens::forget_expired(db, now - days(retention.sign_in_days))
            .await?,
        pledges_expired: pledges::expire_abandoned(db, now - OPEN_PLEDGE_SECONDS, now).await?,
        jobs: jobs::forget_done(db, now - days(retention.jobs_days)).await?,
    })
}
