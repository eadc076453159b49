//! `GET /admin`: the money raised today, over 7 and 30 days and this year (one-off and
//! recurring), the recurring gifts and their monthly revenue, the gifts whose payment failed,
//! and each open campaign with its progress and the pace its goal needs.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use time::OffsetDateTime;

use super::charts::{self, Point};
use super::reconciliation::LastReconciliation;
use super::{Staff, StaffBar, form_token, page};
use crate::domain::dates::{self, DAY, french_date};
use crate::domain::money::{Currency, format_count, format_money};
use crate::domain::progress::{Progress, TimeLeft};
use crate::domain::recurring_history::{self, GiftSpan, month_starts};
use crate::domain::staff::Role;
use crate::error::Result;
use crate::store::figures::{self, Periods, Raised};
use crate::store::{campaigns, reconcile_runs};
use crate::web::AppState;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    periods: Vec<PeriodRow>,
    active_gifts: String,
    monthly_revenue: String,
    past_due_count: i64,
    paused: i64,
    /// Over the last 30 days: runs of failed renewals begun, and recovered since.
    failed_recently: i64,
    recovered_recently: i64,
    recovered_revenue: String,
    past_due: Vec<PastDueRow>,
    campaigns: Vec<CampaignRow>,
    daily_chart: String,
    daily: Vec<(String, String)>,
    revenue_chart: String,
    months: Vec<MonthRow>,
    sources: Vec<SourceRow>,
    funnel: Vec<FunnelRow>,
    reconciliation: LastReconciliation,
}

struct SourceRow {
    origin: String,
    started: i64,
    completed: i64,
    conversion: String,
    raised: String,
}

struct FunnelRow {
    campaign: String,
    page_views: i64,
    form_views: i64,
    started: i64,
    completed: i64,
}

/// `completed` over `started`, as « 42 % »; a dash for none started.
fn rate(completed: i64, started: i64) -> String {
    if started > 0 {
        format!("{} %", completed * 100 / started)
    } else {
        "—".to_owned()
    }
}

struct MonthRow {
    month: String,
    started: i64,
    stopped: i64,
    running: i64,
    revenue: String,
    churn: String,
}

struct PeriodRow {
    label: &'static str,
    one_off: String,
    recurring: String,
    total: String,
}

struct PastDueRow {
    name: String,
    email: String,
    amount: String,
    campaign: String,
    since: String,
}

struct CampaignRow {
    title: String,
    slug: String,
    raised: String,
    goal: String,
    percent: i64,
    bar_width: i64,
    time_left: String,
    pace: Option<String>,
}

/// Failed gifts shown on the dashboard (the oldest first).
const PAST_DUE_SHOWN: i64 = 20;
/// Days in the chart of daily amounts.
const CHART_DAYS: i64 = 30;

/// `décembre 2026`.
fn month_label(start: i64) -> String {
    // « 1er décembre 2026 » without its day.
    french_date(start)
        .split_once(' ')
        .map(|(_, month_year)| month_year.to_owned())
        .unwrap_or_default()
}

