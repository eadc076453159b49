//! Giving: the donation form, the redirect to Stripe Checkout, and the thank-you page.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::AppState;
use super::extract::{AppPath, AppQuery};
use super::layout::Layout;
use super::session::Visitor;
use super::views::CampaignView;
use crate::domain::amount::AmountLimits;
use crate::domain::dates;
use crate::domain::frequency::Frequency;
use crate::domain::gift::{COUNTRIES, GiftForm};
use crate::domain::money::{euros_as_typed, format_money};
use crate::domain::progress::TimeLeft;
use crate::domain::slug::Slug;
use crate::domain::tax::TaxReduction;
use crate::error::{AppError, Result};
use crate::payments::checkout::{self, CheckoutRequest};
use crate::store::campaigns::{self, Campaign};
use crate::store::{donations, pledges};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campagnes/{slug}/don", get(form_page).post(submit))
        .route("/merci", get(thanks))
}

/// One suggested amount as a radio button.
pub struct AmountChoice {
    pub value: String,
    pub amount: String,
    pub label: Option<String>,
    pub cost_after_tax: String,
    pub checked: bool,
    /// The one the script ticks when the donor has not chosen yet.
    pub default: bool,
}

/// The form's fields in page order: (error key, the element to jump to, its label).
const FIELDS: [(&str, &str, &str); 12] = [
    ("frequency", "frequency", "Fréquence"),
    ("amount", "other_amount", "Montant"),
    ("first_name", "first_name", "Prénom"),
    ("last_name", "last_name", "Nom"),
    ("email", "email", "Adresse e-mail"),
    ("address_line1", "address_line1", "Adresse"),
    ("address_line2", "address_line2", "Complément d’adresse"),
    ("postal_code", "postal_code", "Code postal"),
    ("city", "city", "Ville"),
    ("country", "country", "Pays"),
    ("dedication_kind", "dedication_kind", "Dédicace"),
    ("dedication_name", "dedication_name", "Nom de la personne"),
];

