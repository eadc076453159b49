//! « Grâce à vous »: what the supporter gave (this year, since the first gift, after the tax
//! reduction), their recurring gifts (those that need them first) and their donations, a
//! page at a time.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::sign_in::SignInTemplate;
use super::{fix_payment_url, form_token, personal};
use crate::domain::dates::{self, french_date, year_of};
use crate::domain::donation::DonationStatus;
use crate::domain::giving::Summary;
use crate::domain::impact;
use crate::domain::money::{Currency, format_count, format_money};
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::error::{AppError, Result};
use crate::store::campaigns;
use crate::store::giving::{self, DonationLine, GiftLine, ProjectGiving};
use crate::store::news::{self, ProjectNews};
use crate::store::notices;
use crate::web::AppState;
use crate::web::extract::AppQuery;
use crate::web::layout::Layout;
use crate::web::session::Visitor;
use crate::web::views::CampaignView;
use sqlx::AnyPool;

const PER_PAGE: i64 = 20;

#[derive(Template)]
#[template(path = "space/dashboard.html")]
struct DashboardTemplate {
    layout: Layout,
    csrf_token: String,
    first_name: String,
    summary: Summary,
    year: i32,
    since: String,
    this_year: String,
    this_year_cost: String,
    total: String,
    total_cost: String,
    tax_rule: String,
    gifts: Vec<GiftView>,
    impacts: Vec<ImpactView>,
    campaigns: Vec<CampaignView>,
    news: Vec<NewsView>,
    donations: Vec<DonationView>,
    page: i64,
    pages: i64,
}

/// What the supporter's money did for one project.
struct ImpactView {
    project_name: String,
    project_slug: String,
    given: String,
    /// « 2 enfants accompagnés pendant un an », or « 5 × un équipement sportif complet ».
    impact: Option<String>,
}

struct NewsView {
    title: String,
    date: String,
    project_name: String,
    project_slug: String,
    excerpt: String,
}

/// How many news posts the space shows.
const NEWS_SHOWN: i64 = 3;
/// The length of a news excerpt, in characters.
const EXCERPT: usize = 220;

struct GiftView {
    id: i64,
    amount: String,
    campaign_title: String,
    campaign_slug: String,
    status: &'static str,
    note: Option<String>,
    needs_attention: bool,
    fix_url: Option<String>,
}

struct DonationView {
    date: String,
    campaign_title: String,
    campaign_slug: String,
    amount: String,
    frequency: &'static str,
    status: String,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

/// `GET /mon-espace`: the space, or the sign-in form.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Response> {
    let now = dates::now();
    let Some(supporter_id) = visitor.supporter(now).await? else {
        return SignInTemplate::page(&state, &headers, StatusCode::OK, "", None, None);
    };
    let pool = state.db.pool();
    let Some(person) = notices::recipient(pool, supporter_id).await? else {
        // Erased since: the session means nothing any more.
        visitor.sign_out().await?;
        return SignInTemplate::page(&state, &headers, StatusCode::OK, "", None, None);
    };
    let page = query.page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::BadRequest(
            "Le numéro de page doit être 1 ou plus.".to_owned(),
        ));
    }
    let (received, gifts, count, donations, projects, campaigns) = tokio::try_join!(
        giving::received(pool, supporter_id),
        giving::recurring_gifts(pool, supporter_id),
        giving::count_donations(pool, supporter_id),
        giving::donations(
            pool,
            supporter_id,
            PER_PAGE,
            (page - 1).saturating_mul(PER_PAGE)
        ),
        giving::by_project(pool, supporter_id),
        campaigns::supported_by(pool, supporter_id),
    )?;
    let project_ids: Vec<i64> = projects.iter().map(|p| p.project_id).collect();
    let (impacts, news) = tokio::try_join!(
        impacts(pool, &projects),
        news::for_projects(pool, &project_ids, now, NEWS_SHOWN),
    )?;
    let pages = (count + PER_PAGE - 1) / PER_PAGE;
    if page > pages.max(1) {
        return Err(AppError::NotFound);
    }
    let tax = state.config.tax_reduction;
    let summary = Summary::of(&received, now, tax);
    let euros = |cents| format_money(cents, Currency::EUR);
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = DashboardTemplate {
        layout: Layout::new(&state, "Mon espace"),
        csrf_token,
        first_name: person.first_name,
        year: year_of(now),
        since: summary.first_at.map(french_date).unwrap_or_default(),
        this_year: euros(summary.this_year_cents),
        this_year_cost: euros(summary.this_year_cost_cents),
        total: euros(summary.total_cents),
        total_cost: euros(summary.total_cost_cents),
        tax_rule: tax.describe(),
        summary,
        gifts: gifts
            .iter()
            .map(|gift| gift_view(&state, gift, now))
            .collect(),
        impacts,
        campaigns: campaigns
            .iter()
            .map(|c| CampaignView::new(c, now))
            .collect(),
        news: news.iter().map(news_view).collect(),
        donations: donations.iter().map(donation_view).collect(),
        page,
        pages,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, Some(cookie)))
}

