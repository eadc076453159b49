//! Campaigns, with their totals read from the counters (never from the donations).

use sqlx::{AnyConnection, AnyPool};

use super::counters;

use crate::domain::campaign::CampaignStatus;
use crate::domain::dedication::DedicationKind;
use crate::domain::frequency::Frequency;
use crate::domain::money::Currency;
use crate::domain::slug::Slug;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub story: String,
    pub cover_image: String,
    pub goal_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: CampaignStatus,
    pub project_id: i64,
    pub project_slug: String,
    pub project_name: String,
    pub raised_cents: i64,
    pub donors: i64,
}

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub project_id: i64,
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub story: &'a str,
    pub cover_image: &'a str,
    pub goal_cents: i64,
    pub currency: Currency,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub status: CampaignStatus,
}

/// Creates a campaign and its counters (at zero: pages read totals from them, so a campaign
/// never exists without); returns its id. Call inside a write transaction
/// ([`crate::db::Db::begin_write`]), so that both land or neither.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewCampaign<'_>,
    now: i64,
) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO campaigns (project_id, slug, title, summary, story, cover_image, goal_cents, \
             currency, starts_at, ends_at, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(new.project_id)
    .bind(new.slug)
    .bind(new.title)
    .bind(new.summary)
    .bind(new.story)
    .bind(new.cover_image)
    .bind(new.goal_cents)
    .bind(new.currency.as_str())
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(new.status.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    counters::create_for_campaign(conn, id, now).await?;
    Ok(id)
}

const SELECT_CAMPAIGNS: &str = "\
    SELECT c.id, c.slug, c.title, c.summary, c.story, c.cover_image, c.goal_cents, c.currency, \
           c.starts_at, c.ends_at, c.status, c.project_id, p.slug AS project_slug, \
           p.name AS project_name, k.raised_cents, k.donors \
    FROM campaigns c \
    JOIN projects p ON p.id = c.project_id \
    JOIN (SELECT campaign_id, CAST(SUM(raised_cents) AS BIGINT) AS raised_cents, \
                 CAST(SUM(donors) AS BIGINT) AS donors \
          FROM campaign_counters GROUP BY campaign_id) k ON k.campaign_id = c.id";

/// Published campaigns still open at `now`, newest first: the home page.
pub async fn open(pool: &AnyPool, now: i64) -> sqlx::Result<Vec<Campaign>> {
    let sql = format!(
        "{SELECT_CAMPAIGNS} WHERE c.status = $2 AND (c.ends_at IS NULL OR c.ends_at > $1) \
         ORDER BY c.position, c.starts_at DESC, c.id"
    );
    sqlx::query_as(&sql)
        .bind(now)
        .bind(CampaignStatus::Published.as_str())
        .fetch_all(pool)
        .await
}

/// Every campaign the public may see (published or closed), for the API.
pub async fn public(pool: &AnyPool) -> sqlx::Result<Vec<Campaign>> {
    let sql = format!(
        "{SELECT_CAMPAIGNS} WHERE c.status <> $1 ORDER BY c.position, c.starts_at DESC, c.id"
    );
    sqlx::query_as(&sql)
        .bind(CampaignStatus::Draft.as_str())
        .fetch_all(pool)
        .await
}

/// A public campaign by slug; drafts are not found.
pub async fn find_public(pool: &AnyPool, slug: &Slug) -> sqlx::Result<Option<Campaign>> {
    let sql = format!("{SELECT_CAMPAIGNS} WHERE c.slug = $1 AND c.status <> $2");
    sqlx::query_as(&sql)
        .bind(slug.as_str())
        .bind(CampaignStatus::Draft.as_str())
        .fetch_optional(pool)
        .await
}

/// Any campaign by id, drafts included: what the back-office previews.
pub async fn find_by_id(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Campaign>> {
    let sql = format!("{SELECT_CAMPAIGNS} WHERE c.id = $1");
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
}

/// A public campaign by id (a pledge's, for the thank-you page).
pub async fn find_public_by_id(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Campaign>> {
    let sql = format!("{SELECT_CAMPAIGNS} WHERE c.id = $1 AND c.status <> $2");
    sqlx::query_as(&sql)
        .bind(id)
        .bind(CampaignStatus::Draft.as_str())
        .fetch_optional(pool)
        .await
}

/// The public campaigns a supporter gave to, open ones first, then by start (newest first).
pub async fn supported_by(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Vec<Campaign>> {
    let sql = format!(
        "{SELECT_CAMPAIGNS} WHERE c.status <> $2 AND c.id IN \
             (SELECT campaign_id FROM donations WHERE supporter_id = $1 AND status = $3) \
         ORDER BY CASE c.status WHEN $4 THEN 0 ELSE 1 END, c.starts_at DESC, c.id"
    );
    sqlx::query_as(&sql)
        .bind(supporter_id)
        .bind(CampaignStatus::Draft.as_str())
        .bind(crate::domain::donation::DonationStatus::Paid.as_str())
        .bind(CampaignStatus::Published.as_str())
        .fetch_all(pool)
        .await
}

/// A project's public campaigns, open ones first.
pub async fn for_project(pool: &AnyPool, project_id: i64) -> sqlx::Result<Vec<Campaign>> {
    let sql = format!(
        "{SELECT_CAMPAIGNS} WHERE c.project_id = $1 AND c.status <> $2 \
         ORDER BY CASE WHEN c.status = $3 THEN 0 ELSE 1 END, c.starts_at DESC"
    );
    sqlx::query_as(&sql)
        .bind(project_id)
        .bind(CampaignStatus::Draft.as_str())
        .bind(CampaignStatus::Published.as_str())
        .fetch_all(pool)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImpactTier {
    pub amount_cents: i64,
    pub label: String,
    pub campaign_id: Option<i64>,
}

impl ImpactTier {
    /// What a gift of `amount_cents` makes possible: the largest tier it reaches (`tiers` in
    /// ascending amounts, as [`impact_tiers`] reads them).
    pub fn made_possible_by(tiers: &[ImpactTier], amount_cents: i64) -> Option<&str> {
        tiers
            .iter()
            .rev()
            .find(|tier| tier.amount_cents <= amount_cents)
            .map(|tier| tier.label.as_str())
    }
}

/// Whose impact tier it is: a project's (every campaign of it shows it) or one campaign's own.
#[derive(Debug, Clone, Copy)]
pub enum TierOf {
    Project(i64),
    Campaign(i64),
}

/// Adds an impact tier ("25 € = a month of sport for a child"); `position` orders tiers of
/// the same amount.
pub async fn insert_impact_tier(
    conn: &mut AnyConnection,
    of: TierOf,
    amount_cents: i64,
    label: &str,
    position: i64,
    now: i64,
) -> sqlx::Result<()> {
    let (project_id, campaign_id) = match of {
        TierOf::Project(id) => (Some(id), None),
        TierOf::Campaign(id) => (None, Some(id)),
    };
    sqlx::query(
        "INSERT INTO impact_tiers (project_id, campaign_id, amount_cents, label, position, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(project_id)
    .bind(campaign_id)
    .bind(amount_cents)
    .bind(label)
    .bind(position)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The campaign's own impact tiers, or its project's when it has none.
pub async fn impact_tiers(
    pool: &AnyPool,
    campaign_id: i64,
    project_id: i64,
) -> sqlx::Result<Vec<ImpactTier>> {
    let tiers: Vec<ImpactTier> = sqlx::query_as(
        "SELECT amount_cents, label, campaign_id FROM impact_tiers \
         WHERE campaign_id = $1 OR (project_id = $2 AND campaign_id IS NULL) \
         ORDER BY amount_cents, position",
    )
    .bind(campaign_id)
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    let has_own = tiers.iter().any(|t| t.campaign_id == Some(campaign_id));
    Ok(tiers
        .into_iter()
        .filter(|t| t.campaign_id.is_some() == has_own)
        .collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicSupporter {
    pub public_name: String,
    pub donated_at: i64,
    pub dedication_kind: Option<DedicationKind>,
    pub dedication_name: Option<String>,
}

/// The latest public supporters of campaign `$1`, at most `$2`, newest first.
///
/// The three conditions after the campaign are written as literals, never bound: they are the
/// predicate of the partial index `donations_public_recent` (migration 0005), and a planner
/// only uses a partial index when the query's WHERE implies its predicate at planning time,
/// which a bound parameter cannot (PostgreSQL's generic plans included). With it a page view
/// reads `limit` index entries whatever the size of the ledger or the public share. So the
/// status is spelled here, not bound from `DonationStatus::Paid` (a unit test below checks
/// they agree).
pub const RECENT_PUBLIC_SUPPORTERS: &str = "SELECT public_name, donated_at, dedication_kind, dedication_name FROM donations \
     WHERE campaign_id = $1 AND status = 'paid' AND show_publicly = 1 AND public_name IS NOT NULL \
     ORDER BY donated_at DESC, id DESC LIMIT $2";

/// The latest donors who agreed to be shown; see [`RECENT_PUBLIC_SUPPORTERS`] for the index
/// that keeps its cost flat.
pub async fn recent_public_supporters(
    pool: &AnyPool,
    campaign_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<PublicSupporter>> {
    sqlx::query_as(RECENT_PUBLIC_SUPPORTERS)
        .bind(campaign_id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestedAmount {
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    pub amount_cents: i64,
    pub label: Option<String>,
}

/// An amount to offer on the donation form for `frequency`, with the impact it pays for.
pub struct NewSuggestedAmount<'a> {
    pub frequency: Frequency,
    pub amount_cents: i64,
    pub label: Option<&'a str>,
    /// Display order.
    pub position: i64,
}

pub async fn insert_suggested_amount(
    conn: &mut AnyConnection,
    campaign_id: i64,
    new: &NewSuggestedAmount<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO suggested_amounts (campaign_id, frequency, amount_cents, label, position, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(campaign_id)
    .bind(new.frequency.as_str())
    .bind(new.amount_cents)
    .bind(new.label)
    .bind(new.position)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The amounts offered on the donation form, per frequency, in display order.
pub async fn suggested_amounts(
    pool: &AnyPool,
    campaign_id: i64,
) -> sqlx::Result<Vec<SuggestedAmount>> {
    sqlx::query_as(
        "SELECT frequency, amount_cents, label FROM suggested_amounts WHERE campaign_id = $1 \
         ORDER BY position, amount_cents",
    )
    .bind(campaign_id)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::RECENT_PUBLIC_SUPPORTERS;
    use crate::domain::donation::DonationStatus;

    #[test]
    fn the_public_supporters_query_spells_the_paid_status() {
        let condition = format!("status = '{}'", DonationStatus::Paid.as_str());
        assert!(RECENT_PUBLIC_SUPPORTERS.contains(&condition));
    }
}
