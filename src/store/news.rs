//! News posts from the field, per project and optionally per campaign.

use sqlx::{AnyConnection, AnyPool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NewsPost {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub published_at: i64,
}

/// A post to add: a project's, or one of its campaigns' when `campaign_id` is set.
#[derive(Debug, Clone)]
pub struct NewNewsPost<'a> {
    pub project_id: i64,
    pub campaign_id: Option<i64>,
    pub slug: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Shown from then on; may be in the future (scheduled).
    pub published_at: i64,
}

/// Adds a post; returns its id.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewNewsPost<'_>,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO news_posts (project_id, campaign_id, slug, title, body, published_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.project_id)
    .bind(new.campaign_id)
    .bind(new.slug)
    .bind(new.title)
    .bind(new.body)
    .bind(new.published_at)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Latest news for a campaign: its own posts and its project's general ones.
pub async fn for_campaign(
    pool: &AnyPool,
    campaign_id: i64,
    project_id: i64,
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<NewsPost>> {
    sqlx::query_as(
        "SELECT id, title, body, published_at FROM news_posts \
         WHERE (campaign_id = $1 OR (project_id = $2 AND campaign_id IS NULL)) AND published_at <= $3 \
         ORDER BY published_at DESC, id DESC LIMIT $4",
    )
    .bind(campaign_id)
    .bind(project_id)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Latest news of a project, whichever campaign they belong to.
pub async fn for_project(
    pool: &AnyPool,
    project_id: i64,
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<NewsPost>> {
    sqlx::query_as(
        "SELECT id, title, body, published_at FROM news_posts \
         WHERE project_id = $1 AND published_at <= $2 \
         ORDER BY published_at DESC, id DESC LIMIT $3",
    )
    .bind(project_id)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A news post and the project it is from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectNews {
    pub title: String,
    pub body: String,
    pub published_at: i64,
    pub project_slug: String,
    pub project_name: String,
}

/// The latest news of a few projects (those a supporter gave to), newest first.
pub async fn for_projects(
    pool: &AnyPool,
    project_ids: &[i64],
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<ProjectNews>> {
    if project_ids.is_empty() {
        return Ok(Vec::new());
    }
    let listed: Vec<String> = (0..project_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    let sql = format!(
        "SELECT n.title, n.body, n.published_at, p.slug AS project_slug, p.name AS project_name \
         FROM news_posts n JOIN projects p ON p.id = n.project_id \
         WHERE n.published_at <= $1 AND n.project_id IN ({}) \
         ORDER BY n.published_at DESC, n.id DESC LIMIT $2",
        listed.join(", ")
    );
    let mut query = sqlx::query_as(&sql).bind(now).bind(limit);
    for id in project_ids {
        query = query.bind(id);
    }
    query.fetch_all(pool).await
}

/// The project a post belongs to; `None` if there is no such post.
pub async fn project_of(conn: &mut AnyConnection, post_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT project_id FROM news_posts WHERE id = $1")
        .bind(post_id)
        .fetch_optional(conn)
        .await
}

/// Who is told of a project's news: supporters who asked for news and whose money went to
/// one of its campaigns, not erased; those with an id above `after`, `limit` at most, by id.
pub async fn recipients(
    conn: &mut AnyConnection,
    project_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT s.id FROM supporters s \
         WHERE s.id > $1 AND s.news_consent = 1 AND s.erased_at IS NULL AND EXISTS ( \
             SELECT 1 FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
             WHERE d.supporter_id = s.id AND c.project_id = $2 AND d.status = 'paid') \
         ORDER BY s.id LIMIT $3",
    )
    .bind(after)
    .bind(project_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A post as its email and the back-office show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub published_at: i64,
    pub project_slug: String,
    pub project_name: String,
    pub campaign_title: Option<String>,
}

const POSTS: &str = "SELECT n.id, n.title, n.body, n.published_at, p.slug AS project_slug, \
     p.name AS project_name, c.title AS campaign_title \
     FROM news_posts n JOIN projects p ON p.id = n.project_id \
     LEFT JOIN campaigns c ON c.id = n.campaign_id";

pub async fn find(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Post>> {
    sqlx::query_as(&format!("{POSTS} WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The newest posts first, scheduled ones included, `limit` at most.
pub async fn latest(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<Post>> {
    sqlx::query_as(&format!(
        "{POSTS} ORDER BY n.published_at DESC, n.id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A slug for a new post of the project: `base`, or `base-2`, `base-3`… if taken.
pub async fn free_slug(
    conn: &mut AnyConnection,
    project_id: i64,
    base: &str,
) -> sqlx::Result<String> {
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT slug FROM news_posts WHERE project_id = $1 AND (slug = $2 OR slug LIKE $3)",
    )
    .bind(project_id)
    .bind(base)
    .bind(format!("{base}-%"))
    .fetch_all(conn)
    .await?;
    let mut candidate = base.to_owned();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}