/// One line of the error summary at the top of the form: a link to the field, its label
/// (some messages do not name it) and the message.
pub struct SummaryLine {
    pub anchor: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// The errors in the order of the page, as the summary lists them.
fn error_summary(errors: &BTreeMap<&'static str, String>) -> Vec<SummaryLine> {
    FIELDS
        .iter()
        .filter_map(|(key, anchor, label)| {
            errors.get(key).map(|message| SummaryLine {
                anchor,
                label,
                message: message.clone(),
            })
        })
        .collect()
}

/// The suggestions of one frequency; the page shows the group of the frequency ticked.
pub struct AmountGroup {
    pub frequency: Frequency,
    /// The frequency ticked when the page was made.
    pub current: bool,
    pub amounts: Vec<AmountChoice>,
    pub other_checked: bool,
    /// What is ticked: a suggestion's cents, `other`, or an amount no suggestion has.
    chosen: String,
}

#[derive(Template)]
#[template(path = "donate.html")]
struct DonateTemplate {
    layout: Layout,
    campaign: CampaignView,
    frequency: Frequency,
    groups: Vec<AmountGroup>,
    form: FormValues,
    summary: Vec<SummaryLine>,
    errors: BTreeMap<&'static str, String>,
    general_error: Option<String>,
    csrf_token: String,
    donate_js: String,
    countries: Vec<(&'static str, &'static str, bool)>,
    tax: TaxReduction,
    cost_preview: Option<String>,
    limits: AmountLimits,
    min_amount: String,
    max_amount: String,
}

/// The form's text fields as the template shows them (never `None`).
pub struct FormValues {
    pub other_amount: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub dedication_kind: String,
    pub dedication_name: String,
    pub show_publicly: bool,
    pub news_consent: bool,
}

impl From<&GiftForm> for FormValues {
    fn from(f: &GiftForm) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        FormValues {
            other_amount: text(&f.other_amount),
            first_name: text(&f.first_name),
            last_name: text(&f.last_name),
            email: text(&f.email),
            address_line1: text(&f.address_line1),
            address_line2: text(&f.address_line2),
            postal_code: text(&f.postal_code),
            city: text(&f.city),
            dedication_kind: text(&f.dedication_kind),
            dedication_name: text(&f.dedication_name),
            show_publicly: f.show_publicly.is_some(),
            news_consent: f.news_consent.is_some(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct FormQuery {
    frequence: Option<Frequency>,
    montant: Option<i64>,
    /// Back to the form: `1` from a cancelled checkout (the draft this browser saved), or a
    /// Checkout Session id from the thank-you page (that gift's draft, else its amount).
    reprendre: Option<String>,
}

/// The campaign, if it still takes gifts.
async fn open_campaign(state: &AppState, slug: &str) -> Result<Campaign> {
    let slug = Slug::parse(slug).ok_or(AppError::NotFound)?;
    let campaign = campaigns::find_public(state.db.pool(), slug.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let ended = TimeLeft::at(dates::now(), campaign.ends_at) == TimeLeft::Ended;
    if campaign.status == "closed" || ended {
        return Err(AppError::Gone(format!(
            "La campagne « {} » est terminée et ne reçoit plus de dons. Merci à toutes celles et ceux qui l'ont soutenue !",
            campaign.title
        )));
    }
    Ok(campaign)
}

async fn form_page(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    AppQuery(query): AppQuery<FormQuery>,
    visitor: Visitor,
) -> Result<Response> {
    let campaign = open_campaign(&state, &slug).await?;
    let form = match query.reprendre.as_deref() {
        None => None,
        Some("1") => visitor.draft(&campaign.slug, None).await?,
        Some(session_id) => resumed_gift(&state, &visitor, &campaign, session_id).await?,
    };
    let form = form.unwrap_or_else(|| {
        GiftForm::initial(query.frequence.unwrap_or(Frequency::Once), query.montant)
    });
    render_form(
        &state,
        &visitor,
        &campaign,
        &form,
        BTreeMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The gift of a Checkout Session to try again: the form as this browser sent it, or, from
/// another browser or after the session expired, its frequency and amount only (the donor's
/// identity is not put in a page anyone with the link could open).
async fn resumed_gift(
    state: &AppState,
    visitor: &Visitor,
    campaign: &Campaign,
    session_id: &str,
) -> Result<Option<GiftForm>> {
    if let Some(form) = visitor.draft(&campaign.slug, Some(session_id)).await? {
        return Ok(Some(form));
    }
    let Some(pledge) = pledges::find_by_session(state.db.pool(), session_id).await? else {
        return Ok(None);
    };
    if pledge.campaign_id != campaign.id {
        return Ok(None);
    }
    let frequency = Frequency::parse(&pledge.frequency).unwrap_or(Frequency::Once);
    Ok(Some(GiftForm::initial(
        frequency,
        Some(pledge.amount_cents),
    )))
}

/// The posted form: the gift's fields plus the CSRF token.
#[derive(Debug, Deserialize)]
struct Submission {
    csrf_token: Option<String>,
    #[serde(flatten)]
    form: GiftForm,
}

async fn submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    visitor: Visitor,
    form: std::result::Result<Form<Submission>, axum::extract::rejection::FormRejection>,
) -> Result<Response> {
    let unreadable = || AppError::BadRequest("Le formulaire envoyé n'est pas lisible.".to_owned());
    let Form(submission) = match form {
        Ok(form) => form,
        // Axum's 413, which the error layer renders as our "Envoi trop volumineux" page.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(rejection.into_response());
        }
        Err(_) => return Err(unreadable()),
    };
    // The decoder replaces what is not UTF-8 instead of failing: refuse, rather than keep a
    // mangled name or address for the tax receipt.
    if submission.form.is_garbled() {
        return Err(unreadable());
    }
    let campaign = open_campaign(&state, &slug).await?;
    visitor.check_csrf(submission.csrf_token.as_deref()).await?;
    let form = submission.form;
    let gift = match form.validate(state.config.amount_limits) {
        Ok(gift) => gift,
        Err(errors) => {
            return render_form(
                &state,
                &visitor,
                &campaign,
                &form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // Counted once the gift is valid: card testers start checkouts, donors fix typos.
    if let Err(wait) = state.checkout_limiter.check(peer.ip(), &headers) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Trop de tentatives de paiement depuis votre connexion en peu de temps. Vos \
             informations sont conservées : merci de réessayer dans {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        );
        let mut page = render_form(
            &state,
            &visitor,
            &campaign,
            &form,
            BTreeMap::new(),
            Some(message),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await?;
        page.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(page);
    }
    let now = dates::now();
    let pledge_id =
        pledges::insert(state.db.pool(), campaign.id, &campaign.currency, &gift, now).await?;
    let request = CheckoutRequest {
        pledge_id,
        pledge_created_at: now,
        campaign_id: campaign.id,
        campaign_title: &campaign.title,
        amount_cents: gift.amount_cents,
        currency: &campaign.currency,
        frequency: gift.frequency,
        email: gift.donor.email.as_str(),
        success_url: format!(
            "{}/merci?session_id={{CHECKOUT_SESSION_ID}}",
            state.base_url
        ),
        cancel_url: format!(
            "{}/campagnes/{}/don?frequence={}&reprendre=1",
            state.base_url,
            campaign.slug,
            gift.frequency.as_str()
        ),
    };
    let created = match checkout::create_session(&state.payments, &request).await {
        Ok(created) => created,
        Err(error) => {
            tracing::error!(%error, pledge_id, "checkout session could not be created");
            let message = "Le service de paiement ne répond pas pour le moment. Aucun montant n’a été prélevé : merci de réessayer dans quelques instants.";
            return render_form(
                &state,
                &visitor,
                &campaign,
                &form,
                BTreeMap::new(),
                Some(message.to_owned()),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await;
        }
    };
    pledges::set_checkout(
        state.db.pool(),
        pledge_id,
        &created.session_id,
        &created.url,
        now,
    )
    .await?;
    visitor
        .save_draft(&campaign.slug, &form, &created.session_id)
        .await?;
    Ok(Redirect::to(&created.url).into_response())
}

async fn render_form(
    state: &AppState,
    visitor: &Visitor,
    campaign: &Campaign,
    form: &GiftForm,
    errors: BTreeMap<&'static str, String>,
    general_error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let limits = state.config.amount_limits;
    let tax = state.config.tax_reduction;
    let frequency = form.frequency();
    let suggested = campaigns::suggested_amounts(state.db.pool(), campaign.id).await?;
    let free_typed = form
        .other_amount
        .as_deref()
        .is_some_and(|a| !a.trim().is_empty());
    let groups: Vec<AmountGroup> = Frequency::ALL
        .iter()
        .map(|&f| {
            let offered: Vec<_> = suggested
                .iter()
                .filter(|a| a.frequency == f.as_str())
                .collect();
            // What was sent (or linked to) is ticked; nothing else. The script ticks the
            // suggestion marked as the default, the middle one of three or more that donors
            // most often choose: without it nothing is ticked, so a free amount typed counts
            // without a second step.
            let chosen = match form.ticked_for(f) {
                Some(ticked) => ticked,
                // A free amount typed with nothing ticked is what counted.
                None if f == frequency && free_typed => "other".to_owned(),
                None => String::new(),
            };
            let default = offered.get(if offered.len() >= 3 { 1 } else { 0 });
            let amounts: Vec<AmountChoice> = offered
                .iter()
                .map(|a| AmountChoice {
                    value: a.amount_cents.to_string(),
                    amount: format_money(a.amount_cents, &campaign.currency),
                    label: a.label.clone(),
                    cost_after_tax: format_money(
                        tax.cost_after_reduction(a.amount_cents, f.instalments_per_year()),
                        &campaign.currency,
                    ),
                    checked: chosen == a.amount_cents.to_string(),
                    default: default.is_some_and(|d| d.amount_cents == a.amount_cents),
                })
                .collect();
            AmountGroup {
                frequency: f,
                current: f == frequency,
                other_checked: !chosen.is_empty() && !amounts.iter().any(|a| a.checked),
                amounts,
                chosen,
            }
        })
        .collect();
    // The form as the page shows it: with the defaults ticked above, and an amount that is
    // no suggestion (a link's `montant`) in the free amount field, « Autre montant » ticked.
    let mut shown = form.clone();
    if let Some(current) = groups.iter().find(|g| g.current) {
        match current.chosen.parse::<i64>() {
            Ok(cents) if current.other_checked && !free_typed && cents > 0 => {
                shown.other_amount = Some(euros_as_typed(cents));
                shown.set_ticked(frequency, "other");
            }
            _ => shown.set_ticked(frequency, &current.chosen),
        }
    }
    let form = &shown;
    // Without the script, the cost of a free amount sent back; each suggestion shows its own,
    // and a sentence under them would go stale when another is ticked.
    let free_amount_chosen = groups.iter().any(|g| g.current && g.other_checked);
    let cost_preview = free_amount_chosen
        .then(|| form.chosen_amount(limits))
        .flatten()
        .map(|cents| {
            format_money(
                tax.cost_after_reduction(cents, frequency.instalments_per_year()),
                &campaign.currency,
            )
        });
    let country = form.country.clone().unwrap_or_else(|| "FR".to_owned());
    let template = DonateTemplate {
        layout: Layout::new(state, format!("Je donne — {}", campaign.title)),
        campaign: CampaignView::new(campaign, dates::now()),
        frequency,
        groups,
        form: FormValues::from(form),
        summary: error_summary(&errors),
        errors,
        general_error,
        csrf_token: visitor.csrf_token().await?,
        donate_js: super::assets::versioned_url("donate.js"),
        countries: COUNTRIES
            .iter()
            .map(|(code, name)| (*code, *name, *code == country))
            .collect(),
        tax,
        cost_preview,
        limits,
        min_amount: format_money(limits.min_cents, "EUR"),
        max_amount: format_money(limits.max_cents, "EUR"),
    };
    // The form holds a CSRF token and personal data: never cache it.
    Ok((
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(template.render()?),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ThanksQuery {
    session_id: Option<String>,
    /// How many times the page has refreshed itself while waiting for the confirmation.
    essai: Option<u32>,
}

/// The "confirming" page refreshes itself every 4 s for about a minute, then stops (a screen
/// reader starts the page again at each refresh) and offers a link to look again later.
const MAX_REFRESHES: u32 = 15;

/// Where the gift stands, as the thank-you page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiftState {
    Confirmed,
    /// Stripe took the payment; its webhook has not reached us yet.
    Confirming,
    /// A SEPA debit, settled in a few days.
    SepaPending,
    Failed,
    /// Paid, then given back in full.
    Refunded,
    /// The donor came back without paying.
    NotPaid,
}

#[derive(Template)]
#[template(path = "thanks.html")]
struct ThanksTemplate {
    layout: Layout,
    state: GiftState,
    first_name: String,
    amount: String,
    per: String,
    cost_after_tax: String,
    /// What was given back of a one-off gift, when part of it was.
    refunded: Option<String>,
    impact: Option<String>,
    campaign_title: String,
    campaign_slug: String,
    session_id: String,
    /// The checkout to go back to, while it is still open.
    checkout_url: Option<String>,
    /// The form again, with the entries kept.
    retry_url: String,
    refresh_url: Option<String>,
    cost_intro: String,
}

async fn thanks(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ThanksQuery>,
) -> Result<Response> {
    // Stripe's ids are `cs_…` in letters, digits and `_`; anything else (a NUL would make
    // PostgreSQL fail the query) cannot be one of ours.
    let session_id = query
        .session_id
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 255
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .ok_or(AppError::NotFound)?;
    let pool = state.db.pool();
    let pledge = pledges::find_by_session(pool, &session_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = campaigns::find_public_by_id(pool, pledge.campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let frequency = Frequency::parse(&pledge.frequency).unwrap_or(Frequency::Once);
    let Standing {
        state: gift_state,
        checkout_open,
        refunded_cents,
    } = standing(&state, &pledge, &session_id).await?;
    let refreshes = query.essai.unwrap_or(0);
    let refresh_url = (gift_state == GiftState::Confirming && refreshes < MAX_REFRESHES)
        .then(|| format!("/merci?session_id={session_id}&essai={}", refreshes + 1));
    let tiers = campaigns::impact_tiers(pool, campaign.id, campaign.project_id).await?;
    let impact = tiers
        .iter()
        .rev()
        .find(|t| t.amount_cents <= pledge.amount_cents)
        .map(|t| t.label.clone());
    let tax = state.config.tax_reduction;
    let template = ThanksTemplate {
        layout: Layout::new(&state, "Merci pour votre don"),
        state: gift_state,
        first_name: pledge.donor.first_name.clone(),
        amount: format_money(pledge.amount_cents, &pledge.currency),
        // With its leading space, so that a one-off gift reads "17 €." and not "17 € .".
        per: match frequency.per() {
            "" => String::new(),
            per => format!(" {per}"),
        },
        // What was given back does not count for the tax reduction.
        cost_after_tax: format_money(
            tax.cost_after_reduction(
                pledge.amount_cents - refunded_cents,
                frequency.instalments_per_year(),
            ),
            &pledge.currency,
        ),
        refunded: (refunded_cents > 0).then(|| format_money(refunded_cents, &pledge.currency)),
        impact,
        campaign_title: campaign.title.clone(),
        campaign_slug: campaign.slug.clone(),
        checkout_url: pledge.checkout_url.clone().filter(|_| checkout_open),
        retry_url: format!(
            "/campagnes/{}/don?frequence={}&reprendre={session_id}",
            campaign.slug,
            frequency.as_str()
        ),
        refresh_url,
        cost_intro: tax.cost_intro(),
        session_id,
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Html(template.render()?),
    )
        .into_response())
}

/// Where a gift stands, as the thank-you page needs it.
struct Standing {
    state: GiftState,
    /// Whether its checkout can still be resumed.
    checkout_open: bool,
    /// Given back so far (a one-off gift refunded in part).
    refunded_cents: i64,
}

impl From<GiftState> for Standing {
    fn from(state: GiftState) -> Standing {
        Standing {
            state,
            checkout_open: false,
            refunded_cents: 0,
        }
    }
}

/// The ledger first (the webhook's word), then Stripe's view of the session while the
/// webhook is on its way.
async fn standing(
    state: &AppState,
    pledge: &pledges::Pledge,
    session_id: &str,
) -> Result<Standing> {
    let mut conn = state.db.pool().acquire().await?;
    if pledge.frequency == "once" {
        let by = donations::StripeRef::CheckoutSession(session_id);
        if let Some(donation) = donations::find(&mut conn, by).await? {
            let gift_state = match donation.status.as_str() {
                "pending" => GiftState::SepaPending,
                "failed" => GiftState::Failed,
                "refunded" => GiftState::Refunded,
                _ => GiftState::Confirmed,
            };
            return Ok(Standing {
                refunded_cents: if gift_state == GiftState::Confirmed {
                    donation.refunded_cents
                } else {
                    0
                },
                ..gift_state.into()
            });
        }
    } else {
        let (paid, refunded) = donations::instalments_of_pledge(&mut conn, pledge.id).await?;
        if paid > 0 {
            return Ok(GiftState::Confirmed.into());
        }
        if refunded > 0 {
            return Ok(GiftState::Refunded.into());
        }
    }
    if pledge.status == "failed" {
        return Ok(GiftState::Failed.into());
    }
    drop(conn);
    Ok(
        match checkout::session_status(&state.payments, session_id).await {
            Ok(s) if s.status == "complete" && s.payment_status == "unpaid" => {
                GiftState::SepaPending.into()
            }
            Ok(s) if s.status == "complete" => GiftState::Confirming.into(),
            Ok(s) => Standing {
                checkout_open: s.status == "open",
                ..GiftState::NotPaid.into()
            },
            Err(error) => {
                tracing::warn!(%error, "checkout session status unavailable");
                GiftState::Confirming.into()
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_summary_follows_the_page_and_misses_no_field() {
        let everything_wrong = GiftForm {
            frequency: Some("weekly".into()),
            amount: Some("other".into()),
            other_amount: Some("abc".into()),
            first_name: Some(" ".into()),
            last_name: Some("x".repeat(101)),
            email: Some("pas-un-email".into()),
            address_line1: Some(String::new()),
            address_line2: Some("Bât.\u{0}B".into()),
            postal_code: Some("6900".into()),
            city: Some(String::new()),
            country: Some("XX".into()),
            dedication_kind: Some("cousin".into()),
            ..GiftForm::default()
        };
        let errors = everything_wrong
            .validate(AmountLimits::default())
            .unwrap_err();
        let summary = error_summary(&errors);
        assert_eq!(summary.len(), errors.len(), "every error is listed");
        let labels: Vec<_> = summary.iter().map(|line| line.label).collect();
        assert_eq!(&labels[..4], ["Fréquence", "Montant", "Prénom", "Nom"]);
        let anchors: Vec<_> = summary.iter().map(|line| line.anchor).collect();
        assert!(anchors.contains(&"other_amount"), "the amount's field");
    }
}
