//! Campaigns as the back-office edits them: every status, their raw fields, their offers
//! (suggested amounts, impact tiers) replaced as a whole, their status moved.

use sqlx::{AnyConnection, AnyPool};

use super::campaigns::{self, NewCampaign, NewSuggestedAmount, TierOf};
use crate::domain::campaign::CampaignStatus;
use crate::domain::campaign_form::CampaignDraft;
use crate::domain::frequency::Frequency;
use crate::domain::money::Currency;

/// A line of the back-office's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub slug: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub status: CampaignStatus,
    pub project_name: String,
    pub goal_cents: i64,
    pub raised_cents: i64,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub position: i64,
}

/// Every campaign, in the home page's order, drafts included.
pub async fn all(pool: &AnyPool) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT c.id, c.slug, c.title, c.status, p.name AS project_name, c.goal_cents, \
             CAST(COALESCE((SELECT SUM(k.raised_cents) FROM campaign_counters k \
                 WHERE k.campaign_id = c.id), 0) AS BIGINT) AS raised_cents, \
             c.starts_at, c.ends_at, c.position \
         FROM campaigns c JOIN projects p ON p.id = c.project_id \
         ORDER BY CASE c.status WHEN 'published' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, \
             c.position, c.starts_at DESC, c.id",
    )
    .fetch_all(pool)
    .await
}

/// What the edit form starts from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Editable {
    pub id: i64,
    pub project_id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub story: String,
    pub goal_cents: i64,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: CampaignStatus,
    pub position: i64,
    pub cover_image: String,
}

pub async fn editable(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Editable>> {
    sqlx::query_as(
        "SELECT id, project_id, slug, title, summary, story, goal_cents, starts_at, ends_at, \
             status, position, cover_image FROM campaigns WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The campaign's own suggested amounts and impact tiers.
pub async fn offers(
    pool: &AnyPool,
    id: i64,
) -> sqlx::Result<(Vec<(Frequency, i64)>, Vec<(i64, String)>)> {
    let amounts = campaigns::suggested_amounts(pool, id)
        .await?
        .into_iter()
        .map(|a| (a.frequency, a.amount_cents))
        .collect();
    let tiers = sqlx::query_as(
        "SELECT amount_cents, label FROM impact_tiers WHERE campaign_id = $1 \
         ORDER BY amount_cents, position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok((amounts, tiers))
}

/// Whether another campaign has this slug.
pub async fn slug_taken(pool: &AnyPool, slug: &str, except: Option<i64>) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM campaigns WHERE slug = $1 AND id <> $2")
            .bind(slug)
            .bind(except.unwrap_or(0))
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// Creates the campaign, a draft, with its offers; its id.
pub async fn create(
    conn: &mut AnyConnection,
    draft: &CampaignDraft,
    cover_image: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let new = NewCampaign {
        project_id: draft.project_id,
        slug: draft.slug.as_str(),
        title: &draft.title,
        summary: &draft.summary,
        story: &draft.story,
        cover_image,
        goal_cents: draft.goal_cents,
        currency: Currency::EUR,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        status: CampaignStatus::Draft,
    };
    let id = campaigns::insert(conn, &new, now).await?;
    sqlx::query("UPDATE campaigns SET position = $1 WHERE id = $2")
        .bind(draft.position)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    replace_offers(conn, id, draft, now).await?;
    Ok(id)
}

/// Saves the campaign's texts, figures and offers (its status stays).
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    draft: &CampaignDraft,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE campaigns SET project_id = $1, slug = $2, title = $3, summary = $4, story = $5, \
             goal_cents = $6, starts_at = $7, ends_at = $8, position = $9, updated_at = $10 \
         WHERE id = $11",
    )
    .bind(draft.project_id)
    .bind(draft.slug.as_str())
    .bind(&draft.title)
    .bind(&draft.summary)
    .bind(&draft.story)
    .bind(draft.goal_cents)
    .bind(draft.starts_at)
    .bind(draft.ends_at)
    .bind(draft.position)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    replace_offers(conn, id, draft, now).await
}

async fn replace_offers(
    conn: &mut AnyConnection,
    id: i64,
    draft: &CampaignDraft,
    now: i64,
) -> sqlx::Result<()> {
    for table in ["suggested_amounts", "impact_tiers"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE campaign_id = $1"))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    for (position, (frequency, cents)) in draft.amounts.iter().enumerate() {
        // Labelled with the tier of that amount, if any, as the demo campaigns are.
        let label = draft
            .tiers
            .iter()
            .find(|(amount, _)| amount == cents)
            .map(|(_, label)| label.as_str());
        let amount = NewSuggestedAmount {
            frequency: *frequency,
            amount_cents: *cents,
            label,
            position: position as i64,
        };
        campaigns::insert_suggested_amount(conn, id, &amount, now).await?;
    }
    for (position, (cents, label)) in draft.tiers.iter().enumerate() {
        campaigns::insert_impact_tier(
            conn,
            TierOf::Campaign(id),
            *cents,
            label,
            position as i64,
            now,
        )
        .await?;
    }
    Ok(())
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: CampaignStatus,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The projects a campaign can belong to: (id, name).
pub async fn projects(pool: &AnyPool) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, name FROM projects ORDER BY name")
        .fetch_all(pool)
        .await
}
