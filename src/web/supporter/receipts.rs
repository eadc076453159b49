//! « Mes reçus fiscaux »: the supporter's tax receipts, each downloadable as its PDF; a
//! cancelled one says which replaced it. Only their own: another's id is not found.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{SignedIn, personal};
use crate::domain::dates;
use crate::domain::money::{Currency, format_money};
use crate::domain::receipt::{ReceiptKind, ReceiptStatus};
use crate::error::Result;
use crate::store::receipts as store;
use crate::web::AppState;
use crate::web::download;
use crate::web::extract::AppPath;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "space/receipts.html")]
struct ReceiptsTemplate {
    layout: Layout,
    rows: Vec<Row>,
}

struct Row {
    id: i64,
    number: String,
    what: String,
    amount: String,
    issued_on: String,
    cancelled: Option<String>,
}

/// `GET /mon-espace/recus`.
pub async fn list(State(state): State<AppState>, SignedIn(me): SignedIn) -> Result<Response> {
    let receipts = store::of_supporter(state.db.pool(), me).await?;
    let number_of = |id: i64| {
        receipts
            .iter()
            .find(|r| r.replaces_id == Some(id))
            .map(|r| r.number.clone())
    };
    let rows = receipts
        .iter()
        .map(|r| Row {
            id: r.id,
            number: r.number.clone(),
            what: match r.kind {
                ReceiptKind::Single => format!("Don de {}", r.gift_year),
                ReceiptKind::Annual => format!("Dons de l’année {}", r.gift_year),
            },
            amount: format_money(r.amount_cents, Currency::EUR),
            issued_on: dates::paris_date(r.issued_at),
            cancelled: (r.status == ReceiptStatus::Cancelled).then(|| match number_of(r.id) {
                Some(number) => format!("Annulé, remplacé par le reçu n° {number}"),
                None => "Annulé (don remboursé)".to_owned(),
            }),
        })
        .collect();
    let html = ReceiptsTemplate {
        layout: Layout::new(&state, "Mes reçus fiscaux"),
        rows,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, None))
}

/// `GET /mon-espace/recus/{id}`: the PDF, if it is theirs.
pub async fn pdf(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    download::receipt(&state, id, Some(me)).await
}
