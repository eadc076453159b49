//! The supporter's data, as the RGPD gives it to them: downloaded (JSON for another service,
//! CSV for a spreadsheet), or erased with their account once their recurring gifts are
//! stopped. Erasure keeps the donations the law requires us to keep, without the identity.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{SignedIn, form_token, personal};
use crate::domain::dates::{self, rfc3339};
use crate::domain::money::format_money;
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::error::{AppError, Result};
use crate::payments::subscriptions::{self, GiftRequest};
use crate::store::giving::{self, GiftLine};
use crate::store::personal_data::{self, Export};
use crate::web::AppState;
use crate::web::download::download;
use crate::web::extract::AppForm;
use crate::web::layout::Layout;
use crate::web::session::Visitor;
use crate::web::spreadsheet;

async fn own_data(state: &AppState, supporter_id: i64) -> Result<Export> {
    personal_data::export(state.db.pool(), supporter_id)
        .await?
        .ok_or(AppError::NotFound)
}

fn file_name(extension: &str) -> String {
    let today = dates::rfc3339(dates::now()).unwrap_or_default();
    format!(
        "mes-donnees-{}.{extension}",
        today.get(..10).unwrap_or("obole")
    )
}

/// The JSON file: the same facts as the CSV, dates in RFC 3339, amounts in cents.
#[derive(Serialize)]
struct JsonExport<'a> {
    exported_at: Option<String>,
    profile: JsonProfile<'a>,
    donations: Vec<JsonDonation<'a>>,
    recurring_gifts: Vec<JsonGift<'a>>,
    consents: Vec<JsonConsent<'a>>,
    emails_sent: Vec<JsonEmail<'a>>,
}

#[derive(Serialize)]
struct JsonProfile<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    address_line1: &'a str,
    address_line2: &'a str,
    postal_code: &'a str,
    city: &'a str,
    country: &'a str,
    news_emails: bool,
    instalment_emails: bool,
    supporter_since: Option<String>,
}

#[derive(Serialize)]
struct JsonDonation<'a> {
    date: Option<String>,
    campaign: &'a str,
    amount_cents: i64,
    refunded_cents: i64,
    currency: &'a str,
    frequency: &'a str,
    payment_method: &'a str,
    status: &'a str,
    shown_publicly_as: Option<&'a str>,
    dedication: Option<String>,
}

#[derive(Serialize)]
struct JsonGift<'a> {
    campaign: &'a str,
    amount_cents: i64,
    currency: &'a str,
    frequency: &'a str,
    status: &'a str,
    started: Option<String>,
    ends_at_period_end: bool,
    next_payment: Option<String>,
    paused_until: Option<String>,
}

#[derive(Serialize)]
struct JsonConsent<'a> {
    date: Option<String>,
    topic: &'a str,
    granted: bool,
    source: &'a str,
}

#[derive(Serialize)]
struct JsonEmail<'a> {
    date: Option<String>,
    subject: &'a str,
}

/// A dedication as words: « en mémoire de Jeanne ».
fn dedication(kind: Option<&str>, name: Option<&str>) -> Option<String> {
    let name = name?;
    Some(match kind {
        Some("memory") => format!("en mémoire de {name}"),
        Some("honour") => format!("en l’honneur de {name}"),
        _ => name.to_owned(),
    })
}

