//! The back-office dashboard's figures: money raised over recent periods, the recurring
//! revenue, the gifts whose payment failed. Each reads a bounded slice: money by day from
//! the ledger's summary ([`super::summaries`]), recurring gifts by status.

use sqlx::AnyPool;

use super::summaries::{DAY, day_of};
use crate::domain::donation::DonationStatus;
use crate::domain::recurring_gift::RecurringGiftStatus;

/// Money kept (less refunds and what disputes hold) since each start, one-off / recurring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Raised {
    pub today: i64,
    pub week: i64,
    pub month: i64,
    pub year: i64,
}

/// Since when each period counts.
#[derive(Debug, Clone, Copy)]
pub struct Periods {
    pub today: i64,
    pub week: i64,
    pub month: i64,
    pub year: i64,
}

/// (one-off, recurring) raised over each period.
///
/// Whole days are read from `donation_days` (at most a few rows a day, whatever the ledger);
/// a period that starts within a day (the last 7 and 30 days, from now) reads that first
/// day's remainder from the ledger, through its index by date: never more than a day's gifts.
pub async fn raised(pool: &AnyPool, since: Periods) -> sqlx::Result<(Raised, Raised)> {
    let starts = [since.today, since.week, since.month, since.year];
    let first_day = starts
        .iter()
        .map(|&s| whole_days_from(s))
        .min()
        .unwrap_or(0);
    let days: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT day, recurring, CAST(SUM(kept_cents) AS BIGINT) FROM donation_days \
         WHERE day >= $1 GROUP BY day, recurring",
    )
    .bind(first_day)
    .fetch_all(pool)
    .await?;
    let mut kept = [[0i64; 4]; 2];
    for (period, &start) in starts.iter().enumerate() {
        let from = whole_days_from(start);
        for &(day, recurring, cents) in &days {
            if day >= from {
                kept[usize::from(recurring == 1)][period] += cents;
            }
        }
        if start < from * DAY {
            let (one_off, recurring) = kept_between(pool, start, from * DAY).await?;
            kept[0][period] += one_off;
            kept[1][period] += recurring;
        }
    }
    let raised = |k: [i64; 4]| Raised {
        today: k[0],
        week: k[1],
        month: k[2],
        year: k[3],
    };
    Ok((raised(kept[0]), raised(kept[1])))
}

/// The first whole day (UTC) at or after `start`.
fn whole_days_from(start: i64) -> i64 {
    day_of(start + DAY - 1)
}

/// (one-off, recurring) money kept by gifts received in `[from, until)`, from the ledger.
async fn kept_between(pool: &AnyPool, from: i64, until: i64) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT \
             CAST(COALESCE(SUM(CASE WHEN frequency = 'once' THEN amount_cents - refunded_cents - disputed_cents ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN frequency = 'once' THEN 0 ELSE amount_cents - refunded_cents - disputed_cents END), 0) AS BIGINT) \
         FROM donations WHERE status = $1 AND donated_at >= $2 AND donated_at < $3",
    )
    .bind(DonationStatus::Paid.as_str())
    .bind(from)
    .bind(until)
    .fetch_one(pool)
    .await
}

/// The recurring gifts that run: how many, and what they bring a month (a yearly gift
/// counts a twelfth, in whole cents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recurring {
    pub active: i64,
    pub monthly_revenue_cents: i64,
    pub past_due: i64,
    pub paused: i64,
}

pub async fn recurring(pool: &AnyPool) -> sqlx::Result<Recurring> {
    let (active, monthly, yearly, past_due, paused): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT \
             CAST(COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = $1 AND frequency = 'monthly' THEN amount_cents ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = $1 AND frequency = 'yearly' THEN amount_cents ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = $3 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM recurring_gifts WHERE status IN ($1, $2, $3)",
    )
    .bind(RecurringGiftStatus::Active.as_str())
    .bind(RecurringGiftStatus::PastDue.as_str())
    .bind(RecurringGiftStatus::Paused.as_str())
    .fetch_one(pool)
    .await?;
    Ok(Recurring {
        active,
        monthly_revenue_cents: monthly + yearly / 12,
        past_due,
        paused,
    })
}

/// Failed renewals since a time: how many runs of failures began, how many were recovered
/// by a later payment, and what the recovered gifts bring a month (a yearly gift counts a
/// twelfth).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recoveries {
    pub failed: i64,
    pub recovered: i64,
    pub recovered_monthly_cents: i64,
}

