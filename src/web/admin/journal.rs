//! `GET /admin/journal` (admins only): every staff action, newest first, a page at a time.
//! Read-only here, and append-only in the database.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::dates::french_datetime;
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::store::audit;
use crate::web::AppState;
use crate::web::extract::AppQuery;
use crate::web::layout::Layout;

const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/journal.html")]
struct JournalTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    lines: Vec<LineView>,
    page: i64,
    pages: i64,
}

struct LineView {
    at: String,
    who: String,
    action: String,
    subject: String,
    change: String,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(query): AppQuery<PageQuery>,
) -> Result<Response> {
    me.require(Role::Admin)?;
    let page_number = query.page.unwrap_or(1);
    if page_number < 1 {
        return Err(AppError::BadRequest(
            "Le numéro de page doit être 1 ou plus.".to_owned(),
        ));
    }
    let pool = state.db.pool();
    let (count, lines) = tokio::try_join!(
        audit::count(pool),
        audit::page(pool, PER_PAGE, (page_number - 1).saturating_mul(PER_PAGE)),
    )?;
    let pages = ((count + PER_PAGE - 1) / PER_PAGE).max(1);
    if page_number > pages {
        return Err(AppError::NotFound);
    }
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = JournalTemplate {
        layout: Layout::new(&state, "Journal"),
        staff: Some(me.bar()),
        csrf_token,
        lines: lines
            .into_iter()
            .map(|line| LineView {
                at: french_datetime(line.at),
                who: line
                    .staff_email
                    .unwrap_or_else(|| "ligne de commande".to_owned()),
                action: line.action,
                subject: line.subject,
                change: match (line.before_state, line.after_state) {
                    (Some(before), Some(after)) => format!("{before} → {after}"),
                    (None, Some(after)) => after,
                    (Some(before), None) => format!("{before} → ∅"),
                    (None, None) => String::new(),
                },
            })
            .collect(),
        page: page_number,
        pages,
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}
