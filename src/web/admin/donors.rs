//! `/admin/donateurs`: who gives this year (new, returning), the average gift, how many of
//! last year's donors gave again, and the two lists a team writes to first: LYBUNT and SYBUNT.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::dates::{self, french_date, year_of};
use crate::domain::money::{Currency, format_count, format_money};
use crate::domain::staff::Role;
use crate::error::Result;
use crate::store::donor_stats::{self, Lapsed, LapsedDonor};
use crate::web::AppState;
use crate::web::layout::Layout;

/// Donors listed in each list.
const LISTED: i64 = 100;

#[derive(Template)]
#[template(path = "admin/donors.html")]
struct DonorsTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    year: i32,
    new_donors: String,
    returning: String,
    average: String,
    retention: String,
    last_year_donors: String,
    lybunt_count: String,
    sybunt_count: String,
    lybunt: Vec<LapsedRow>,
    sybunt: Vec<LapsedRow>,
}

struct LapsedRow {
    id: i64,
    name: String,
    email: String,
    last: String,
    last_year: String,
    total: String,
}

fn row(d: &LapsedDonor) -> LapsedRow {
    LapsedRow {
        id: d.supporter_id,
        name: format!("{} {}", d.first_name, d.last_name),
        email: d.email.clone(),
        last: french_date(d.last_at),
        last_year: format_money(d.last_year, Currency::EUR),
        total: format_money(d.total, Currency::EUR),
    }
}

/// The first second of `year` (UTC).
fn start_of(year: i32) -> i64 {
    time::Date::from_ordinal_date(year, 1)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .unwrap_or(0)
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let now = dates::now();
    let this_year = year_of(now);
    let pool = state.db.pool();
    let (counts, (gifts, kept), lybunt, sybunt) = tokio::try_join!(
        donor_stats::counts(pool, this_year),
        donor_stats::gifts_since(pool, start_of(this_year)),
        donor_stats::lapsed(pool, Lapsed::Lybunt, this_year, LISTED),
        donor_stats::lapsed(pool, Lapsed::Sybunt, this_year, LISTED),
    )?;
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = DonorsTemplate {
        layout: Layout::new(&state, "Donateurs"),
        staff: Some(me.bar()),
        csrf_token,
        year: this_year,
        new_donors: format_count(counts.new_donors),
        returning: format_count(counts.returning_donors),
        average: if gifts > 0 {
            format_money(kept / gifts, Currency::EUR)
        } else {
            "—".to_owned()
        },
        retention: if counts.last_year_donors > 0 {
            let permille = counts.retained * 1000 / counts.last_year_donors;
            format!("{},{} %", permille / 10, permille % 10)
        } else {
            "—".to_owned()
        },
        last_year_donors: format_count(counts.last_year_donors),
        lybunt_count: format_count(counts.lybunt),
        sybunt_count: format_count(counts.sybunt),
        lybunt: lybunt.iter().map(row).collect(),
        sybunt: sybunt.iter().map(row).collect(),
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}
