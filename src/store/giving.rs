//! What « Mon espace » reads of one supporter's giving. Each query reads that supporter's
//! rows only, through indexes that start with `supporter_id`: its cost does not grow with
//! the ledger.

use sqlx::AnyPool;

use crate::domain::donation::DonationStatus;
use crate::domain::frequency::Frequency;
use crate::domain::giving::Received;
use crate::domain::money::Currency;
use crate::domain::recurring_gift::RecurringGiftStatus;

/// Every gift that brought money: what the figures are made of.
pub async fn received(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Vec<Received>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT donated_at, amount_cents - refunded_cents - disputed_cents FROM donations \
         WHERE supporter_id = $1 AND status = $2",
    )
    .bind(supporter_id)
    .bind(DonationStatus::Paid.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(donated_at, kept_cents)| Received {
            donated_at,
            kept_cents,
        })
        .collect())
}

/// One line of the supporter's donations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DonationLine {
    pub donated_at: i64,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    #[sqlx(try_from = "String")]
    pub status: DonationStatus,
    pub campaign_title: String,
    pub campaign_slug: String,
}

/// A page of the supporter's donations, newest first.
pub async fn donations(
    pool: &AnyPool,
    supporter_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<DonationLine>> {
    sqlx::query_as(
        "SELECT d.donated_at, d.amount_cents, d.refunded_cents, d.currency, d.frequency, d.status, \
             c.title AS campaign_title, c.slug AS campaign_slug \
         FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
         WHERE d.supporter_id = $1 \
         ORDER BY d.donated_at DESC, d.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(supporter_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

pub async fn count_donations(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM donations WHERE supporter_id = $1")
        .bind(supporter_id)
        .fetch_one(pool)
        .await
}

/// One of the supporter's recurring gifts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftLine {
    pub id: i64,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    #[sqlx(try_from = "String")]
    pub status: RecurringGiftStatus,
    pub cancel_at_period_end: i64,
    pub current_period_end: Option<i64>,
    pub paused_until: Option<i64>,
    pub created_at: i64,
    pub stripe_subscription_id: Option<String>,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub campaign_slug: String,
    /// The cancelled gift this one takes up again.
    pub restarted_from: Option<i64>,
    /// The newest gift that took this one up again, once it was cancelled.
    pub restarted_as: Option<i64>,
}

/// A gift (`g`), its campaign and where it comes from and leads to.
const GIFT_COLUMNS: &str = "g.id, g.amount_cents, g.currency, g.frequency, g.status, \
     g.cancel_at_period_end, g.current_period_end, g.paused_until, g.created_at, \
     g.stripe_subscription_id, g.campaign_id, c.title AS campaign_title, \
     c.slug AS campaign_slug, p.restarts_gift_id AS restarted_from, \
     (SELECT MAX(n.id) FROM pledges np JOIN recurring_gifts n ON n.pledge_id = np.id \
      WHERE np.restarts_gift_id = g.id) AS restarted_as";

/// Where [`GIFT_COLUMNS`] read from.
const GIFTS: &str = "recurring_gifts g JOIN campaigns c ON c.id = g.campaign_id \
     LEFT JOIN pledges p ON p.id = g.pledge_id";

/// One of the supporter's recurring gifts; `None` for anyone else's.
pub async fn gift(
    pool: &AnyPool,
    supporter_id: i64,
    gift_id: i64,
) -> sqlx::Result<Option<GiftLine>> {
    sqlx::query_as(&format!(
        "SELECT {GIFT_COLUMNS} FROM {GIFTS} WHERE g.id = $1 AND g.supporter_id = $2"
    ))
    .bind(gift_id)
    .bind(supporter_id)
    .fetch_optional(pool)
    .await
}

/// The supporter's recurring gifts: those whose payment failed first (they need the
/// supporter), then the running ones, then the rest; newest first within each.
pub async fn recurring_gifts(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Vec<GiftLine>> {
    sqlx::query_as(&format!(
        "SELECT {GIFT_COLUMNS} FROM {GIFTS} WHERE g.supporter_id = $1 \
         ORDER BY CASE g.status WHEN $2 THEN 0 WHEN $3 THEN 1 WHEN $4 THEN 2 ELSE 3 END, \
             g.created_at DESC, g.id DESC"
    ))
    .bind(supporter_id)
    .bind(RecurringGiftStatus::PastDue.as_str())
    .bind(RecurringGiftStatus::Active.as_str())
    .bind(RecurringGiftStatus::Paused.as_str())
    .fetch_all(pool)
    .await
}

/// What the supporter gave to one project (money kept: refunds deducted), with what the
/// project says its money does.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectGiving {
    pub project_id: i64,
    pub project_slug: String,
    pub project_name: String,
    pub given_cents: i64,
    pub impact_unit_cents: Option<i64>,
    pub impact_unit_label: Option<String>,
}

/// The projects the supporter gave to, the most given first.
pub async fn by_project(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Vec<ProjectGiving>> {
    sqlx::query_as(
        "SELECT p.id AS project_id, p.slug AS project_slug, p.name AS project_name, \
             CAST(SUM(d.amount_cents - d.refunded_cents - d.disputed_cents) AS BIGINT) AS given_cents, \
             p.impact_unit_cents, p.impact_unit_label \
         FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
             JOIN projects p ON p.id = c.project_id \
         WHERE d.supporter_id = $1 AND d.status = $2 \
         GROUP BY p.id, p.slug, p.name, p.impact_unit_cents, p.impact_unit_label \
         ORDER BY given_cents DESC, p.id",
    )
    .bind(supporter_id)
    .bind(DonationStatus::Paid.as_str())
    .fetch_all(pool)
    .await
}

/// A project's own impact tiers (cents, label), cheapest first.
pub async fn project_tiers(pool: &AnyPool, project_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT amount_cents, label FROM impact_tiers WHERE project_id = $1 \
         ORDER BY amount_cents, position",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
}
