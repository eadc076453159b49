//! The sandbox's own pages (French): hosted checkout, billing portal, dashboard, and the
//! control endpoints that move the clock, refund, and open and decide disputes. No script; every action is a plain form post.
//! There is no CSRF token: these pages move no real money and exist only in demo mode (the
//! dashboard's refund button included: it refunds only the sandbox's simulated payments).
//!
//! Over 500 lines because each page's view model sits beside its handlers; the pages share
//! rendering, form and French formatting helpers, and each is small on its own.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::Sandbox;
use super::billing;
use super::checkout::{self, Choice, PayError};
use super::disputes::{self, DisputeOutcome, DisputeRequest};
use super::error::ApiError;
use super::form::Form;
use super::payments::{self, ALREADY_REFUNDED, CHARGE_DISPUTED, RefundRequest, RefundTarget};
use super::state::{
    Delivery, Metadata, Method, Mode, PaymentIntent, State as Records, Subscription, find,
};
use super::subscription_changes::{Change, PauseChange};
use crate::clock::DAY;
use crate::french::{euros_as_typed, format_money, french_date};

const STYLESHEET: &str = include_str!("../static/sandbox.css");
/// How many events the dashboard lists.
const RECENT_EVENTS: usize = 50;
/// How many payments the dashboard lists.
const RECENT_PAYMENTS: usize = 50;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/", get(dashboard))
        .route("/assets/sandbox.css", get(stylesheet))
        .route("/control/advance", post(advance))
        .route("/control/payments/{id}/refund", post(refund_payment))
        .route("/control/payments/{id}/dispute", post(dispute_payment))
        .route("/control/disputes/{id}/close", post(close_dispute))
        .route("/checkout/{id}", get(checkout_page).post(pay))
        .route("/portal/{id}", get(portal_page))
        .route(
            "/portal/{id}/subscriptions/{subscription}/{action}",
            post(portal_action),
        )
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "sandbox page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Erreur du bac à sable").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    title: &'static str,
    mount: String,
    id: String,
    open: bool,
    closed_reason: &'static str,
    product_name: String,
    amount: String,
    interval: Option<&'static str>,
    email: Option<String>,
    subscription: bool,
    sepa: bool,
    cancel_url: Option<String>,
    error: Option<&'static str>,
}

impl CheckoutPage {
    fn new(mount: String, records: &Records, id: &str) -> Option<CheckoutPage> {
        let session = find(&records.sessions, id)?;
        let open = session.status == "open" && session.expires_at > records.now();
        Some(CheckoutPage {
            title: "Paiement sécurisé",
            mount,
            id: session.id.clone(),
            open,
            closed_reason: match session.status.as_str() {
                "complete" => "Ce paiement a déjà été effectué.",
                _ => "Cette session de paiement a expiré.",
            },
            product_name: session.product_name.clone(),
            amount: format_money(session.amount_total(), &session.currency),
            interval: session.interval.map(|i| i.french()),
            // In part: whoever holds a session id (a shared thank-you link) can open this page.
            email: session.customer_email.as_deref().map(masked_email),
            subscription: session.mode == Mode::Subscription,
            sepa: session
                .payment_method_types
                .iter()
                .any(|t| t == "sepa_debit"),
            cancel_url: session.cancel_url.clone(),
            error: None,
        })
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><title>Introuvable</title><p>Introuvable.</p>"),
    )
        .into_response()
}

async fn checkout_page(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    let page = CheckoutPage::new(sandbox.mount_path(), &sandbox.lock(), &id);
    match page {
        Some(page) => render(StatusCode::OK, &page),
        None => not_found(),
    }
}

