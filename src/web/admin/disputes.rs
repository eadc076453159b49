//! `/admin/litiges`: bank disputes to follow up, open ones first with the soonest evidence
//! date; their money is out of the totals while open and once lost. Answering one happens in
//! Stripe's dashboard (evidence is documents), so each row says by when.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::dates::french_date;
use crate::domain::dispute::DisputeOutcome;
use crate::domain::money::format_money;
use crate::domain::staff::Role;
use crate::error::Result;
use crate::store::disputes::{self, DisputeToFollow};
use crate::web::AppState;
use crate::web::layout::Layout;

const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "admin/disputes.html")]
struct DisputesTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    rows: Vec<Row>,
    open: i64,
}

struct Row {
    donation_id: i64,
    supporter_id: i64,
    donor: String,
    campaign: String,
    amount: String,
    reason: String,
    outcome: &'static str,
    opened: String,
    due: String,
    open: bool,
}

fn row(d: &DisputeToFollow) -> Row {
    Row {
        donation_id: d.donation_id,
        supporter_id: d.supporter_id,
        donor: format!("{} {} ({})", d.first_name, d.last_name, d.email),
        campaign: d.campaign_title.clone(),
        amount: format!(
            "{} sur {}",
            format_money(d.amount_cents, d.currency),
            format_money(d.donation_amount_cents, d.currency)
        ),
        reason: d.reason.replace('_', " "),
        outcome: match d.outcome {
            DisputeOutcome::Open => "En cours",
            DisputeOutcome::Won => "Gagné",
            DisputeOutcome::Lost => "Perdu",
        },
        opened: french_date(d.opened_at),
        due: d.due_by.map(french_date).unwrap_or_default(),
        open: d.outcome == DisputeOutcome::Open,
    }
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let pool = state.db.pool();
    let (list, open) = tokio::try_join!(
        disputes::for_follow_up(pool, SHOWN),
        disputes::count_open(pool),
    )?;
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = DisputesTemplate {
        layout: Layout::new(&state, "Litiges"),
        staff: Some(me.bar()),
        csrf_token,
        rows: list.iter().map(row).collect(),
        open,
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}
