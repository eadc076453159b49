//! Projects as the back-office edits them: every status, their raw fields, their impact tiers
//! replaced as a whole, their status moved.

use sqlx::{AnyConnection, AnyPool};

use super::campaigns::{self, TierOf};
use super::projects::{self, NewProject};
use crate::domain::campaign::{CampaignStatus, ProjectStatus};
use crate::domain::project_form::ProjectDraft;

/// A line of the back-office's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub full_name: String,
    #[sqlx(try_from = "String")]
    pub status: ProjectStatus,
    pub campaigns: i64,
    pub raised_cents: i64,
}

/// Every project, drafts included, by name.
pub async fn all(pool: &AnyPool) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT p.id, p.slug, p.name, p.full_name, p.status, \
             (SELECT COUNT(*) FROM campaigns c WHERE c.project_id = p.id) AS campaigns, \
             CAST(COALESCE((SELECT SUM(k.raised_cents) FROM campaigns c \
                 JOIN campaign_counters k ON k.campaign_id = c.id \
                 WHERE c.project_id = p.id), 0) AS BIGINT) AS raised_cents \
         FROM projects p ORDER BY p.name, p.id",
    )
    .fetch_all(pool)
    .await
}

/// What the edit form starts from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Editable {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub full_name: String,
    pub tagline: String,
    pub description: String,
    pub location: String,
    pub cover_image: String,
    pub impact_unit_cents: Option<i64>,
    pub impact_unit_label: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ProjectStatus,
}

pub async fn editable(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Editable>> {
    sqlx::query_as(
        "SELECT id, slug, name, full_name, tagline, description, location, cover_image, \
             impact_unit_cents, impact_unit_label, status FROM projects WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The project's own impact tiers: (amount, label).
pub async fn tiers(pool: &AnyPool, id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT amount_cents, label FROM impact_tiers \
         WHERE project_id = $1 AND campaign_id IS NULL ORDER BY amount_cents, position",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Whether another project than `except` has that slug.
pub async fn slug_taken(pool: &AnyPool, slug: &str, except: Option<i64>) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1 AND id <> $2")
            .bind(slug)
            .bind(except.unwrap_or(0))
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// Creates the project, a draft, with its tiers; its id.
pub async fn create(
    conn: &mut AnyConnection,
    draft: &ProjectDraft,
    cover_image: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let new = NewProject {
        slug: draft.slug.as_str(),
        name: &draft.name,
        full_name: &draft.full_name,
        tagline: &draft.tagline,
        description: &draft.description,
        location: &draft.location,
        cover_image,
        impact_unit: draft
            .impact_unit
            .as_ref()
            .map(|(cents, label)| (*cents, label.as_str())),
    };
    let id = projects::insert(conn, &new, now).await?;
    set_status(conn, id, ProjectStatus::Draft, now).await?;
    replace_tiers(conn, id, draft, now).await?;
    Ok(id)
}

pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    draft: &ProjectDraft,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE projects SET slug = $1, name = $2, full_name = $3, tagline = $4, \
             description = $5, location = $6, impact_unit_cents = $7, impact_unit_label = $8, \
             updated_at = $9 WHERE id = $10",
    )
    .bind(draft.slug.as_str())
    .bind(&draft.name)
    .bind(&draft.full_name)
    .bind(&draft.tagline)
    .bind(&draft.description)
    .bind(&draft.location)
    .bind(draft.impact_unit.as_ref().map(|(cents, _)| *cents))
    .bind(draft.impact_unit.as_ref().map(|(_, label)| label.as_str()))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    replace_tiers(conn, id, draft, now).await
}

async fn replace_tiers(
    conn: &mut AnyConnection,
    id: i64,
    draft: &ProjectDraft,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM impact_tiers WHERE project_id = $1 AND campaign_id IS NULL")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (position, (cents, label)) in draft.tiers.iter().enumerate() {
        campaigns::insert_impact_tier(
            conn,
            TierOf::Project(id),
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
    status: ProjectStatus,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE projects SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// How many of the project's campaigns are public (online or closed).
pub async fn public_campaigns(conn: &mut AnyConnection, id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM campaigns WHERE project_id = $1 AND status <> $2")
        .bind(id)
        .bind(CampaignStatus::Draft.as_str())
        .fetch_one(conn)
        .await
}

/// The project's status (for a campaign's status change).
pub async fn status(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<ProjectStatus>> {
    let raw: Option<String> = sqlx::query_scalar("SELECT status FROM projects WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(raw.and_then(|s| s.parse().ok()))
}