/// « Grâce à vous », project by project: the people reached, in the project's own count,
/// once there are two or more; else what the money comes to in its impact tiers.
async fn impacts(pool: &AnyPool, projects: &[ProjectGiving]) -> sqlx::Result<Vec<ImpactView>> {
    let mut views = Vec::with_capacity(projects.len());
    for project in projects.iter().filter(|p| p.given_cents > 0) {
        let reach = impact::reach(
            project.given_cents,
            project.impact_unit_cents,
            project.impact_unit_label.as_deref(),
        )
        .filter(|reach| reach.count >= 2)
        .map(|reach| format!("{} {}", format_count(reach.count), reach.label));
        let impact = match reach {
            Some(reach) => Some(reach),
            None => {
                let tiers = giving::project_tiers(pool, project.project_id).await?;
                impact::equivalent(&tiers, project.given_cents).map(|e| match e.times {
                    1 => e.label.to_owned(),
                    times => format!("{} × {}", format_count(times), e.label),
                })
            }
        };
        views.push(ImpactView {
            project_name: project.project_name.clone(),
            project_slug: project.project_slug.clone(),
            given: format_money(project.given_cents, Currency::EUR),
            impact,
        });
    }
    Ok(views)
}

fn news_view(post: &ProjectNews) -> NewsView {
    let first_paragraph = post.body.split("\n\n").next().unwrap_or_default().trim();
    let mut excerpt: String = first_paragraph.chars().take(EXCERPT).collect();
    if first_paragraph.chars().count() > EXCERPT {
        excerpt.push('…');
    }
    NewsView {
        title: post.title.clone(),
        date: french_date(post.published_at),
        project_name: post.project_name.clone(),
        project_slug: post.project_slug.clone(),
        excerpt,
    }
}

fn gift_view(state: &AppState, gift: &GiftLine, now: i64) -> GiftView {
    use RecurringGiftStatus::*;
    let per = gift.frequency.per();
    let status = match gift.status {
        Active if gift.cancel_at_period_end == 1 => "Prendra fin à l’échéance",
        Active => "Actif",
        PastDue => "Paiement en échec",
        Paused => "En pause",
        Canceled => "Arrêté",
        Incomplete => "En attente du premier paiement",
    };
    let note = match (gift.status, gift.current_period_end) {
        (Active, Some(end)) if gift.cancel_at_period_end == 1 => {
            Some(format!("dernier jour le {}", french_date(end)))
        }
        (Active, Some(end)) => Some(format!("prochain prélèvement le {}", french_date(end))),
        _ => Some(format!("depuis le {}", french_date(gift.created_at))),
    };
    GiftView {
        id: gift.id,
        amount: format!("{} {per}", format_money(gift.amount_cents, gift.currency)),
        campaign_title: gift.campaign_title.clone(),
        campaign_slug: gift.campaign_slug.clone(),
        status,
        note,
        needs_attention: gift.status == PastDue,
        fix_url: (gift.status == PastDue).then(|| fix_payment_url(state, gift.id, now)),
    }
}

fn donation_view(d: &DonationLine) -> DonationView {
    let status = match d.status {
        DonationStatus::Paid if d.refunded_cents > 0 => format!(
            "Remboursé en partie ({})",
            format_money(d.refunded_cents, d.currency)
        ),
        DonationStatus::Paid => "Reçu".to_owned(),
        DonationStatus::Refunded => "Remboursé".to_owned(),
        DonationStatus::Pending => "Prélèvement en cours".to_owned(),
        DonationStatus::Failed => "Échoué".to_owned(),
    };
    DonationView {
        date: french_date(d.donated_at),
        campaign_title: d.campaign_title.clone(),
        campaign_slug: d.campaign_slug.clone(),
        amount: format_money(d.amount_cents, d.currency),
        frequency: match d.frequency {
            crate::domain::frequency::Frequency::Once => "Une fois",
            crate::domain::frequency::Frequency::Monthly => "Mensuel",
            crate::domain::frequency::Frequency::Yearly => "Annuel",
        },
        status,
    }
}