async fn pay(State(sandbox): State<Sandbox>, Path(id): Path<String>, body: String) -> Response {
    let choice = Form::parse(&body).get(&["outcome"]).and_then(Choice::parse);
    let result = match choice {
        Some(choice) => checkout::pay(&mut sandbox.lock(), &id, choice),
        None => Err(PayError::Unavailable),
    };
    let (status, error) = match result {
        Ok(success_url) => return Redirect::to(&success_url).into_response(),
        Err(PayError::NotFound) => return not_found(),
        Err(PayError::NotOpen) => (StatusCode::CONFLICT, None),
        Err(PayError::Declined) => (
            StatusCode::PAYMENT_REQUIRED,
            Some("Votre carte a été refusée. Essayez un autre moyen de paiement."),
        ),
        Err(PayError::Unavailable) => (
            StatusCode::BAD_REQUEST,
            Some("Ce moyen de paiement n'est pas proposé pour ce paiement."),
        ),
    };
    let page = CheckoutPage::new(sandbox.mount_path(), &sandbox.lock(), &id);
    match page {
        Some(page) => render(status, &CheckoutPage { error, ..page }),
        None => not_found(),
    }
}

/// A subscription as the portal and the dashboard show it.
struct SubscriptionView {
    id: String,
    product_name: String,
    amount: String,
    /// The amount in euros as typed in the form (`12,50`).
    amount_input: String,
    interval: &'static str,
    status: String,
    active: bool,
    next_date: String,
    paused: bool,
    /// When a pause ends by itself (`pause_collection[resumes_at]`), in French.
    resumes_on: Option<String>,
    cancel_at_period_end: bool,
    failing_card: bool,
}

impl SubscriptionView {
    fn new(sub: &Subscription) -> SubscriptionView {
        let cents = sub.amount();
        SubscriptionView {
            id: sub.id.clone(),
            product_name: sub.price.product_name.clone(),
            amount: format_money(cents, &sub.price.currency),
            amount_input: euros_as_typed(cents),
            interval: sub.price.interval.french(),
            status: match sub.status.as_str() {
                "active" if sub.paused => "suspendu".to_owned(),
                "active" => "actif".to_owned(),
                "past_due" => "paiement en retard".to_owned(),
                "canceled" => "résilié".to_owned(),
                other => other.to_owned(),
            },
            active: sub.status != "canceled",
            next_date: if sub.status == "canceled" {
                String::from("—")
            } else {
                french_date(sub.current_period_end)
            },
            paused: sub.paused,
            resumes_on: sub.pause_resumes_at.filter(|_| sub.paused).map(french_date),
            cancel_at_period_end: sub.cancel_at_period_end,
            failing_card: sub.method == Method::CardFailsRenewal,
        }
    }
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    title: &'static str,
    mount: String,
    id: String,
    email: Option<String>,
    subscriptions: Vec<SubscriptionView>,
    return_url: Option<String>,
    error: Option<String>,
}

impl PortalPage {
    fn new(mount: String, records: &Records, id: &str) -> Option<PortalPage> {
        let session = find(&records.portal_sessions, id)?;
        Some(PortalPage {
            title: "Vos abonnements",
            mount,
            id: session.id.clone(),
            email: find(&records.customers, &session.customer).and_then(|c| c.email.clone()),
            subscriptions: records
                .subscriptions
                .iter()
                .filter(|s| s.customer == session.customer)
                .map(SubscriptionView::new)
                .collect(),
            return_url: session.return_url.clone(),
            error: None,
        })
    }
}

async fn portal_page(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    let page = PortalPage::new(sandbox.mount_path(), &sandbox.lock(), &id);
    match page {
        Some(page) => render(StatusCode::OK, &page),
        None => not_found(),
    }
}

/// Each portal button has the same effect (and events) as the matching API call.
async fn portal_action(
    State(sandbox): State<Sandbox>,
    Path((id, subscription, action)): Path<(String, String, String)>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let result = {
        let mut records = sandbox.lock();
        let owner = find(&records.portal_sessions, &id).map(|p| p.customer.clone());
        let owned = find(&records.subscriptions, &subscription)
            .is_some_and(|s| Some(&s.customer) == owner.as_ref());
        if !owned {
            return not_found();
        }
        portal_change(&action, &form).and_then(|change| match change {
            PortalChange::Update(change) => billing::update(&mut records, &subscription, change)
                .map(|_| ())
                .map_err(|e| e.message),
            PortalChange::CancelNow => {
                billing::cancel(&mut records, &subscription, Default::default())
                    .map(|_| ())
                    .map_err(|e| e.message)
            }
            PortalChange::ReplaceCard => {
                billing::replace_card(&mut records, &subscription).map_err(|e| e.message)
            }
        })
    };
    match result {
        Ok(()) => Redirect::to(&format!("{}/portal/{id}", sandbox.mount_path())).into_response(),
        Err(error) => match PortalPage::new(sandbox.mount_path(), &sandbox.lock(), &id) {
            Some(page) => render(
                StatusCode::BAD_REQUEST,
                &PortalPage {
                    error: Some(error),
                    ..page
                },
            ),
            None => not_found(),
        },
    }
}