pub async fn recoveries(pool: &AnyPool, since: i64) -> sqlx::Result<Recoveries> {
    let (failed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM payment_failures WHERE failed_at >= $1")
            .bind(since)
            .fetch_one(pool)
            .await?;
    let (recovered, monthly, yearly): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN g.frequency = 'yearly' THEN 0 ELSE g.amount_cents END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN g.frequency = 'yearly' THEN g.amount_cents ELSE 0 END), 0) AS BIGINT) \
         FROM payment_failures f JOIN recurring_gifts g ON g.id = f.recurring_gift_id \
         WHERE f.recovered_at >= $1",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(Recoveries {
        failed,
        recovered,
        recovered_monthly_cents: monthly + yearly / 12,
    })
}

/// A recurring gift whose last payment failed: someone should follow it up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PastDue {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub amount_cents: i64,
    pub frequency: String,
    pub campaign_title: String,
    pub updated_at: i64,
}

/// The oldest failures first, at most `limit`.
pub async fn past_due(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<PastDue>> {
    sqlx::query_as(
        "SELECT g.id, s.email, s.first_name, s.last_name, g.amount_cents, g.frequency, \
             c.title AS campaign_title, g.updated_at \
         FROM recurring_gifts g JOIN supporters s ON s.id = g.supporter_id \
             JOIN campaigns c ON c.id = g.campaign_id \
         WHERE g.status = $1 ORDER BY g.updated_at, g.id LIMIT $2",
    )
    .bind(RecurringGiftStatus::PastDue.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Every recurring gift that ever started (not those still waiting for a first payment):
/// (created, cancelled, frequency, amount).
pub async fn gift_spans(pool: &AnyPool) -> sqlx::Result<Vec<(i64, Option<i64>, String, i64)>> {
    sqlx::query_as(
        "SELECT created_at, canceled_at, frequency, amount_cents FROM recurring_gifts \
         WHERE status <> $1",
    )
    .bind(RecurringGiftStatus::Incomplete.as_str())
    .fetch_all(pool)
    .await
}

/// Money kept per day (UTC) since `since` (a midnight): (day number since the epoch, cents).
pub async fn daily(pool: &AnyPool, since: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as(
        "SELECT day, CAST(SUM(kept_cents) AS BIGINT) FROM donation_days \
         WHERE day >= $1 GROUP BY day ORDER BY day",
    )
    .bind(day_of(since))
    .fetch_all(pool)
    .await
}

/// Gifts by where they came from since `since`: (origin, checkouts started, completed,
/// amount of the completed), the origin being the link's `utm_source`, else the referring
/// site, else `direct`; the biggest first.
pub async fn sources(pool: &AnyPool, since: i64) -> sqlx::Result<Vec<(String, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT COALESCE(utm_source, referrer, 'direct') AS origin, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN amount_cents ELSE 0 END), 0) AS BIGINT) AS raised \
         FROM pledges WHERE created_at >= $1 AND stripe_checkout_session_id IS NOT NULL \
         GROUP BY COALESCE(utm_source, referrer, 'direct') \
         ORDER BY raised DESC, origin LIMIT 20",
    )
    .bind(since)
    .fetch_all(pool)
    .await
}

/// Each public campaign's way to a gift since `since`: (title, page views, form views,
/// checkouts started, completed).
///
/// The pledges are grouped by `+campaign_id`, the same value: SQLite's planner otherwise
/// walks every pledge in campaign order (`pledges_campaign`) to spare itself a sort, instead
/// of reading the month's through `pledges_created` (455 ms against 2 ms at 1M donations,
/// BENCHMARKS.md). The unary `+` is SQLite's documented way to keep an index out of a plan;
/// PostgreSQL reads it as the number itself and plans as before.
pub async fn funnel(pool: &AnyPool, since: i64) -> sqlx::Result<Vec<(String, i64, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT c.title, CAST(COALESCE(f.page_views, 0) AS BIGINT), \
             CAST(COALESCE(f.form_views, 0) AS BIGINT), CAST(COALESCE(p.started, 0) AS BIGINT), \
             CAST(COALESCE(p.completed, 0) AS BIGINT) \
         FROM campaigns c \
         LEFT JOIN (SELECT campaign_id, SUM(page_views) AS page_views, SUM(form_views) AS form_views \
             FROM campaign_funnel WHERE day >= $1 GROUP BY campaign_id) f ON f.campaign_id = c.id \
         LEFT JOIN (SELECT +campaign_id AS campaign_id, COUNT(*) AS started, \
                 SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed \
             FROM pledges WHERE created_at >= $2 AND stripe_checkout_session_id IS NOT NULL \
             GROUP BY +campaign_id) p ON p.campaign_id = c.id \
         WHERE c.status <> 'draft' ORDER BY c.position, c.starts_at DESC, c.id",
    )
    .bind(since / 86_400)
    .bind(since)
    .fetch_all(pool)
    .await
}