/// `GET /mon-espace/donnees.json`.
pub async fn as_json(
    State(state): State<AppState>,
    SignedIn(supporter_id): SignedIn,
) -> Result<Response> {
    let data = own_data(&state, supporter_id).await?;
    let p = &data.profile;
    let file = JsonExport {
        exported_at: rfc3339(dates::now()),
        profile: JsonProfile {
            email: p.email.as_str(),
            first_name: &p.first_name,
            last_name: &p.last_name,
            address_line1: &p.address_line1,
            address_line2: &p.address_line2,
            postal_code: &p.postal_code,
            city: &p.city,
            country: &p.country,
            news_emails: p.news_consent == 1,
            instalment_emails: p.instalment_emails == 1,
            supporter_since: rfc3339(p.created_at),
        },
        donations: data
            .donations
            .iter()
            .map(|d| JsonDonation {
                date: rfc3339(d.donated_at),
                campaign: &d.campaign,
                amount_cents: d.amount_cents,
                refunded_cents: d.refunded_cents,
                currency: &d.currency,
                frequency: &d.frequency,
                payment_method: &d.payment_method,
                status: &d.status,
                shown_publicly_as: (d.show_publicly == 1)
                    .then_some(d.public_name.as_deref())
                    .flatten(),
                dedication: dedication(d.dedication_kind.as_deref(), d.dedication_name.as_deref()),
            })
            .collect(),
        recurring_gifts: data
            .recurring_gifts
            .iter()
            .map(|g| JsonGift {
                campaign: &g.campaign_title,
                amount_cents: g.amount_cents,
                currency: g.currency.as_str(),
                frequency: g.frequency.as_str(),
                status: g.status.as_str(),
                started: rfc3339(g.created_at),
                ends_at_period_end: g.cancel_at_period_end == 1,
                next_payment: g.current_period_end.and_then(rfc3339),
                paused_until: g.paused_until.and_then(rfc3339),
            })
            .collect(),
        consents: data
            .consents
            .iter()
            .map(|c| JsonConsent {
                date: rfc3339(c.changed_at),
                topic: &c.topic,
                granted: c.granted == 1,
                source: &c.source,
            })
            .collect(),
        emails_sent: data
            .emails
            .iter()
            .map(|e| JsonEmail {
                date: rfc3339(e.sent_at),
                subject: &e.subject,
            })
            .collect(),
    };
    let body = serde_json::to_vec_pretty(&file).map_err(anyhow::Error::from)?;
    Ok(download("application/json", &file_name("json"), body))
}

/// `GET /mon-espace/donnees.csv`: one file, a section per kind of data (a title line, a
/// header line, the rows, a blank line), for French spreadsheets.
pub async fn as_csv(
    State(state): State<AppState>,
    SignedIn(supporter_id): SignedIn,
) -> Result<Response> {
    let data = own_data(&state, supporter_id).await?;
    let body = csv_of(&data).map_err(anyhow::Error::from)?;
    Ok(download("text/csv; charset=utf-8", &file_name("csv"), body))
}

fn csv_of(data: &Export) -> std::result::Result<Vec<u8>, csv::Error> {
    use spreadsheet::{amount, date, text};
    let mut csv = spreadsheet::writer();
    let p = &data.profile;
    let yes_no = |flag: i64| if flag == 1 { "oui" } else { "non" }.to_owned();
    csv.write_record(["Mes informations"])?;
    csv.write_record(["Champ", "Valeur"])?;
    for (field, value) in [
        ("Adresse e-mail", text(p.email.as_str())),
        ("Prénom", text(&p.first_name)),
        ("Nom", text(&p.last_name)),
        ("Adresse", text(&p.address_line1)),
        ("Complément d’adresse", text(&p.address_line2)),
        ("Code postal", text(&p.postal_code)),
        ("Ville", text(&p.city)),
        ("Pays", text(&p.country)),
        ("Nouvelles des projets", yes_no(p.news_consent)),
        ("Email à chaque prélèvement", yes_no(p.instalment_emails)),
        ("Donateur depuis le", date(p.created_at)),
    ] {
        csv.write_record([field.to_owned(), value])?;
    }
    csv.write_record([""])?;

    csv.write_record(["Mes dons"])?;
    csv.write_record([
        "Date",
        "Campagne",
        "Montant",
        "Remboursé",
        "Devise",
        "Fréquence",
        "Moyen de paiement",
        "État",
        "Nom affiché",
        "Dédicace",
    ])?;
    for d in &data.donations {
        csv.write_record([
            date(d.donated_at),
            text(&d.campaign),
            amount(d.amount_cents),
            amount(d.refunded_cents),
            d.currency.clone(),
            d.frequency.clone(),
            d.payment_method.clone(),
            d.status.clone(),
            text(
                (d.show_publicly == 1)
                    .then_some(d.public_name.as_deref())
                    .flatten()
                    .unwrap_or(""),
            ),
            text(
                &dedication(d.dedication_kind.as_deref(), d.dedication_name.as_deref())
                    .unwrap_or_default(),
            ),
        ])?;
    }
    csv.write_record([""])?;

    csv.write_record(["Mes dons réguliers"])?;
    csv.write_record([
        "Depuis le",
        "Campagne",
        "Montant",
        "Devise",
        "Fréquence",
        "État",
        "Prochain prélèvement",
        "En pause jusqu’au",
    ])?;
    for g in &data.recurring_gifts {
        csv.write_record([
            date(g.created_at),
            text(&g.campaign_title),
            amount(g.amount_cents),
            g.currency.as_str().to_owned(),
            g.frequency.as_str().to_owned(),
            g.status.as_str().to_owned(),
            g.current_period_end.map(date).unwrap_or_default(),
            g.paused_until.map(date).unwrap_or_default(),
        ])?;
    }
    csv.write_record([""])?;

    csv.write_record(["Mes consentements"])?;
    csv.write_record(["Date", "Sujet", "Accordé", "Où"])?;
    for c in &data.consents {
        csv.write_record([
            date(c.changed_at),
            c.topic.clone(),
            yes_no(c.granted),
            c.source.clone(),
        ])?;
    }
    csv.write_record([""])?;

    csv.write_record(["Emails envoyés"])?;
    csv.write_record(["Date", "Objet"])?;
    for e in &data.emails {
        csv.write_record([date(e.sent_at), text(&e.subject)])?;
    }
    csv.into_inner().map_err(|error| error.into_error().into())
}

