//! A recurring gift, managed by its supporter: a new amount, a pause (or the next instalment
//! skipped), a resume, a cancellation in one confirmation step with an optional reason, a
//! cancellation taken back. Each request goes to Stripe; the gift's local state follows when
//! Stripe's event comes back, and so does the confirmation email.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{SignedIn, fix_payment_url, form_token, personal};
use crate::domain::amount::parse_amount;
use crate::domain::attribution::Attribution;
use crate::domain::cancellation::CancelReason;
use crate::domain::dates::{self, DAY, french_date};
use crate::domain::frequency::Frequency;
use crate::domain::gift::Gift;
use crate::domain::identity::DonorIdentity;
use crate::domain::money::{Money, format_money};
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::error::{AppError, Result};
use crate::payments::subscriptions::{self, GiftRequest};
use crate::store::campaigns;
use crate::store::giving::{self, GiftLine};
use crate::store::supporters;
use crate::web::AppState;
use crate::web::donate::form::{checkout_again, start_checkout, still_open};
use crate::web::extract::{AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Post, Sending};
use crate::web::session::Visitor;

/// The longest pause a supporter can choose, in months.
const LONGEST_PAUSE_MONTHS: i64 = 6;
/// A month, for a pause: Stripe resumes at a time, not a calendar date; the longest month, so
/// that a pause of n months always skips n instalments.
const MONTH: i64 = 31 * DAY;
/// Longest reason text kept.
const COMMENT_MAX: usize = 1_000;

#[derive(Template)]
#[template(path = "space/gift.html")]
struct GiftTemplate {
    layout: Layout,
    csrf_token: String,
    gift: GiftLine,
    amount: String,
    amount_input: String,
    status: String,
    done: Option<&'static str>,
    error: Option<String>,
    fix_url: Option<String>,
    can_change: bool,
    months: Vec<i64>,
}

#[derive(Template)]
#[template(path = "space/cancel.html")]
struct CancelTemplate {
    layout: Layout,
    csrf_token: String,
    gift: GiftLine,
    amount: String,
    period_end: Option<String>,
    reasons: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

/// The supporter's own gift: anyone else's, or one that does not exist, is a 404 alike.
async fn own_gift(state: &AppState, supporter_id: i64, gift_id: i64) -> Result<GiftLine> {
    giving::gift(state.db.pool(), supporter_id, gift_id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

/// What the page says after a request went through.
fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "montant" => "C’est noté : le nouveau montant s’appliquera au prochain prélèvement.",
        "frequence" => {
            "C’est noté : le nouveau montant est prélevé aujourd’hui, puis à chaque échéance."
        }
        "pause" => {
            "C’est noté : votre don est en pause et reprendra de lui-même à la date choisie."
        }
        "saut" => "C’est noté : le prochain prélèvement n’aura pas lieu.",
        "reprise" => "C’est noté : votre don reprend.",
        "arret" => {
            "C’est noté : votre don est arrêté. Merci pour tout ce que vous avez rendu possible."
        }
        "arret-fin" => "C’est noté : votre don s’arrêtera à la fin de la période en cours.",
        "maintien" => "C’est noté : votre don continue. Merci !",
        _ => return None,
    })
}

/// `GET /mon-espace/dons-reguliers/{id}`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppPath(gift_id): AppPath<i64>,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    let gift = own_gift(&state, supporter_id, gift_id).await?;
    let amount_input = format_input(gift.amount_cents);
    page(
        &state,
        &headers,
        gift,
        done_message(query.fait.as_deref()),
        None,
        amount_input,
        StatusCode::OK,
    )
}

fn format_input(cents: i64) -> String {
    if cents % 100 == 0 {
        (cents / 100).to_string()
    } else {
        format!("{},{:02}", cents / 100, cents % 100)
    }
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    gift: GiftLine,
    done: Option<&'static str>,
    error: Option<String>,
    amount_input: String,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let now = dates::now();
    let fix_url =
        (gift.status == RecurringGiftStatus::PastDue).then(|| fix_payment_url(state, gift.id, now));
    let html = GiftTemplate {
        layout: Layout::new(state, "Mon don régulier"),
        csrf_token,
        amount: format!(
            "{} {}",
            format_money(gift.amount_cents, gift.currency),
            gift.frequency.per()
        ),
        status: describe(&gift),
        can_change: gift.status != RecurringGiftStatus::Canceled
            && gift.status != RecurringGiftStatus::Incomplete,
        months: (1..=LONGEST_PAUSE_MONTHS).collect(),
        gift,
        amount_input,
        done,
        error,
        fix_url,
    }
    .render()?;
    Ok(personal(status, html, Some(cookie)))
}

