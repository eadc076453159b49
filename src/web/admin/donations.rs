//! `/admin/dons`: every donation, filtered (campaign, dates, frequency, status, payment
//! method, amount, donor), newest first, 50 a page; the same selection as a CSV file for
//! French spreadsheets, streamed; and a donor's page (`/admin/donateurs/{id}`).

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::amount::{AmountLimits, parse_amount};
pub(super) use crate::domain::campaign_form::day;
use crate::domain::dates::{self, DAY, french_date};
use crate::domain::money::{Currency, format_money};
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::store::donation_list::{self, After, Filters, Row};
use crate::store::giving::{self, GiftLine};
use crate::store::supporters::{self, Profile};
use crate::store::{audit, campaigns};
use crate::web::AppState;
use crate::web::extract::{AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::spreadsheet;

const PER_PAGE: i64 = 50;

/// The list's query string, as typed in its filter form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    campagne: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    #[serde(default)]
    frequence: String,
    #[serde(default)]
    etat: String,
    #[serde(default)]
    moyen: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    apres: String,
}

/// The choices offered for each closed filter: (value, label).
const FREQUENCIES: &[(&str, &str)] = &[
    ("once", "Ponctuel"),
    ("monthly", "Mensuel"),
    ("yearly", "Annuel"),
];
const STATUSES: &[(&str, &str)] = &[
    ("paid", "Reçu"),
    ("pending", "Prélèvement en cours"),
    ("failed", "Échoué"),
    ("refunded", "Remboursé"),
];
const METHODS: &[(&str, &str)] = &[
    ("card", "Carte"),
    ("sepa_debit", "Prélèvement SEPA"),
    ("cheque", "Chèque"),
    ("transfer", "Virement"),
    ("cash", "Espèces"),
];

/// A donation's status in French.
pub(super) fn status_label(status: &str) -> &'static str {
    label(STATUSES, status)
}

fn label(choices: &[(&str, &'static str)], value: &str) -> &'static str {
    choices
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("", |(_, l)| l)
}

impl ListQuery {
    /// The filters, or the French message of the first one that cannot be read.
    fn filters(&self) -> std::result::Result<Filters, String> {
        let closed = |raw: &str, choices: &[(&str, &str)], what: &str| match raw.trim() {
            "" => Ok(None),
            value if choices.iter().any(|(v, _)| *v == value) => Ok(Some(value.to_owned())),
            _ => Err(format!("Choisissez {what} dans la liste.")),
        };
        let date = |raw: &str, what: &str| match raw.trim() {
            "" => Ok(None),
            typed => day(typed).map(Some).ok_or_else(|| {
                format!("La date {what} « {typed} » n’est pas valide (exemple : 2026-12-01).")
            }),
        };
        let limits = AmountLimits {
            min_cents: 0,
            max_cents: 1_000_000_000,
        };
        let amount = |raw: &str, what: &str| {
            match raw.trim() {
            "" => Ok(None),
            typed => parse_amount(typed, limits)
                .map(Some)
                .map_err(|_| format!("Le montant {what} « {typed} » n’est pas un nombre d’euros (exemple : 50 ou 12,50).")),
        }
        };
        let campaign_id = match self.campagne.trim() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .map_err(|_| "Choisissez la campagne dans la liste.".to_owned())?,
            ),
        };
        let search = self.q.trim();
        if search.chars().count() > 100 || search.chars().any(char::is_control) {
            return Err(
                "La recherche est trop longue ou contient des caractères de contrôle.".to_owned(),
            );
        }
        Ok(Filters {
            campaign_id,
            from: date(&self.du, "de début")?,
            until: date(&self.au, "de fin")?.map(|day| day + DAY),
            frequency: closed(&self.frequence, FREQUENCIES, "une fréquence")?,
            status: closed(&self.etat, STATUSES, "un état")?,
            payment_method: closed(&self.moyen, METHODS, "un moyen de paiement")?,
            min_cents: amount(&self.min, "minimum")?,
            max_cents: amount(&self.max, "maximum")?,
            search: (!search.is_empty()).then(|| search.to_owned()),
            supporter_id: None,
        })
    }

    /// Where the page starts (`apres=<date>-<id>`).
    fn after(&self) -> std::result::Result<Option<After>, String> {
        match self.apres.trim() {
            "" => Ok(None),
            raw => raw
                .split_once('-')
                .and_then(|(at, id)| {
                    Some(After {
                        donated_at: at.parse().ok()?,
                        id: id.parse().ok()?,
                    })
                })
                .map(Some)
                .ok_or_else(|| "Cette page de la liste n’existe pas.".to_owned()),
        }
    }

    /// The query string of these filters, for the next page and the export.
    fn encoded(&self) -> String {
        let pairs = [
            ("campagne", &self.campagne),
            ("du", &self.du),
            ("au", &self.au),
            ("frequence", &self.frequence),
            ("etat", &self.etat),
            ("moyen", &self.moyen),
            ("min", &self.min),
            ("max", &self.max),
            ("q", &self.q),
        ];
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            if !value.trim().is_empty() {
                query.append_pair(key, value.trim());
            }
        }
        query.finish()
    }
}

