//! The public site: home, campaign pages, project pages.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::middleware;
use axum::response::Html;
use axum::routing::get;

use super::AppState;
use super::extract::{AppPath, AppQuery};
use super::layout::{Layout, SocialCard};
use super::share::{ShareLink, absolute, share_links};
use super::views::{CampaignView, ImpactTierView, NewsView, ProjectView, ReachView, SupporterView};
use super::{funnel, page_cache};
use crate::domain::amount::{AmountLimits, parse_amount};
use crate::domain::attribution;
use crate::domain::dates;
use crate::domain::frequency::Frequency;
use crate::domain::money::{Currency, format_count, format_money};
use crate::domain::slug::Slug;
use crate::error::{AppError, Result};
use crate::store::{campaigns, counters, news, projects};

const RECENT_SUPPORTERS: i64 = 12;
const NEWS_ON_PAGE: i64 = 5;

/// The pages, served from the page cache when it has them.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/campagnes/{slug}", get(campaign_page))
        .route("/projets/{slug}", get(project_page))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve,
        ))
        // Outside the cache: a page it serves counts too.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            funnel::count_page_views,
        ))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    layout: Layout,
    campaigns: Vec<CampaignView>,
    projects: Vec<ProjectView>,
    total_raised: String,
    donors: String,
    reach: Vec<ReachView>,
}

async fn home(State(state): State<AppState>) -> Result<Html<String>> {
    let pool = state.db.pool();
    let now = dates::now();
    // Independent readings, each on its own connection, at once.
    let (campaigns, projects, totals) = tokio::try_join!(
        campaigns::open(pool, now),
        projects::list(pool),
        counters::organisation(pool),
    )?;
    let projects: Vec<ProjectView> = projects.iter().map(ProjectView::new).collect();
    let template = HomeTemplate {
        layout: Layout::new(&state, "Grâce à vous").with_description(
            "Soutenez les projets de protection de l'enfance : sport, familles, communautés.",
        ),
        campaigns: campaigns
            .iter()
            .map(|c| CampaignView::new(c, now))
            .collect(),
        reach: projects
            .iter()
            .filter_map(|p| p.reach.clone())
            .filter(|r| r.count != "0")
            .collect(),
        projects,
        total_raised: format_money(totals.raised_cents, Currency::EUR),
        donors: format_count(totals.donors),
    };
    Ok(Html(template.render()?))
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignTemplate {
    layout: Layout,
    campaign: CampaignView,
    tiers: Vec<ImpactTierView>,
    supporters: Vec<SupporterView>,
    news: Vec<NewsView>,
    /// The tax rule in a sentence, from the configuration.
    tax_rule: String,
    /// « un don de 50 € ne vous coûte que 17 € », computed with the same rule.
    tax_example: String,
    /// The link's tags, passed on to the donation form.
    utm_source: Option<String>,
    utm_campaign: Option<String>,
    /// Shown to the team (before it is public): says so, with the way back to its edit page.
    preview: Option<String>,
    /// The form's suggestions, a group per frequency, to start a gift from this page.
    quick_amounts: Vec<QuickAmounts>,
    /// The frequency ticked at first (`once`, or a link's preset).
    frequency_ticked: &'static str,
    share: Vec<ShareLink>,
}

/// One frequency's suggested amounts on the campaign page (the page shows the group of the
/// frequency ticked): (cents, « 30 € », ticked).
struct QuickAmounts {
    frequency: &'static str,
    amounts: Vec<(i64, String, bool)>,
}

/// The suggestions of each frequency, with the link's preset amount ticked (added to its
/// frequency's group when no suggestion has it).
fn quick_amounts(
    suggested: &[campaigns::SuggestedAmount],
    currency: Currency,
    preset: Preset,
) -> Vec<QuickAmounts> {
    Frequency::ALL
        .iter()
        .map(|&f| {
            let mut amounts: Vec<(i64, String, bool)> = suggested
                .iter()
                .filter(|a| a.frequency == f)
                .map(|a| {
                    (
                        a.amount_cents,
                        format_money(a.amount_cents, currency),
                        false,
                    )
                })
                .collect();
            if let Some(cents) = preset.amount_cents.filter(|_| f == preset.frequency) {
                match amounts.iter_mut().find(|a| a.0 == cents) {
                    Some(a) => a.2 = true,
                    None => amounts.push((cents, format_money(cents, currency), true)),
                }
            }
            QuickAmounts {
                frequency: f.as_str(),
                amounts,
            }
        })
        .filter(|group| !group.amounts.is_empty())
        .collect()
}

/// What a link to the campaign page may choose in advance, as a newsletter writes it
/// (`?montant=30&frequence=mensuel`): euros, and the frequency in French or as the form
/// sends it. What cannot be read is left out, never refused: the page is still the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Preset {
    frequency: Frequency,
    amount_cents: Option<i64>,
}

