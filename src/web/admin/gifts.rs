//! One donation in the back-office: its page (`/admin/dons/{id}`), a refund (editors: through
//! Stripe for money that came through it, the ledger then following `charge.refunded`; at
//! once for a gift entered by hand), and gifts entered by hand (`/admin/dons/hors-ligne`:
//! a cheque, a transfer, cash), which count in the totals like any other. Each is journaled.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::donations::{day, status_label};
use super::{Staff, StaffBar, form_token, page};
use crate::domain::amount::{AmountLimits, parse_amount};
use crate::domain::dates::{self, DAY, french_date};
use crate::domain::donation::{DonationStatus, PaymentMethod};
use crate::domain::frequency::Frequency;
use crate::domain::gift::FieldErrors;
use crate::domain::gift::address::COUNTRIES;
use crate::domain::gift::identity;
use crate::domain::identity::DonorIdentity;
use crate::domain::money::{Currency, Money, format_money};
use crate::domain::profile::ProfileForm;
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::jobs::email::Message;
use crate::jobs::{self, Job};
use crate::payments::refunds::{self, RefundRequest};
use crate::store::donation_list::{self, Detail};
use crate::store::donations::{self, NewDonation};
use crate::store::receipts as store_receipts;
use crate::store::{audit, campaigns, supporters};
use crate::web::AppState;
use crate::web::extract::{AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};

#[derive(Template)]
#[template(path = "admin/donation.html")]
struct DonationTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    d: Detail,
    date: String,
    amount: String,
    refunded: String,
    disputed: Option<String>,
    refundable: Option<String>,
    method: &'static str,
    status: &'static str,
    can_refund: bool,
    done: Option<&'static str>,
    error: Option<String>,
    /// The standing tax receipt that counts it: (id, number).
    receipt: Option<(i64, String)>,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saisie" => {
            "Le don est enregistré et compté dans les totaux ; le donateur reçoit un e-mail de remerciement avec son reçu fiscal."
        }
        "remboursement" => {
            "Le remboursement est demandé à Stripe : il apparaîtra ici dès que Stripe l’aura confirmé."
        }
        "rembourse" => "Le remboursement est enregistré.",
        _ => return None,
    })
}