#[derive(Template)]
#[template(path = "admin/donations.html")]
struct ListTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    query: ListQuery,
    campaigns: Vec<(String, String)>,
    frequencies: &'static [(&'static str, &'static str)],
    statuses: &'static [(&'static str, &'static str)],
    methods: &'static [(&'static str, &'static str)],
    rows: Vec<RowView>,
    next: Option<String>,
    export: String,
    error: Option<String>,
}

struct RowView {
    id: i64,
    date: String,
    supporter_id: i64,
    donor: String,
    email: String,
    campaign: String,
    amount: String,
    refunded: Option<String>,
    frequency: &'static str,
    method: &'static str,
    status: &'static str,
}

fn row_view(row: &Row) -> RowView {
    let currency = Currency::parse(&row.currency).unwrap_or(Currency::EUR);
    RowView {
        id: row.id,
        date: french_date(row.donated_at),
        supporter_id: row.supporter_id,
        donor: format!("{} {}", row.first_name, row.last_name),
        email: row.email.clone(),
        campaign: row.campaign_title.clone(),
        amount: format_money(row.amount_cents, currency),
        refunded: (row.refunded_cents > 0).then(|| format_money(row.refunded_cents, currency)),
        frequency: label(FREQUENCIES, &row.frequency),
        method: label(METHODS, &row.payment_method),
        status: label(STATUSES, &row.status),
    }
}