/// Midnight (UTC) of `now`'s day, and the first of January of its year.
fn day_and_year_start(now: i64) -> (i64, i64) {
    let t = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let day = t.replace_time(time::Time::MIDNIGHT);
    let year = day.replace_date(time::Date::from_ordinal_date(t.year(), 1).unwrap_or(day.date()));
    (day.unix_timestamp(), year.unix_timestamp())
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let now = dates::now();
    let (today, year) = day_and_year_start(now);
    let periods = Periods {
        today,
        week: now - 7 * DAY,
        month: now - 30 * DAY,
        year,
    };
    let pool = state.db.pool();
    let chart_since = today - (CHART_DAYS - 1) * DAY;
    let ((one_off, recurring), gifts, past_due, open, spans, days) = tokio::try_join!(
        figures::raised(pool, periods),
        figures::recurring(pool),
        figures::past_due(pool, PAST_DUE_SHOWN),
        campaigns::open(pool, now),
        figures::gift_spans(pool),
        figures::daily(pool, chart_since),
    )?;
    let (sources, funnel, recoveries, last_run) = tokio::try_join!(
        figures::sources(pool, periods.month),
        figures::funnel(pool, chart_since),
        figures::recoveries(pool, periods.month),
        reconcile_runs::latest(pool),
    )?;
    let daily_points: Vec<Point> = (0..CHART_DAYS)
        .map(|i| {
            let day_start = chart_since + i * DAY;
            let cents = days
                .iter()
                .find(|(day, _)| *day == day_start / DAY)
                .map_or(0, |(_, cents)| *cents);
            Point {
                label: format!(
                    "{} : {}",
                    french_date(day_start),
                    format_money(cents, Currency::EUR)
                ),
                cents,
            }
        })
        .collect();
    let spans: Vec<GiftSpan> = spans
        .into_iter()
        .map(|(created_at, canceled_at, frequency, amount)| GiftSpan {
            created_at,
            canceled_at,
            monthly_cents: if frequency == "yearly" {
                amount / 12
            } else {
                amount
            },
        })
        .collect();
    let months = recurring_history::by_month(&spans, &month_starts(now, 12), now);
    let revenue_points: Vec<Point> = months
        .iter()
        .map(|m| Point {
            label: format!(
                "{} : {}",
                month_label(m.start),
                format_money(m.monthly_revenue_at_end, Currency::EUR)
            ),
            cents: m.monthly_revenue_at_end,
        })
        .collect();
    let euros = |cents| format_money(cents, Currency::EUR);
    let row = |label, pick: fn(&Raised) -> i64| PeriodRow {
        label,
        one_off: euros(pick(&one_off)),
        recurring: euros(pick(&recurring)),
        total: euros(pick(&one_off) + pick(&recurring)),
    };
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = DashboardTemplate {
        layout: Layout::new(&state, "Tableau de bord"),
        staff: Some(me.bar()),
        csrf_token,
        periods: vec![
            row("Aujourd’hui", |r| r.today),
            row("7 derniers jours", |r| r.week),
            row("30 derniers jours", |r| r.month),
            row("Depuis le 1er janvier", |r| r.year),
        ],
        active_gifts: format_count(gifts.active),
        monthly_revenue: euros(gifts.monthly_revenue_cents),
        past_due_count: gifts.past_due,
        paused: gifts.paused,
        failed_recently: recoveries.failed,
        recovered_recently: recoveries.recovered,
        recovered_revenue: euros(recoveries.recovered_monthly_cents),
        past_due: past_due
            .iter()
            .map(|g| PastDueRow {
                name: format!("{} {}", g.first_name, g.last_name),
                email: g.email.clone(),
                amount: format!(
                    "{} {}",
                    euros(g.amount_cents),
                    if g.frequency == "yearly" {
                        "par an"
                    } else {
                        "par mois"
                    }
                ),
                campaign: g.campaign_title.clone(),
                since: french_date(g.updated_at),
            })
            .collect(),
        campaigns: open
            .iter()
            .map(|c| {
                let progress = Progress {
                    raised_cents: c.raised_cents,
                    goal_cents: c.goal_cents,
                };
                let time_left = TimeLeft::at(now, c.ends_at);
                CampaignRow {
                    title: c.title.clone(),
                    slug: c.slug.clone(),
                    raised: format_money(c.raised_cents, c.currency),
                    goal: format_money(c.goal_cents, c.currency),
                    percent: progress.percent(),
                    bar_width: progress.bar_width(),
                    time_left: time_left.label(),
                    pace: progress
                        .pace_per_day(time_left)
                        .map(|cents| format_money(cents, c.currency)),
                }
            })
            .collect(),
        daily_chart: charts::bars(
            "jours",
            "Dons reçus par jour",
            &format!("Les {CHART_DAYS} derniers jours, remboursements déduits ; les montants sont dans le tableau qui suit."),
            &daily_points,
        ),
        daily: daily_points
            .iter()
            .filter(|p| p.cents != 0)
            .map(|p| {
                let (day, amount) = p.label.split_once(" : ").unwrap_or((&p.label, ""));
                (day.to_owned(), amount.to_owned())
            })
            .collect(),
        revenue_chart: charts::line(
            "revenu",
            "Revenu mensuel récurrent sur 12 mois",
            "À la fin de chaque mois ; les montants sont dans le tableau qui suit.",
            &revenue_points,
        ),
        sources: sources
            .into_iter()
            .map(|(origin, started, completed, raised)| SourceRow {
                origin,
                started,
                completed,
                conversion: rate(completed, started),
                raised: format_money(raised, Currency::EUR),
            })
            .collect(),
        reconciliation: LastReconciliation::of(last_run),
        funnel: funnel
            .into_iter()
            .map(|(campaign, page_views, form_views, started, completed)| FunnelRow {
                campaign,
                page_views,
                form_views,
                started,
                completed,
            })
            .collect(),
        months: months
            .iter()
            .rev()
            .map(|m| MonthRow {
                month: month_label(m.start),
                started: m.started,
                stopped: m.stopped,
                running: m.running_at_end,
                revenue: format_money(m.monthly_revenue_at_end, Currency::EUR),
                churn: m
                    .churn_permille
                    .map(|p| format!("{},{} %", p / 10, p % 10))
                    .unwrap_or_else(|| "—".to_owned()),
            })
            .collect(),
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_day_starts_at_midnight_and_a_year_on_the_first_of_january() {
        // 2026-12-01T21:09:11Z
        let (day, year) = super::day_and_year_start(1_796_159_351);
        assert_eq!(day, 1_796_083_200);
        assert_eq!(year, 1_767_225_600);
    }
}