/// Where the gift stands, in a sentence.
fn describe(gift: &GiftLine) -> String {
    use RecurringGiftStatus::*;
    let date = |at: Option<i64>| at.map(french_date).unwrap_or_default();
    match gift.status {
        Active if gift.cancel_at_period_end == 1 => format!(
            "Arrêt demandé : dernier jour le {}.",
            date(gift.current_period_end)
        ),
        Active => match gift.current_period_end {
            Some(end) => format!("Actif. Prochain prélèvement le {}.", french_date(end)),
            None => "Actif.".to_owned(),
        },
        Paused => match gift.paused_until {
            Some(until) => format!("En pause jusqu’au {}.", french_date(until)),
            None => "En pause.".to_owned(),
        },
        PastDue => "Le dernier prélèvement n’a pas abouti.".to_owned(),
        Canceled => "Arrêté.".to_owned(),
        Incomplete => "En attente du premier paiement.".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    when: String,
    #[serde(default)]
    frequency: String,
}

/// `POST /mon-espace/dons-reguliers/{id}/{action}`.
pub async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppPath((gift_id, action)): AppPath<(i64, String)>,
    OnceForm(form, post): OnceForm<ChangeForm>,
) -> Result<Response> {
    apply(
        &state,
        &headers,
        supporter_id,
        gift_id,
        &action,
        form,
        &post,
    )
    .await
}

/// `POST /mon-espace/dons-reguliers/{id}/arret`: the cancellation, confirmed.
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppPath(gift_id): AppPath<i64>,
    OnceForm(form, post): OnceForm<ChangeForm>,
) -> Result<Response> {
    apply(
        &state,
        &headers,
        supporter_id,
        gift_id,
        "arret",
        form,
        &post,
    )
    .await
}

async fn apply(
    state: &AppState,
    headers: &HeaderMap,
    supporter_id: i64,
    gift_id: i64,
    action: &str,
    form: ChangeForm,
    post: &Post,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(headers, form.csrf_token.as_deref(), now)?;
    let gift = own_gift(state, supporter_id, gift_id).await?;
    // Before reading the gift's state, which the first sending may have changed: sent again,
    // the form leads where the first one did.
    let first = match once::claim(state, post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let Some(subscription) = gift.stripe_subscription_id.clone() else {
        return Err(AppError::NotFound);
    };
    if matches!(
        gift.status,
        RecurringGiftStatus::Canceled | RecurringGiftStatus::Incomplete
    ) {
        return Err(AppError::Gone(
            "Ce don régulier est arrêté : il ne peut plus être modifié. Vous pouvez faire un nouveau don depuis la page de la campagne."
                .to_owned(),
        ));
    }
    let (request, done) = match action {
        "montant" => match parse_amount(&form.amount, state.config.amount_limits) {
            Ok(cents) => {
                let frequency = match form.frequency.as_str() {
                    "" => gift.frequency,
                    raw => Frequency::parse(raw)
                        .filter(|f| f.is_recurring())
                        .ok_or_else(|| {
                            AppError::BadRequest("Choisissez un don mensuel ou annuel.".to_owned())
                        })?,
                };
                let done = if frequency == gift.frequency {
                    "montant"
                } else {
                    "frequence"
                };
                let request = GiftRequest::Amount {
                    amount: Money::new(cents, gift.currency),
                    frequency,
                };
                (request, done)
            }
            Err(error) => {
                let typed = form.amount.trim().to_owned();
                return page(
                    state,
                    headers,
                    gift,
                    None,
                    Some(error.to_string()),
                    typed,
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        },
        "pause" => {
            let next = next_instalment(&gift)?;
            let months = form
                .months
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=LONGEST_PAUSE_MONTHS).contains(m))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "Choisissez une pause de 1 à {LONGEST_PAUSE_MONTHS} mois."
                    ))
                })?;
            // `months` monthly instalments skipped, counted in Stripe's time (its clock is the
            // one that bills; in the demonstration it can run ahead of ours).
            (
                GiftRequest::Pause {
                    resumes_at: next + (months - 1) * MONTH + DAY,
                },
                "pause",
            )
        }
        "sauter" => {
            // Paused until just after the next renewal: that one instalment is skipped.
            let next = next_instalment(&gift)?;
            (
                GiftRequest::Pause {
                    resumes_at: next + DAY,
                },
                "saut",
            )
        }
        "reprise" => (GiftRequest::Resume, "reprise"),
        "maintien" => (GiftRequest::Keep, "maintien"),
        "arret" => {
            let at_period_end = match form.when.as_str() {
                "maintenant" => false,
                "fin" => true,
                _ => {
                    return cancel_page(
                        state,
                        headers,
                        gift,
                        Some("Choisissez quand votre don doit s’arrêter.".to_owned()),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    );
                }
            };
            let reason = match form.reason.as_str() {
                "" => None,
                raw => Some(raw.parse::<CancelReason>().map_err(|_| {
                    AppError::BadRequest("Cette raison ne fait pas partie de la liste.".to_owned())
                })?),
            };
            let comment: String = form.comment.trim().chars().take(COMMENT_MAX).collect();
            (
                GiftRequest::Cancel {
                    at_period_end,
                    reason,
                    comment: (!comment.is_empty()).then_some(comment),
                },
                if at_period_end { "arret-fin" } else { "arret" },
            )
        }
        _ => return Err(AppError::NotFound),
    };
    if let Err(error) = subscriptions::request(&state.payments, &subscription, &request).await {
        tracing::error!(%error, gift_id, action = %action, "recurring gift change refused");
        return Err(AppError::Unavailable(
            "Votre demande n’a pas pu être transmise à notre prestataire de paiement. Rien n’a changé : réessayez dans quelques minutes."
                .to_owned(),
        ));
    }
    tracing::info!(gift_id, action = %action, "recurring gift change requested");
    let location = format!("/mon-espace/dons-reguliers/{gift_id}?fait={done}");
    first.done(&location).await;
    Ok(Redirect::to(&location).into_response())
}