enum PortalChange {
    Update(Change),
    CancelNow,
    ReplaceCard,
}

fn portal_change(action: &str, form: &Form) -> Result<PortalChange, String> {
    let update = |change: Change| Ok(PortalChange::Update(change));
    match action {
        "amount" => {
            let amount = form.get(&["amount"]).and_then(parse_euros).ok_or_else(|| {
                "Indiquez un montant en euros, par exemple 15 ou 12,50.".to_owned()
            })?;
            update(Change {
                unit_amount: Some(amount),
                ..Change::default()
            })
        }
        "pause" => update(Change {
            pause: Some(PauseChange::Void { resumes_at: None }),
            ..Change::default()
        }),
        "resume" => update(Change {
            pause: Some(PauseChange::Resume),
            ..Change::default()
        }),
        "cancel_at_period_end" | "keep" => update(Change {
            cancel_at_period_end: Some(action == "cancel_at_period_end"),
            ..Change::default()
        }),
        "cancel" => Ok(PortalChange::CancelNow),
        "replace_card" => Ok(PortalChange::ReplaceCard),
        _ => Err("Action inconnue.".to_owned()),
    }
}

/// `15`, `12,50` or `12.5` euros → cents; positive only.
fn parse_euros(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (units, cents) = match text.split_once('.') {
        Some((units, cents)) => (units, cents),
        None => (text.as_str(), ""),
    };
    if units.is_empty() || cents.len() > 2 || !cents.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    let total = units.checked_mul(100)?.checked_add(cents)?;
    (total > 0).then_some(total)
}

struct EventView {
    id: String,
    kind: String,
    created: String,
    delivery: String,
}

/// A successful payment as the dashboard lists it, with what is left to refund.
struct PaymentView {
    id: String,
    /// When its charge succeeded, by the sandbox clock.
    created: i64,
    paid_at: String,
    amount: String,
    email: String,
    /// `Don ponctuel (Checkout)` or `Facture d'abonnement (…)`.
    kind: String,
    product_name: String,
    /// The checkout session or invoice it paid.
    reference: String,
    refunded: Option<String>,
    /// What remains to refund, formatted; `None` once everything is refunded.
    refundable: Option<String>,
    /// The same, as the refund field takes it (`12,50`).
    refundable_input: String,
    /// Its charge's dispute, if the payer's bank opened one.
    dispute: Option<DisputeView>,
}

/// A payment's dispute as the dashboard shows it.
struct DisputeView {
    id: String,
    /// `Litige ouvert : 30,00 € (réponse attendue avant le …)`, `Litige gagné : …`.
    summary: String,
    /// Whether the bank has yet to decide (the won / lost buttons).
    open: bool,
    /// Whether it holds the money (open or lost): no refund then.
    holds_money: bool,
}

