//! Public JSON API (v1) for the organisation's main website and progress widgets.
//! Field names are stable; README documents them.

use axum::extract::State;
use axum::http::Method;
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::cors::{Any, CorsLayer};

use super::extract::{AppPath, AppQuery};
use super::{AppState, page_cache};
use crate::domain::campaign::CampaignStatus;
use crate::domain::dates;
use crate::domain::money::Currency;
use crate::domain::slug::Slug;
use crate::error::{AppError, Result};
use crate::store::campaigns::{self, Campaign};

/// Any site may read public progress; answers come from the page cache when it has them.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns))
        .route("/campaigns/{slug}", get(show_campaign))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve,
        ))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET]),
        )
}

#[derive(Debug, Serialize)]
pub struct CampaignJson {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub project: ProjectRef,
    pub goal_cents: i64,
    pub raised_cents: i64,
    pub donors: i64,
    pub currency: Currency,
    pub status: CampaignStatus,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct ProjectRef {
    pub slug: String,
    pub name: String,
    pub url: String,
}

impl CampaignJson {
    fn new(c: Campaign, base_url: &str) -> CampaignJson {
        CampaignJson {
            id: c.id,
            url: format!("{base_url}/campagnes/{}", c.slug),
            project: ProjectRef {
                url: format!("{base_url}/projets/{}", c.project_slug),
                slug: c.project_slug,
                name: c.project_name,
            },
            slug: c.slug,
            title: c.title,
            goal_cents: c.goal_cents,
            raised_cents: c.raised_cents,
            donors: c.donors,
            currency: c.currency,
            status: c.status,
            starts_at: dates::rfc3339(c.starts_at),
            ends_at: c.ends_at.and_then(dates::rfc3339),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusFilter {
    Published,
    Closed,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<StatusFilter>,
}

#[derive(Debug, Serialize)]
struct CampaignList {
    campaigns: Vec<CampaignJson>,
}

async fn list_campaigns(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<CampaignList>> {
    let wanted = query.status.map(|s| match s {
        StatusFilter::Published => CampaignStatus::Published,
        StatusFilter::Closed => CampaignStatus::Closed,
    });
    let campaigns = campaigns::public(state.db.pool())
        .await?
        .into_iter()
        .filter(|c| wanted.is_none_or(|w| c.status == w))
        .map(|c| CampaignJson::new(c, &state.base_url))
        .collect();
    Ok(Json(CampaignList { campaigns }))
}

async fn show_campaign(
    State(state): State<AppState>,
    AppPath(slug): AppPath<Slug>,
) -> Result<Json<CampaignJson>> {
    let campaign = campaigns::find_public(state.db.pool(), &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(CampaignJson::new(campaign, &state.base_url)))
}
