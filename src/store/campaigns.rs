//! Campaigns, with their totals read from the counters (never from the donations).

use sqlx::AnyPool;

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
    pub currency: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub status: String,
    pub project_id: i64,
    pub project_slug: String,
    pub project_name: String,
    pub raised_cents: i64,
    pub donors: i64,
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
        "{SELECT_CAMPAIGNS} WHERE c.status = 'published' AND (c.ends_at IS NULL OR c.ends_at > $1) \
         ORDER BY c.starts_at DESC, c.id"
    );
    sqlx::query_as(&sql).bind(now).fetch_all(pool).await
}

/// Every campaign the public may see (published or closed), for the API.
pub async fn public(pool: &AnyPool) -> sqlx::Result<Vec<Campaign>> {
    let sql =
        format!("{SELECT_CAMPAIGNS} WHERE c.status <> 'draft' ORDER BY c.starts_at DESC, c.id");
    sqlx::query_as(&sql).fetch_all(pool).await
}

/// A public campaign by slug; drafts are not found.
pub async fn find_public(pool: &AnyPool, slug: &Slug) -> sqlx::Result<Option<Campaign>> {
    let sql = format!("{SELECT_CAMPAIGNS} WHERE c.slug = $1 AND c.status <> 'draft'");
    sqlx::query_as(&sql)
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await
}

/// A public campaign by id (a pledge's, for the thank-you page).
pub async fn find_public_by_id(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Campaign>> {
    let sql = format!("{SELECT_CAMPAIGNS} WHERE c.id = $1 AND c.status <> 'draft'");
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
}

/// A project's public campaigns, open ones first.
pub async fn for_project(pool: &AnyPool, project_id: i64) -> sqlx::Result<Vec<Campaign>> {
    let sql = format!(
        "{SELECT_CAMPAIGNS} WHERE c.project_id = $1 AND c.status <> 'draft' \
         ORDER BY CASE c.status WHEN 'published' THEN 0 ELSE 1 END, c.starts_at DESC"
    );
    sqlx::query_as(&sql).bind(project_id).fetch_all(pool).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImpactTier {
    pub amount_cents: i64,
    pub label: String,
    pub campaign_id: Option<i64>,
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
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
}

/// The latest donors who agreed to be shown; the index on (campaign, date) bounds the cost.
pub async fn recent_public_supporters(
    pool: &AnyPool,
    campaign_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<PublicSupporter>> {
    sqlx::query_as(
        "SELECT public_name, donated_at, dedication_kind, dedication_name FROM donations \
         WHERE campaign_id = $1 AND status = 'paid' AND show_publicly = 1 AND public_name IS NOT NULL \
         ORDER BY donated_at DESC, id DESC LIMIT $2",
    )
    .bind(campaign_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestedAmount {
    pub frequency: String,
    pub amount_cents: i64,
    pub label: Option<String>,
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