impl PaymentView {
    /// `None` for a payment without a successful charge (pending SEPA, declined card).
    fn new(records: &Records, intent: &PaymentIntent) -> Option<PaymentView> {
        if intent.status != "succeeded" {
            return None;
        }
        let charge = intent
            .latest_charge
            .as_deref()
            .and_then(|id| find(&records.charges, id))
            .filter(|c| c.status == "succeeded")?;
        let invoice = records
            .invoices
            .iter()
            .find(|i| i.payment_intent == intent.id);
        let session = records
            .sessions
            .iter()
            .find(|s| s.payment_intent.as_deref() == Some(intent.id.as_str()));
        let (kind, product_name, reference) = match (invoice, session) {
            (Some(invoice), _) => (
                format!(
                    "Facture d'abonnement ({})",
                    match invoice.billing_reason.as_str() {
                        "subscription_create" => "premier paiement",
                        "subscription_update" => "changement de périodicité",
                        _ => "renouvellement",
                    }
                ),
                invoice.price.product_name.clone(),
                invoice.id.clone(),
            ),
            (None, Some(session)) => (
                "Don ponctuel (Checkout)".to_owned(),
                session.product_name.clone(),
                session.id.clone(),
            ),
            (None, None) => ("Paiement".to_owned(), String::new(), intent.id.clone()),
        };
        let dispute = records
            .disputes
            .iter()
            .find(|d| d.charge == charge.id)
            .map(|d| {
                let amount = format_money(d.amount, &d.currency);
                DisputeView {
                    id: d.id.clone(),
                    summary: match d.status.as_str() {
                        "won" => format!("Litige gagné : {amount}"),
                        "lost" => format!("Litige perdu : {amount}"),
                        _ => format!(
                            "Litige ouvert : {amount} (réponse attendue avant le {})",
                            french_date(d.due_by)
                        ),
                    },
                    open: d.is_open(),
                    holds_money: d.status != "won",
                }
            });
        let refundable = if dispute.as_ref().is_some_and(|d| d.holds_money) {
            0
        } else {
            charge.refundable()
        };
        Some(PaymentView {
            id: intent.id.clone(),
            created: charge.created,
            paid_at: french_date_time(charge.created),
            amount: format_money(charge.amount, &charge.currency),
            email: intent
                .customer
                .as_deref()
                .and_then(|id| find(&records.customers, id))
                .and_then(|c| c.email.as_deref())
                .map_or_else(|| "—".to_owned(), masked_email),
            kind,
            product_name,
            reference,
            refunded: (charge.amount_refunded > 0)
                .then(|| format_money(charge.amount_refunded, &charge.currency)),
            refundable: (refundable > 0).then(|| format_money(refundable, &charge.currency)),
            refundable_input: euros_as_typed(refundable),
            dispute,
        })
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    title: &'static str,
    mount: String,
    clock: String,
    subscriptions: Vec<SubscriptionView>,
    payments: Vec<PaymentView>,
    /// Why the last refund asked for was not made.
    payment_error: Option<String>,
    events: Vec<EventView>,
}

/// `29 novembre 2026 à 14:05` (UTC).
fn french_date_time(unix: i64) -> String {
    let minutes = unix.rem_euclid(DAY) / 60;
    format!(
        "{} à {:02}:{:02}",
        french_date(unix),
        minutes / 60,
        minutes % 60
    )
}

impl DashboardPage {
    fn new(mount: String, records: &Records, payment_error: Option<String>) -> DashboardPage {
        let mut payments: Vec<PaymentView> = records
            .payment_intents
            .iter()
            .filter_map(|intent| PaymentView::new(records, intent))
            .collect();
        // Newest first; the sort is stable, so payments of the same second keep their order.
        payments.sort_by_key(|p| std::cmp::Reverse(p.created));
        payments.truncate(RECENT_PAYMENTS);
        DashboardPage {
            title: "Tableau de bord",
            mount,
            clock: french_date_time(records.now()),
            subscriptions: records
                .subscriptions
                .iter()
                .map(SubscriptionView::new)
                .collect(),
            payments,
            payment_error,
            events: records
                .events
                .iter()
                .rev()
                .take(RECENT_EVENTS)
                .map(|e| EventView {
                    id: e.id.clone(),
                    kind: e.kind.clone(),
                    created: french_date_time(e.created),
                    delivery: match &e.delivery {
                        Delivery::Held => "non envoyé (livraison automatique coupée)".to_owned(),
                        Delivery::Queued => "en attente".to_owned(),
                        Delivery::Delivered { attempts: 1 } => "livré".to_owned(),
                        Delivery::Delivered { attempts } => format!("livré ({attempts} essais)"),
                        Delivery::Failed { attempts, error } => {
                            format!("abandonné après {attempts} essais ({error})")
                        }
                    },
                })
                .collect(),
        }
    }
}

async fn dashboard(State(sandbox): State<Sandbox>) -> Response {
    let page = DashboardPage::new(sandbox.mount_path(), &sandbox.lock(), None);
    render(StatusCode::OK, &page)
}

/// Where the dashboard's forms send the browser back to.
fn back_to_dashboard(sandbox: &Sandbox) -> Response {
    let mount = sandbox.mount_path();
    Redirect::to(if mount.is_empty() { "/" } else { &mount }).into_response()
}

/// `POST /control/payments/{id}/refund` with an optional `amount` in euros (`12,50`); empty
/// refunds everything that remains. Same domain call, hence same events, as `POST
/// /v1/refunds`; a refused refund shows the dashboard again with the reason, nothing changed.
async fn refund_payment(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let typed = form
        .get(&["amount"])
        .map(str::trim)
        .filter(|text| !text.is_empty());
    let amount = match typed.map(parse_euros) {
        None => Ok(None),
        Some(Some(cents)) => Ok(Some(cents)),
        Some(None) => Err(
            "Indiquez un montant en euros, par exemple 15 ou 12,50, ou laissez le champ vide pour \
             tout rembourser."
                .to_owned(),
        ),
    };
    let error = {
        let mut records = sandbox.lock();
        if find(&records.payment_intents, &id).is_none() {
            return not_found();
        }
        let refunded = amount.and_then(|amount| {
            let request = RefundRequest {
                target: RefundTarget::PaymentIntent(id.clone()),
                amount,
                reason: None,
                metadata: Metadata::new(),
            };
            payments::refund(&mut records, request)
                .map_err(|error| refund_refused(&records, &id, amount, &error))
        });
        match refunded {
            Ok(_) => return back_to_dashboard(&sandbox),
            Err(error) => error,
        }
    };
    let page = DashboardPage::new(sandbox.mount_path(), &sandbox.lock(), Some(error));
    render(StatusCode::BAD_REQUEST, &page)
}

/// Why a refund was refused, in French, for whoever clicked on the dashboard.
fn refund_refused(records: &Records, pi: &str, amount: Option<i64>, error: &ApiError) -> String {
    let charge = find(&records.payment_intents, pi)
        .and_then(|intent| intent.latest_charge.as_deref())
        .and_then(|id| find(&records.charges, id));
    if error.code == Some(CHARGE_DISPUTED) {
        return "Ce paiement est contesté par la banque du donateur : il ne peut plus être \
                remboursé."
            .to_owned();
    }
    if error.code == Some(ALREADY_REFUNDED) {
        return "Ce paiement a déjà été entièrement remboursé : rien n'a été remboursé de plus."
            .to_owned();
    }
    // The amount was read here, so an `amount` error can only mean it exceeds what remains.
    if error.param.as_deref() == Some("amount")
        && let (Some(amount), Some(charge)) = (amount, charge)
    {
        return format!(
            "Le montant demandé ({}) dépasse ce qui reste à rembourser sur ce paiement ({}) : \
             rien n'a été remboursé.",
            format_money(amount, &charge.currency),
            format_money(charge.refundable(), &charge.currency),
        );
    }
    "Ce paiement ne peut pas être remboursé (il n'a pas abouti) : rien n'a été remboursé."
        .to_owned()
}

/// `POST /control/payments/{id}/dispute`, `id` a PaymentIntent: the payer's bank disputes
/// its charge, for an optional `amount` in euros (empty: all of it) and an optional `reason`
/// (Stripe's; empty: `fraudulent`). Same events as Stripe's; a refused one shows the
/// dashboard again with the reason, nothing changed.
async fn dispute_payment(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let form = Form::parse(&body);
    let filled = |key: &str| {
        form.get(&[key])
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let amount = match filled("amount").map(|text| parse_euros(&text)) {
        None => Ok(None),
        Some(Some(cents)) => Ok(Some(cents)),
        Some(None) => Err(
            "Indiquez un montant en euros, par exemple 15 ou 12,50, ou laissez le \
                           champ vide pour contester tout le paiement."
                .to_owned(),
        ),
    };
    let error = {
        let mut records = sandbox.lock();
        if find(&records.payment_intents, &id).is_none() {
            return not_found();
        }
        let opened = amount.and_then(|amount| {
            let request = DisputeRequest {
                target: RefundTarget::PaymentIntent(id.clone()),
                amount,
                reason: filled("reason"),
            };
            disputes::open(&mut records, request).map_err(|error| {
                format!(
                    "Aucun litige n'a été ouvert : {}",
                    match error.param.as_deref() {
                        Some("amount") => "le montant dépasse celui du paiement.",
                        Some("reason") => "ce motif n'est pas un motif de Stripe.",
                        _ => "ce paiement n'a pas abouti ou est déjà contesté.",
                    }
                )
            })
        });
        match opened {
            Ok(_) => return back_to_dashboard(&sandbox),
            Err(error) => error,
        }
    };
    let page = DashboardPage::new(sandbox.mount_path(), &sandbox.lock(), Some(error));
    render(StatusCode::BAD_REQUEST, &page)
}

/// `POST /control/disputes/{id}/close` with `outcome` `won` or `lost`: the bank decides.
async fn close_dispute(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let outcome = Form::parse(&body)
        .get(&["outcome"])
        .and_then(DisputeOutcome::parse);
    let error = {
        let mut records = sandbox.lock();
        if find(&records.disputes, &id).is_none() {
            return not_found();
        }
        let closed = match outcome {
            Some(outcome) => disputes::close(&mut records, &id, outcome)
                .map_err(|_| "Ce litige est déjà tranché : rien n'a changé.".to_owned()),
            None => Err("Choisissez l'issue du litige : gagné ou perdu.".to_owned()),
        };
        match closed {
            Ok(_) => return back_to_dashboard(&sandbox),
            Err(error) => error,
        }
    };
    let page = DashboardPage::new(sandbox.mount_path(), &sandbox.lock(), Some(error));
    render(StatusCode::BAD_REQUEST, &page)
}

/// `POST /control/advance` with `days` as a form (redirects to the dashboard) or as JSON
/// (answers the new clock).
async fn advance(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let days = if is_json {
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("days").and_then(serde_json::Value::as_i64))
    } else {
        Form::parse(&body)
            .get(&["days"])
            .and_then(|d| d.parse().ok())
    };
    let Some(days) = days.filter(|d| (0..=3660).contains(d)) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "error": "days: a whole number of days between 0 and 3660" }).to_string(),
        )
            .into_response();
    };
    sandbox.advance_clock(days * DAY).await;
    if is_json {
        let now = sandbox.now();
        return (
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "now": now }).to_string(),
        )
            .into_response();
    }
    back_to_dashboard(&sandbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_read_the_french_way() {
        assert_eq!(parse_euros("15"), Some(1500));
        assert_eq!(parse_euros("12,50"), Some(1250));
        assert_eq!(parse_euros(" 12.5 "), Some(1250));
        assert_eq!(parse_euros("0"), None);
        assert_eq!(parse_euros("-3"), None);
        assert_eq!(parse_euros("1,234"), None);
        assert_eq!(parse_euros("abc"), None);
        assert_eq!(parse_euros(",5"), None);
    }

    #[test]
    fn clock_is_shown_in_french() {
        assert_eq!(french_date_time(1_795_960_800), "29 novembre 2026 à 14:00");
    }
}

/// An email as the dashboard and the hosted checkout show it, enough to tell donors apart
/// and no more: both are open to anyone who reaches the demo (`marie.dupont@exemple.fr` →
/// `ma…@exemple.fr`).
fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let start: String = local.chars().take(2).collect();
            format!("{start}…@{domain}")
        }
        None => "…".to_owned(),
    }
}

#[cfg(test)]
mod masking_tests {
    use super::masked_email;

    #[test]
    fn an_email_shows_its_first_letters_and_its_domain() {
        assert_eq!(masked_email("marie.dupont@exemple.fr"), "ma…@exemple.fr");
        assert_eq!(masked_email("é@x.fr"), "é…@x.fr");
    }
}
