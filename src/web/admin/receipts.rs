//! `/admin/recus`: the tax receipts, searched by number, donor or year and downloaded; one
//! cancelled and reissued by hand (editors, journaled); the annual run started for a year
//! (editors: a job, a page of supporters at a time); and the yearly totals the organisation
//! declares (CGI art. 222 bis), also as CSV.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::dates;
use crate::domain::money::{Currency, format_money};
use crate::domain::receipt::{ReceiptKind, ReceiptStatus};
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::jobs::annual_receipts::RunPage;
use crate::jobs::{self, Job};
use crate::receipts::{self, Outcome};
use crate::store::{audit, receipts as store, settings};
use crate::web::AppState;
use crate::web::download;
use crate::web::extract::{AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::spreadsheet;

/// Receipts a search shows at most.
const SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "admin/receipts.html")]
struct ReceiptsTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    query: String,
    year: String,
    rows: Vec<Row>,
    totals: Vec<(i64, i64, String)>,
    missing: Vec<&'static str>,
    can_edit: bool,
    last_year: i32,
    done: Option<&'static str>,
}

struct Row {
    id: i64,
    number: String,
    donor: String,
    email: String,
    supporter_id: i64,
    what: &'static str,
    gift_year: i64,
    amount: String,
    issued_on: String,
    standing: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    q: Option<String>,
    annee: Option<String>,
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "annuels" => {
            "Les reçus annuels sont en cours d’émission, par lots de 500 donateurs : rechargez la page pour les voir arriver."
        }
        "annule" => "Le reçu est annulé ; le reçu corrigé, s’il reste un montant, est émis.",
        _ => return None,
    })
}

/// `GET /admin/recus`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(search): AppQuery<Search>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let pool = state.db.pool();
    let query = search.q.clone().unwrap_or_default();
    let year_typed = search.annee.clone().unwrap_or_default();
    let year = year_typed.trim().parse::<i64>().ok();
    let (listed, totals, organisation) = tokio::try_join!(
        store::search(pool, &query, year, SHOWN),
        store::yearly_totals(pool),
        settings::organisation(pool),
    )?;
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = ReceiptsTemplate {
        layout: Layout::new(&state, "Reçus fiscaux"),
        staff: Some(me.bar()),
        csrf_token,
        query,
        year: year_typed,
        rows: listed
            .into_iter()
            .map(|r| Row {
                id: r.id,
                number: r.number,
                donor: format!("{} {}", r.first_name, r.last_name),
                email: r.email,
                supporter_id: r.supporter_id,
                what: match r.kind {
                    ReceiptKind::Single => "Don ponctuel",
                    ReceiptKind::Annual => "Annuel",
                },
                gift_year: r.gift_year,
                amount: format_money(r.amount_cents, Currency::EUR),
                issued_on: dates::paris_date(r.issued_at),
                standing: r.status == ReceiptStatus::Issued,
            })
            .collect(),
        totals: totals
            .iter()
            .map(|t| {
                (
                    t.gift_year,
                    t.receipts,
                    format_money(t.amount_cents, Currency::EUR),
                )
            })
            .collect(),
        missing: organisation.missing_for_receipts(),
        can_edit: me.role.allows(Role::Editor),
        last_year: dates::paris_year(dates::now()) - 1,
        done: done_message(search.fait.as_deref()),
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}

/// `GET /admin/recus/{id}`: the PDF.
pub async fn pdf(
    State(state): State<AppState>,
    me: Staff,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    download::receipt(&state, id, None).await
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    csrf_token: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/recus/{id}/annulation` (editors): cancelled with a reason, and a corrected
/// receipt issued for what its gifts still count.
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    OnceForm(form, post): OnceForm<CancelForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 || reason.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "Dites en une phrase (300 caractères au plus) pourquoi ce reçu est annulé.".to_owned(),
        ));
    }
    let Some(outcome) = receipts::reissue(&state.db, id, Some(me.id), reason, now).await? else {
        return Err(AppError::Conflict(
            "Ce reçu n’est plus en vigueur : il a déjà été annulé.".to_owned(),
        ));
    };
    let replaced_by = match outcome {
        Outcome::Issued { id, number } => Some(json!({ "id": id, "number": number.to_string() })),
        _ => None,
    };
    let mut tx = state.db.begin_write().await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "receipt.cancel",
        subject: format!("receipt:{id}"),
        before: Some(json!({ "status": "issued" })),
        after: Some(json!({ "status": "cancelled", "reason": reason, "replaced_by": replaced_by })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let location = "/admin/recus?fait=annule";
    first.done(location).await;
    Ok(Redirect::to(location).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RunForm {
    csrf_token: Option<String>,
    #[serde(default)]
    year: String,
}

/// `POST /admin/recus/annuels` (editors): the year's annual receipts, issued by the worker.
pub async fn run_year(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    OnceForm(form, post): OnceForm<RunForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let sending = match once::claim(&state, &post).await? {
        Sending::First(sending) => sending,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let this_year = dates::paris_year(now);
    let year = form
        .year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=this_year).contains(y))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Choisissez une année passée ou l’année en cours ({this_year} au plus)."
            ))
        })?;
    if let Err(missing) = receipts::settings_for_run(&state.db).await? {
        return Err(AppError::Conflict(format!(
            "Aucun reçu ne peut être établi : il manque {}.",
            missing.join(", ")
        )));
    }
    let mut tx = state.db.begin_write().await?;
    let first = RunPage {
        year,
        started_at: now,
        after: 0,
        by: Some(me.id),
    };
    jobs::enqueue(&mut tx, &Job::AnnualReceipts(first), now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "receipt.annual_run",
        subject: format!("receipts:{year}"),
        before: None,
        after: Some(json!({ "year": year })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let location = "/admin/recus?fait=annuels";
    sending.done(location).await;
    Ok(Redirect::to(location).into_response())
}

/// `GET /admin/recus/totaux.csv`: per tax year, the receipts standing and their amount, as
/// declared under CGI art. 222 bis.
pub async fn totals_csv(State(state): State<AppState>, me: Staff) -> Result<Response> {
    me.require(Role::Viewer)?;
    let totals = store::yearly_totals(state.db.pool()).await?;
    let mut csv = spreadsheet::writer();
    let failed = |e: csv::Error| AppError::Other(e.into());
    csv.write_record(["Année des dons", "Reçus en vigueur", "Montant certifié (€)"])
        .map_err(failed)?;
    for t in &totals {
        csv.write_record([
            t.gift_year.to_string(),
            t.receipts.to_string(),
            spreadsheet::amount(t.amount_cents),
        ])
        .map_err(failed)?;
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| AppError::Other(anyhow::anyhow!("CSV : {e}")))?;
    Ok(download::download(
        "text/csv; charset=utf-8",
        "recus-fiscaux-totaux.csv",
        bytes,
    ))
}