/// `GET /admin/dons`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let pool = state.db.pool();
    let campaigns = campaigns::public(pool).await?;
    let parsed = query.filters().and_then(|f| Ok((f, query.after()?)));
    let (rows, error, status) = match parsed {
        Ok((filters, after)) => {
            let rows = donation_list::page(pool, &filters, after, PER_PAGE + 1).await?;
            (rows, None, StatusCode::OK)
        }
        Err(message) => (Vec::new(), Some(message), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let more = rows.len() > PER_PAGE as usize;
    let shown = &rows[..rows.len().min(PER_PAGE as usize)];
    let encoded = query.encoded();
    let next = more.then(|| {
        let last = &shown[shown.len() - 1];
        let separator = if encoded.is_empty() { "" } else { "&" };
        format!(
            "/admin/dons?{encoded}{separator}apres={}-{}",
            last.donated_at, last.id
        )
    });
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = ListTemplate {
        layout: Layout::new(&state, "Dons"),
        staff: Some(me.bar()),
        csrf_token,
        campaigns: campaigns
            .iter()
            .map(|c| (c.id.to_string(), c.title.clone()))
            .collect(),
        frequencies: FREQUENCIES,
        statuses: STATUSES,
        methods: METHODS,
        rows: shown.iter().map(row_view).collect(),
        next,
        export: format!("/admin/dons.csv?{encoded}"),
        query,
        error,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/dons.csv`: the selection, every row, streamed; recorded in the journal (it
/// carries personal data).
pub async fn export(
    State(state): State<AppState>,
    me: Staff,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let filters = query.filters().map_err(AppError::BadRequest)?;
    let now = dates::now();
    let mut tx = state.db.begin_write().await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "donations.export",
        subject: "donations".to_owned(),
        before: None,
        after: Some(json!({ "filters": query.encoded() })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit_unseen().await?;

    let header_line = csv_line(&[
        "Date",
        "N° du don",
        "Prénom",
        "Nom",
        "Adresse e-mail",
        "Campagne",
        "Montant",
        "Remboursé",
        "Devise",
        "Fréquence",
        "Moyen de paiement",
        "État",
    ]);
    let mut first = spreadsheet::BOM.as_bytes().to_vec();
    first.extend(header_line);
    let rows = donation_list::stream(state.db.pool().clone(), filters).map(|row| match row {
        Ok(row) => Ok(csv_line(&[
            &spreadsheet::date(row.donated_at),
            &row.id.to_string(),
            &spreadsheet::text(&row.first_name),
            &spreadsheet::text(&row.last_name),
            &spreadsheet::text(&row.email),
            &spreadsheet::text(&row.campaign_title),
            &spreadsheet::amount(row.amount_cents),
            &spreadsheet::amount(row.refunded_cents),
            &row.currency,
            label(FREQUENCIES, &row.frequency),
            label(METHODS, &row.payment_method),
            label(STATUSES, &row.status),
        ])),
        Err(error) => {
            // The file is cut short: a reader sees it is incomplete (no last line).
            tracing::error!(%error, "donations export interrupted");
            Err(std::io::Error::other("export interrompu"))
        }
    });
    // Lines go out in batches of those ready: one frame per line cost a frame's overhead per
    // row, and the compression layer flushed each frame, which made the compressed file
    // bigger than the plain one (seen at 1M donations by the back-office bench). A batch that
    // meets an error is dropped whole, and the file ends there as before.
    let rows = rows.ready_chunks(LINES_PER_FRAME).map(|lines| {
        lines
            .into_iter()
            .collect::<std::io::Result<Vec<_>>>()
            .map(|l| l.concat())
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rows);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let day = dates::rfc3339(now).unwrap_or_default();
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"dons-{}.csv\"",
        day.get(..10).unwrap_or("export")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// Lines of the export sent together, at most (some 30 kB).
const LINES_PER_FRAME: usize = 256;

/// One CSV line (`;`-separated, quoted where needed).
fn csv_line(cells: &[&str]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::with_capacity(128));
    // Writing to memory cannot fail.
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/donor.html")]
struct DonorTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    profile: Profile,
    erased: bool,
    gifts: Vec<GiftView>,
    rows: Vec<RowView>,
    next: Option<String>,
    total: String,
}

struct GiftView {
    amount: String,
    campaign: String,
    status: String,
    since: String,
}

fn gift_view(gift: &GiftLine) -> GiftView {
    GiftView {
        amount: format!(
            "{} {}",
            format_money(gift.amount_cents, gift.currency),
            gift.frequency.per()
        ),
        campaign: gift.campaign_title.clone(),
        status: match gift.status {
            RecurringGiftStatus::Active if gift.cancel_at_period_end == 1 => {
                "arrêt demandé à l’échéance"
            }
            RecurringGiftStatus::Active => "actif",
            RecurringGiftStatus::PastDue => "paiement en échec",
            RecurringGiftStatus::Paused => "en pause",
            RecurringGiftStatus::Canceled => "arrêté",
            RecurringGiftStatus::Incomplete => "en attente du premier paiement",
        }
        .to_owned(),
        since: french_date(gift.created_at),
    }
}

#[derive(Debug, Deserialize)]
pub struct DonorQuery {
    #[serde(default)]
    apres: String,
}

/// `GET /admin/donateurs/{id}`: who they are, their recurring gifts and every donation.
pub async fn donor(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<DonorQuery>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let pool = state.db.pool();
    let (profile, erased) = match supporters::profile(pool, id).await? {
        Some(profile) => (profile, false),
        None => (
            supporters::erased_profile(pool, id)
                .await?
                .ok_or(AppError::NotFound)?,
            true,
        ),
    };
    let after = ListQuery {
        apres: query.apres,
        ..ListQuery::default()
    }
    .after()
    .map_err(AppError::BadRequest)?;
    let filters = Filters {
        supporter_id: Some(id),
        ..Filters::default()
    };
    let (gifts, rows, received) = tokio::try_join!(
        giving::recurring_gifts(pool, id),
        donation_list::page(pool, &filters, after, PER_PAGE + 1),
        giving::received(pool, id),
    )?;
    let more = rows.len() > PER_PAGE as usize;
    let shown = &rows[..rows.len().min(PER_PAGE as usize)];
    let next = more.then(|| {
        let last = &shown[shown.len() - 1];
        format!(
            "/admin/donateurs/{id}?apres={}-{}",
            last.donated_at, last.id
        )
    });
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = DonorTemplate {
        layout: Layout::new(&state, "Donateur"),
        staff: Some(me.bar()),
        csrf_token,
        total: format_money(received.iter().map(|r| r.kept_cents).sum(), Currency::EUR),
        profile,
        erased,
        gifts: gifts.iter().map(gift_view).collect(),
        rows: shown.iter().map(row_view).collect(),
        next,
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}