async fn donation_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    id: i64,
    done: Option<&'static str>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let d = donation_list::detail(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let currency = Currency::parse(&d.row.currency).unwrap_or(Currency::EUR);
    // What a bank dispute holds cannot be refunded (Stripe refuses).
    let left = d.row.amount_cents - d.row.refunded_cents - d.disputed_cents;
    let method = d
        .row
        .payment_method
        .parse::<PaymentMethod>()
        .map_or("", PaymentMethod::label);
    let mut conn = state.db.pool().acquire().await?;
    let receipt = match store_receipts::covering(&mut conn, id).await? {
        Some(receipt_id) => store_receipts::find(&mut conn, receipt_id)
            .await?
            .map(|r| (r.id, r.number)),
        None => None,
    };
    drop(conn);
    let (csrf_token, cookie) = form_token(state, headers);
    let html = DonationTemplate {
        layout: Layout::new(state, format!("Don n° {id}")),
        receipt,
        staff: Some(me.bar()),
        csrf_token,
        date: french_date(d.row.donated_at),
        amount: format_money(d.row.amount_cents, currency),
        refunded: format_money(d.row.refunded_cents, currency),
        disputed: (d.disputed_cents > 0).then(|| format_money(d.disputed_cents, currency)),
        refundable: (left > 0 && d.row.status == "paid").then(|| euros_input(left)),
        method,
        status: status_label(&d.row.status),
        can_refund: me.role.allows(Role::Editor),
        d,
        done,
        error,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// Cents as typed in a field: `12,50`, `40`.
fn euros_input(cents: i64) -> String {
    crate::domain::money::euros_as_typed(cents)
}

/// `GET /admin/dons/{id}`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let done = done_message(query.fait.as_deref());
    donation_page(&state, &headers, &me, id, done, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct RefundForm {
    csrf_token: Option<String>,
    #[serde(default)]
    amount: String,
}

/// `POST /admin/dons/{id}/remboursement` (editors).
pub async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    OnceForm(form, post): OnceForm<RefundForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    // Money: a refund asked for twice (a double click, a page sent again once the first
    // one is in the ledger) is given once.
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let d = donation_list::detail(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let left = d.row.amount_cents - d.row.refunded_cents - d.disputed_cents;
    let refuse = |message: String| async {
        donation_page(
            &state,
            &headers,
            &me,
            id,
            None,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    };
    if d.row.status != DonationStatus::Paid.as_str() || left <= 0 {
        return refuse("Ce don n’a rien à rembourser.".to_owned()).await;
    }
    let limits = AmountLimits {
        min_cents: 1,
        max_cents: left,
    };
    let amount = match parse_amount(&form.amount, limits) {
        Ok(cents) => cents,
        Err(_) => {
            return refuse(format!(
                "Indiquez un montant de 0,01 € à {} (ce qui reste de ce don).",
                format_money(left, Currency::EUR)
            ))
            .await;
        }
    };
    let total_after = d.row.refunded_cents + amount;
    let offline = d
        .row
        .payment_method
        .parse::<PaymentMethod>()
        .is_ok_and(PaymentMethod::is_offline);
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "donation.refund",
        subject: format!("donation:{id}"),
        before: Some(json!({ "refunded_cents": d.row.refunded_cents })),
        after: Some(
            json!({ "refunded_cents": total_after, "through": if offline { "offline" } else { "stripe" } }),
        ),
    };
    if offline {
        // Not Stripe's money: the refund is recorded here, now.
        let mut tx = state.db.begin_write().await?;
        let row = donations::find_by_id_locked(&mut tx, state.db.backend(), id)
            .await?
            .ok_or(AppError::NotFound)?;
        if row.refunded_cents != d.row.refunded_cents {
            return Err(AppError::Conflict(
                "Ce don vient d’être modifié : rechargez la page.".to_owned(),
            ));
        }
        let recorded =
            donations::record_refund(&mut tx, state.db.backend(), &row, total_after, now)
                .await
                .map_err(|e| AppError::Other(e.into()))?;
        if let Some(refunded_cents) = recorded {
            jobs::owe_refund_follow_ups(&mut tx, id, refunded_cents, now).await?;
        }
        audit::record(&mut tx, &entry, now).await?;
        tx.commit().await?;
        let location = format!("/admin/dons/{id}?fait=rembourse");
        first.done(&location).await;
        return Ok(Redirect::to(&location).into_response());
    }
    let request = RefundRequest {
        donation_id: id,
        payment_intent_id: d.stripe_payment_intent_id.as_deref(),
        invoice_id: d.stripe_invoice_id.as_deref(),
        amount_cents: amount,
        total_after_cents: total_after,
    };
    if let Err(error) = refunds::issue(&state.payments, &request).await {
        tracing::error!(%error, donation_id = id, "refund refused");
        return Err(AppError::Unavailable(
            "Stripe n’a pas accepté le remboursement, ou ne répond pas : rien n’a été remboursé. Réessayez dans quelques minutes."
                .to_owned(),
        ));
    }
    let mut tx = state.db.begin_write().await?;
    audit::record(&mut tx, &entry, now).await?;
    tx.commit_unseen().await?;
    let location = format!("/admin/dons/{id}?fait=remboursement");
    first.done(&location).await;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Template)]
#[template(path = "admin/offline.html")]
struct OfflineTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    form: OfflineForm,
    errors: FieldErrors,
    campaigns: Vec<(String, String)>,
    countries: Vec<(&'static str, &'static str, bool)>,
    methods: Vec<(&'static str, &'static str)>,
}

impl OfflineTemplate {
    fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

/// What the team typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OfflineForm {
    csrf_token: Option<String>,
    email: Option<String>,
    #[serde(flatten)]
    identity: ProfileForm,
    campaign: Option<String>,
    amount: Option<String>,
    date: Option<String>,
    method: Option<String>,
    reference: Option<String>,
}

const OFFLINE_METHODS: [PaymentMethod; 3] = [
    PaymentMethod::Cheque,
    PaymentMethod::Transfer,
    PaymentMethod::Cash,
];
const MAX_REFERENCE: usize = 100;