/// When the next instalment is due, as Stripe last said.
fn next_instalment(gift: &GiftLine) -> Result<i64> {
    gift.current_period_end.ok_or_else(|| {
        AppError::BadRequest(
            "La date du prochain prélèvement n’est pas encore connue : réessayez dans quelques minutes."
                .to_owned(),
        )
    })
}

/// `GET /mon-espace/dons-reguliers/{id}/arret`: the one confirmation step.
pub async fn confirm_cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppPath(gift_id): AppPath<i64>,
) -> Result<Response> {
    let gift = own_gift(&state, supporter_id, gift_id).await?;
    cancel_page(&state, &headers, gift, None, StatusCode::OK)
}

fn cancel_page(
    state: &AppState,
    headers: &HeaderMap,
    gift: GiftLine,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let html = CancelTemplate {
        layout: Layout::new(state, "Arrêter mon don régulier"),
        csrf_token,
        amount: format!(
            "{} {}",
            format_money(gift.amount_cents, gift.currency),
            gift.frequency.per()
        ),
        period_end: gift.current_period_end.map(french_date),
        reasons: CancelReason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        gift,
        error,
    }
    .render()?;
    Ok(personal(status, html, Some(cookie)))
}

/// `POST /mon-espace/dons-reguliers/{id}/recommencer`: a cancelled gift taken up again, at
/// the same amount and frequency, as a new subscription (a new Checkout, since the card or
/// mandate may be gone) whose gift names this one.
pub async fn restart(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    visitor: Visitor,
    AppPath(gift_id): AppPath<i64>,
    OnceForm(form, post): OnceForm<ChangeForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let gift = own_gift(&state, supporter_id, gift_id).await?;
    if gift.status != RecurringGiftStatus::Canceled {
        return Err(AppError::Gone(
            "Ce don régulier n’est pas arrêté : il n’y a rien à reprendre.".to_owned(),
        ));
    }
    let pool = state.db.pool();
    let campaign = campaigns::find_public_by_id(pool, gift.campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = still_open(&campaign)?;
    let profile = supporters::profile(pool, supporter_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(checkout_session) => {
            return checkout_again(&state, &visitor, campaign, None, &checkout_session).await;
        }
    };
    if let Err(wait) = state.checkout_limiter.check(peer.ip(), &headers) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Trop de tentatives de paiement depuis votre connexion en peu de temps : réessayez dans {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        );
        let amount_input = format_input(gift.amount_cents);
        return page(
            &state,
            &headers,
            gift,
            None,
            Some(message),
            amount_input,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let again = Gift {
        frequency: gift.frequency,
        amount_cents: gift.amount_cents,
        donor: DonorIdentity {
            email: profile.email.clone(),
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            address_line1: profile.address_line1.clone(),
            address_line2: profile.address_line2.clone(),
            postal_code: profile.postal_code.clone(),
            city: profile.city.clone(),
            country: profile.country.clone(),
        },
        dedication: None,
        show_publicly: false,
        news_consent: false,
        attribution: Attribution {
            source: Some("mon-espace".to_owned()),
            ..Attribution::default()
        },
    };
    let back = format!("{}/mon-espace/dons-reguliers/{gift_id}", state.base_url);
    let Some(created) =
        start_checkout(&state, &visitor, campaign, &again, Some(gift_id), back).await?
    else {
        return Err(AppError::Unavailable(
            "Le service de paiement ne répond pas pour le moment. Rien n’a été prélevé : réessayez dans quelques instants."
                .to_owned(),
        ));
    };
    first.done(&created.session_id).await;
    tracing::info!(
        gift_id,
        "cancelled recurring gift restarted: checkout opened"
    );
    Ok(Redirect::to(&created.url).into_response())
}