#[derive(Template)]
#[template(path = "space/erase.html")]
struct EraseTemplate {
    layout: Layout,
    csrf_token: String,
    running: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "space/erased.html")]
struct ErasedTemplate {
    layout: Layout,
}

/// The gifts that would still take money: stopped before the account goes.
fn still_running(gifts: &[GiftLine]) -> Vec<&GiftLine> {
    gifts
        .iter()
        .filter(|g| g.status != RecurringGiftStatus::Canceled)
        .collect()
}

fn erase_page(
    state: &AppState,
    headers: &HeaderMap,
    gifts: &[GiftLine],
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let html = EraseTemplate {
        layout: Layout::new(state, "Supprimer mon compte"),
        csrf_token,
        running: still_running(gifts)
            .iter()
            .map(|g| {
                format!(
                    "{} {} pour « {} »",
                    format_money(g.amount_cents, g.currency),
                    g.frequency.per(),
                    g.campaign_title
                )
            })
            .collect(),
        error,
    }
    .render()?;
    Ok(personal(status, html, Some(cookie)))
}

/// `GET /mon-espace/suppression`: what deleting the account does, and the one confirmation.
pub async fn confirm_erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
) -> Result<Response> {
    let gifts = giving::recurring_gifts(state.db.pool(), supporter_id).await?;
    erase_page(&state, &headers, &gifts, None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    csrf_token: Option<String>,
    confirm: Option<String>,
}

/// `POST /mon-espace/suppression`: stops the recurring gifts at Stripe, then erases the
/// identity and signs out. If a gift cannot be stopped, nothing is erased.
pub async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    SignedIn(supporter_id): SignedIn,
    AppForm(form): AppForm<EraseForm>,
) -> Result<Response> {
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), dates::now())?;
    let gifts = giving::recurring_gifts(state.db.pool(), supporter_id).await?;
    if form.confirm.as_deref() != Some("oui") {
        return erase_page(
            &state,
            &headers,
            &gifts,
            Some("Cochez la case pour confirmer la suppression de votre compte.".to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    for gift in still_running(&gifts) {
        let Some(subscription) = &gift.stripe_subscription_id else {
            continue;
        };
        let stop = GiftRequest::Cancel {
            at_period_end: false,
            reason: None,
            comment: None,
        };
        if let Err(error) = subscriptions::request(&state.payments, subscription, &stop).await {
            tracing::error!(%error, gift_id = gift.id, "recurring gift not stopped: account kept");
            return Err(AppError::Unavailable(
                "Un de vos dons réguliers n’a pas pu être arrêté auprès de notre prestataire de paiement : votre compte n’a pas été supprimé. Réessayez dans quelques minutes."
                    .to_owned(),
            ));
        }
    }
    let now = dates::now();
    let mut tx = state.db.begin_write().await?;
    personal_data::erase(&mut tx, supporter_id, now).await?;
    tx.commit().await?;
    visitor.sign_out().await?;
    tracing::info!(supporter_id, "supporter erased");
    let html = ErasedTemplate {
        layout: Layout::new(&state, "Compte supprimé"),
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, None))
}