impl Preset {
    fn read(tags: &Tags, limits: AmountLimits) -> Preset {
        let frequency = match tags.frequence.as_deref().map(str::trim) {
            Some("mensuel" | "mensuelle" | "monthly") => Frequency::Monthly,
            Some("annuel" | "annuelle" | "yearly") => Frequency::Yearly,
            _ => Frequency::Once,
        };
        let amount_cents = tags
            .montant
            .as_deref()
            .and_then(|raw| parse_amount(raw, limits).ok());
        Preset {
            frequency,
            amount_cents,
        }
    }
}

/// The tags of the link that brought the visitor, passed on to the donation form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Tags {
    utm_source: Option<String>,
    utm_campaign: Option<String>,
    /// A preset gift ([`Preset`]).
    montant: Option<String>,
    frequence: Option<String>,
}

async fn campaign_page(
    State(state): State<AppState>,
    AppPath(slug): AppPath<Slug>,
    AppQuery(tags): AppQuery<Tags>,
) -> Result<Html<String>> {
    let campaign = campaigns::find_public(state.db.pool(), &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Html(campaign_html(&state, &campaign, tags, None).await?))
}

/// A campaign's page (also its preview in the back-office, which `preview` links back to).
pub(crate) async fn campaign_html(
    state: &AppState,
    campaign: &campaigns::Campaign,
    tags: Tags,
    preview: Option<String>,
) -> Result<String> {
    let pool = state.db.pool();
    let now = dates::now();
    let (tiers, supporters, news, suggested) = tokio::try_join!(
        campaigns::impact_tiers(pool, campaign.id, campaign.project_id),
        campaigns::recent_public_supporters(pool, campaign.id, RECENT_SUPPORTERS),
        news::for_campaign(pool, campaign.id, campaign.project_id, now, NEWS_ON_PAGE),
        campaigns::suggested_amounts(pool, campaign.id),
    )?;
    let preset = Preset::read(&tags, state.config.amount_limits);
    let page_url = format!("{}/campagnes/{}", state.base_url, campaign.slug);
    let template = CampaignTemplate {
        quick_amounts: quick_amounts(&suggested, campaign.currency, preset),
        frequency_ticked: preset.frequency.as_str(),
        share: share_links(&campaign.title, &page_url),
        layout: Layout::new(state, campaign.title.clone())
            .with_description(campaign.summary.clone())
            .with_card(SocialCard {
                url: page_url.clone(),
                image: absolute(&state.base_url, &campaign.cover_image),
            }),
        tiers: tiers
            .iter()
            .map(|t| ImpactTierView::new(t, campaign.currency))
            .collect(),
        supporters: supporters.iter().map(SupporterView::new).collect(),
        news: news.iter().map(NewsView::new).collect(),
        campaign: CampaignView::new(campaign, now),
        utm_source: attribution::tag(tags.utm_source.as_deref()),
        utm_campaign: attribution::tag(tags.utm_campaign.as_deref()),
        tax_rule: state.config.tax_reduction.describe(),
        tax_example: format!(
            "un don de {} ne vous coûte que {}",
            format_money(EXAMPLE_GIFT, campaign.currency),
            format_money(
                state
                    .config
                    .tax_reduction
                    .cost_after_reduction(EXAMPLE_GIFT, 1),
                campaign.currency
            )
        ),
        preview,
    };
    Ok(template.render()?)
}

/// The gift the campaign page takes as its example of the tax reduction: 50 €.
const EXAMPLE_GIFT: i64 = 5_000;

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectTemplate {
    layout: Layout,
    project: ProjectView,
    campaigns: Vec<CampaignView>,
    news: Vec<NewsView>,
    /// Shown to the team (before it is public): says so, with the way back to its edit page.
    preview: Option<String>,
}

async fn project_page(
    State(state): State<AppState>,
    AppPath(slug): AppPath<Slug>,
) -> Result<Html<String>> {
    let project = projects::find_by_slug(state.db.pool(), &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Html(project_html(&state, &project, None).await?))
}

/// A project's page (also its preview in the back-office, which `preview` links back to).
pub(crate) async fn project_html(
    state: &AppState,
    project: &projects::Project,
    preview: Option<String>,
) -> Result<String> {
    let pool = state.db.pool();
    let now = dates::now();
    let (campaigns, news) = tokio::try_join!(
        campaigns::for_project(pool, project.id),
        news::for_project(pool, project.id, now, NEWS_ON_PAGE),
    )?;
    let template = ProjectTemplate {
        layout: Layout::new(state, project.name.clone()).with_description(project.tagline.clone()),
        project: ProjectView::new(project),
        campaigns: campaigns
            .iter()
            .map(|c| CampaignView::new(c, now))
            .collect(),
        news: news.iter().map(NewsView::new).collect(),
        preview,
    };
    Ok(template.render()?)
}
