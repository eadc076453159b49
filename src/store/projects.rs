//! Projects (PEPS, ARPEJ…): what the money is for.

use sqlx::{AnyConnection, AnyPool};

use crate::domain::campaign::{CampaignStatus, ProjectStatus};
use crate::domain::slug::Slug;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Project {
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
    /// Raised by the project's public campaigns, from their counters.
    pub raised_cents: i64,
    #[sqlx(try_from = "String")]
    pub status: ProjectStatus,
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub full_name: &'a str,
    pub tagline: &'a str,
    pub description: &'a str,
    pub location: &'a str,
    pub cover_image: &'a str,
    /// What one impact unit costs and what the home page counts in it.
    pub impact_unit: Option<(i64, &'a str)>,
}

/// Creates a project; returns its id.
pub async fn insert(conn: &mut AnyConnection, new: &NewProject<'_>, now: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO projects (slug, name, full_name, tagline, description, location, cover_image, \
             impact_unit_cents, impact_unit_label, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(new.slug)
    .bind(new.name)
    .bind(new.full_name)
    .bind(new.tagline)
    .bind(new.description)
    .bind(new.location)
    .bind(new.cover_image)
    .bind(new.impact_unit.map(|(cents, _)| cents))
    .bind(new.impact_unit.map(|(_, label)| label))
    .bind(now)
    .fetch_one(conn)
    .await
}

// Joins every counter shard of every public campaign (not a draft: $1): the SUM adds them all
// up.
const SELECT_PROJECTS: &str = "\
    SELECT p.id, p.slug, p.name, p.full_name, p.tagline, p.description, p.location, \
           p.cover_image, p.impact_unit_cents, p.impact_unit_label, p.status, \
           CAST(COALESCE(SUM(k.raised_cents), 0) AS BIGINT) AS raised_cents \
    FROM projects p \
    LEFT JOIN campaigns c ON c.project_id = p.id AND c.status <> $1 \
    LEFT JOIN campaign_counters k ON k.campaign_id = c.id";

/// Every column but the sum, for `SELECT_PROJECTS`.
const GROUP_PROJECTS: &str = "GROUP BY p.id, p.slug, p.name, p.full_name, p.tagline, \
    p.description, p.location, p.cover_image, p.impact_unit_cents, p.impact_unit_label, p.status";

/// The projects online (not drafts, not closed) with what their campaigns raised.
pub async fn list(pool: &AnyPool) -> sqlx::Result<Vec<Project>> {
    let sql = format!("{SELECT_PROJECTS} WHERE p.status = $2 {GROUP_PROJECTS} ORDER BY p.id");
    sqlx::query_as(&sql)
        .bind(CampaignStatus::Draft.as_str())
        .bind(ProjectStatus::Published.as_str())
        .fetch_all(pool)
        .await
}

/// A public project (online or closed) by its slug.
pub async fn find_by_slug(pool: &AnyPool, slug: &Slug) -> sqlx::Result<Option<Project>> {
    let sql = format!("{SELECT_PROJECTS} WHERE p.slug = $2 AND p.status <> $1 {GROUP_PROJECTS}");
    sqlx::query_as(&sql)
        .bind(CampaignStatus::Draft.as_str())
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await
}

/// Any project, drafts included, by id: what the back-office previews.
pub async fn find_by_id(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Project>> {
    let sql = format!("{SELECT_PROJECTS} WHERE p.id = $2 {GROUP_PROJECTS}");
    sqlx::query_as(&sql)
        .bind(CampaignStatus::Draft.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The project's cover image, which a new campaign of it starts with.
pub async fn cover_image(pool: &AnyPool, project_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT cover_image FROM projects WHERE id = $1")
        .bind(project_id)
        .fetch_optional(pool)
        .await
}