async fn offline_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    form: OfflineForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response> {
    let campaigns = campaigns::public(state.db.pool()).await?;
    let country = form
        .identity
        .country
        .clone()
        .unwrap_or_else(|| "FR".to_owned())
        .to_uppercase();
    let (csrf_token, cookie) = form_token(state, headers);
    let html = OfflineTemplate {
        layout: Layout::new(state, "Saisir un don hors ligne"),
        staff: Some(me.bar()),
        csrf_token,
        campaigns: campaigns
            .iter()
            .map(|c| (c.id.to_string(), c.title.clone()))
            .collect(),
        countries: COUNTRIES
            .iter()
            .map(|(code, name)| (*code, *name, *code == country))
            .collect(),
        methods: OFFLINE_METHODS
            .iter()
            .map(|m| (m.as_str(), m.label()))
            .collect(),
        form,
        errors,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/dons/hors-ligne` (editors).
pub async fn offline_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Editor)?;
    let today = dates::rfc3339(dates::now()).unwrap_or_default();
    let form = OfflineForm {
        date: today.get(..10).map(str::to_owned),
        ..OfflineForm::default()
    };
    offline_page(
        &state,
        &headers,
        &me,
        form,
        FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

/// A gift entered by hand, checked.
struct Offline {
    donor: DonorIdentity,
    campaign_id: i64,
    amount_cents: i64,
    donated_at: i64,
    method: PaymentMethod,
    reference: String,
}

fn check(
    form: &OfflineForm,
    campaigns: &[i64],
    now: i64,
) -> std::result::Result<Offline, FieldErrors> {
    let mut errors = match form.identity.validate() {
        Ok(_) => FieldErrors::new(),
        Err(errors) => errors,
    };
    let email = identity::email(&form.email).map_err(|m| errors.insert("email", m));
    let campaign_id = form
        .campaign
        .as_deref()
        .and_then(|c| c.parse::<i64>().ok())
        .filter(|id| campaigns.contains(id));
    if campaign_id.is_none() {
        errors.insert(
            "campaign",
            "Choisissez la campagne dans la liste.".to_owned(),
        );
    }
    let limits = AmountLimits {
        min_cents: 1,
        max_cents: 100_000_000,
    };
    let amount = parse_amount(form.amount.as_deref().unwrap_or(""), limits)
        .map_err(|e| errors.insert("amount", e.to_string()));
    let donated_at = form.date.as_deref().and_then(day).filter(|at| *at <= now);
    if donated_at.is_none() {
        errors.insert(
            "date",
            "Indiquez la date du don, aujourd’hui au plus tard (exemple : 2026-12-01).".to_owned(),
        );
    }
    let method = form
        .method
        .as_deref()
        .and_then(|m| m.parse::<PaymentMethod>().ok())
        .filter(|m| m.is_offline());
    if method.is_none() {
        errors.insert(
            "method",
            "Choisissez chèque, virement ou espèces.".to_owned(),
        );
    }
    let reference = form.reference.as_deref().unwrap_or("").trim().to_owned();
    if reference.chars().count() > MAX_REFERENCE || reference.chars().any(char::is_control) {
        errors.insert(
            "reference",
            format!(
                "La référence tient en {MAX_REFERENCE} caractères, sans caractère de contrôle."
            ),
        );
    }
    let (
        Ok(checked),
        Ok(email),
        Some(campaign_id),
        Ok(amount_cents),
        Some(donated_at),
        Some(method),
        true,
    ) = (
        form.identity.validate(),
        email,
        campaign_id,
        amount,
        donated_at,
        method,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    Ok(Offline {
        donor: DonorIdentity {
            email,
            first_name: checked.first_name,
            last_name: checked.last_name,
            address_line1: checked.address_line1,
            address_line2: checked.address_line2,
            postal_code: checked.postal_code,
            city: checked.city,
            country: checked.country,
        },
        campaign_id,
        amount_cents,
        // Noon of that day: a date, not a time, was given.
        donated_at: donated_at + DAY / 2,
        method,
        reference,
    })
}

/// `POST /admin/dons/hors-ligne`.
pub async fn record_offline(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    OnceForm(form, post): OnceForm<OfflineForm>,
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
    let open: Vec<i64> = campaigns::public(state.db.pool())
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    let gift = match check(&form, &open, now) {
        Ok(gift) => gift,
        Err(errors) => {
            return offline_page(
                &state,
                &headers,
                &me,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let backend = state.db.backend();
    let mut tx = state.db.begin_write().await?;
    let supporter_id = supporters::upsert(&mut tx, &gift.donor, None, now, now).await?;
    let donation = NewDonation {
        campaign_id: gift.campaign_id,
        supporter_id,
        pledge_id: None,
        recurring_gift_id: None,
        amount: Money::new(gift.amount_cents, Currency::EUR),
        frequency: Frequency::Once,
        payment_method: gift.method,
        show_publicly: false,
        public_name: None,
        dedication_kind: None,
        dedication_name: None,
        stripe_checkout_session_id: None,
        stripe_payment_intent_id: None,
        stripe_invoice_id: None,
        donated_at: gift.donated_at,
    };
    let id = donations::insert_paid(&mut tx, backend, &donation, now).await?;
    if !gift.reference.is_empty() {
        donations::set_reference(&mut tx, id, &gift.reference).await?;
    }
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "donation.offline",
        subject: format!("donation:{id}"),
        before: None,
        after: Some(json!({
            "amount_cents": gift.amount_cents,
            "method": gift.method.as_str(),
            "campaign_id": gift.campaign_id,
            "reference": gift.reference,
            "donated_at": gift.donated_at,
            "email": gift.donor.email.as_str(),
        })),
    };
    audit::record(&mut tx, &entry, now).await?;
    // Thanked, with its tax receipt, as a gift made online is.
    jobs::enqueue(
        &mut tx,
        &Job::Email(Message::ThankYou { donation_id: id }),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(donation_id = id, "offline gift recorded");
    let location = format!("/admin/dons/{id}?fait=saisie");
    first.done(&location).await;
    Ok(Redirect::to(&location).into_response())
}
