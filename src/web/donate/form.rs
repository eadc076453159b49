//! The donation form: shown (first visit, or back from a checkout) and sent (checked, rate
//! limited, then on to Stripe Checkout).

use std::net::SocketAddr;
use std::time::Duration;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::no_store;
use super::readings::CampaignReadings;
use super::views::{DonateTemplate, Feedback};
use crate::domain::attribution;
use crate::domain::campaign::CampaignStatus;
use crate::domain::dates;
use crate::domain::frequency::Frequency;
use crate::domain::gift::{Gift, GiftForm};
use crate::domain::money::Money;
use crate::domain::pledge::PledgeStatus;
use crate::domain::progress::TimeLeft;
use crate::domain::slug::Slug;
use crate::error::{AppError, Result};
use crate::payments::checkout::{self, CheckoutRequest, CreatedCheckout};
use crate::store::campaigns::{Campaign, SuggestedAmount};
use crate::store::pledges;
use crate::web::extract::{AppPath, AppQuery, UNREADABLE_FORM};
use crate::web::funnel::Step;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::session::Visitor;
use crate::web::{AppState, csrf};

#[derive(Debug, Deserialize)]
pub struct FormQuery {
    frequence: Option<Frequency>,
    montant: Option<i64>,
    /// Back to the form: `1` from a cancelled checkout (the draft this browser saved), or a
    /// Checkout Session id from the thank-you page (that gift's draft, else its amount).
    reprendre: Option<String>,
    /// Where the donor comes from: carried into the form, and from it to the pledge.
    utm_source: Option<String>,
    utm_campaign: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    AppPath(slug): AppPath<Slug>,
    AppQuery(query): AppQuery<FormQuery>,
    headers: HeaderMap,
    visitor: Visitor,
) -> Result<Response> {
    // From memory while current: a view of the form reads nothing (see `readings`).
    let readings = state
        .form_readings
        .get(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = still_open(&readings.campaign)?;
    let form = match query.reprendre.as_deref() {
        None => None,
        Some("1") => visitor.draft(&campaign.slug, None).await?,
        Some(session_id) => resumed_gift(&state, &visitor, campaign, session_id).await?,
    };
    let form = form.unwrap_or_else(|| {
        let referer = headers
            .get(header::REFERER)
            .and_then(|value| value.to_str().ok());
        GiftForm {
            utm_source: attribution::tag(query.utm_source.as_deref()),
            utm_campaign: attribution::tag(query.utm_campaign.as_deref()),
            referrer: attribution::referrer_host(referer, &state.base_url),
            ..GiftForm::initial(query.frequence.unwrap_or(Frequency::Once), query.montant)
        }
    });
    let page = FormPage::new(&state, &headers, campaign, &readings.suggested);
    state.funnel.count(&campaign.slug, Step::FormView);
    page.render(&form, Feedback::default(), StatusCode::OK)
}

/// The posted form: the gift's fields plus the CSRF token.
#[derive(Debug, Deserialize)]
pub struct Submission {
    csrf_token: Option<String>,
    #[serde(flatten)]
    form: GiftForm,
}

pub async fn submit(
    State(state): State<AppState>,
    AppPath(slug): AppPath<Slug>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    visitor: Visitor,
    OnceForm(submission, post): OnceForm<Submission>,
) -> Result<Response> {
    // The decoder replaces what is not UTF-8 instead of failing: refuse, rather than keep a
    // mangled name or address for the tax receipt.
    if submission.form.is_garbled() {
        return Err(AppError::BadRequest(UNREADABLE_FORM.to_owned()));
    }
    // Read afresh: the gift is checked against the campaign as it is now.
    let readings = CampaignReadings::read(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = still_open(&readings.campaign)?;
    state
        .form_key
        .check(&headers, submission.csrf_token.as_deref(), dates::now())?;
    let form = submission.form;
    let page = FormPage::new(&state, &headers, campaign, &readings.suggested);
    let gift = match form.validate(state.config.amount_limits) {
        Ok(gift) => gift,
        Err(errors) => {
            return page.render(
                &form,
                Feedback::fields(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    // The same entries sent twice with one token (a double click, the back button): the
    // first one's checkout. Other entries (the amount changed after going back): another.
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(checkout_session) => {
            return checkout_again(&state, &visitor, campaign, Some(&form), &checkout_session)
                .await;
        }
    };
    // Counted once the gift is valid: card testers start checkouts, donors fix typos.
    if let Err(wait) = state.checkout_limiter.check(peer.ip(), &headers) {
        return page.too_many_attempts(&form, wait);
    }
    let back = format!(
        "{}/campagnes/{}/don?frequence={}&reprendre=1",
        state.base_url,
        campaign.slug,
        gift.frequency.as_str()
    );
    let Some(created) = start_checkout(&state, &visitor, campaign, &gift, None, back).await? else {
        let feedback = Feedback::general(PAYMENTS_UNAVAILABLE);
        return page.render(&form, feedback, StatusCode::SERVICE_UNAVAILABLE);
    };
    first.done(&created.session_id).await;
    visitor
        .save_draft(&campaign.slug, &form, &created.session_id)
        .await?;
    Ok(Redirect::to(&created.url).into_response())
}

/// A form that opens a checkout, sent again with the same token: the checkout its first
/// sending opened (or, once paid or closed, its thank-you page), remembered in this browser's
/// session too, which after a double click may be the second answer's alone.
pub(crate) async fn checkout_again(
    state: &AppState,
    visitor: &Visitor,
    campaign: &Campaign,
    form: Option<&GiftForm>,
    checkout_session: &str,
) -> Result<Response> {
    let pledge = pledges::find_by_session(state.db.pool(), checkout_session)
        .await?
        .ok_or(AppError::NotFound)?;
    visitor.remember_checkout(checkout_session).await?;
    if let Some(form) = form {
        visitor
            .save_draft(&campaign.slug, form, checkout_session)
            .await?;
    }
    let location = match (&pledge.checkout_url, pledge.status) {
        (Some(url), PledgeStatus::Open) => url.clone(),
        _ => format!("/merci?session_id={checkout_session}"),
    };
    Ok(Redirect::to(&location).into_response())
}

/// The campaign, if it still takes gifts.
pub(crate) fn still_open(campaign: &Campaign) -> Result<&Campaign> {
    let ended = TimeLeft::at(dates::now(), campaign.ends_at) == TimeLeft::Ended;
    if campaign.status == CampaignStatus::Closed || ended {
        return Err(AppError::Gone(format!(
            "La campagne « {} » est terminée et ne reçoit plus de dons. Merci à toutes celles et ceux qui l'ont soutenue !",
            campaign.title
        )));
    }
    Ok(campaign)
}

/// The gift of a Checkout Session to try again, if this browser started it: the form as it
/// sent it, or (a monthly gift offered on the thank-you page, a gift taken up again from
/// « Mon espace ») its frequency and amount. Any other browser gets a new form: the id is
/// not a key to someone else's gift.
async fn resumed_gift(
    state: &AppState,
    visitor: &Visitor,
    campaign: &Campaign,
    session_id: &str,
) -> Result<Option<GiftForm>> {
    if let Some(form) = visitor.draft(&campaign.slug, Some(session_id)).await? {
        return Ok(Some(form));
    }
    if !visitor.started_checkout(session_id).await? {
        return Ok(None);
    }
    let Some(pledge) = pledges::find_by_session(state.db.pool(), session_id).await? else {
        return Ok(None);
    };
    if pledge.campaign_id != campaign.id {
        return Ok(None);
    }
    Ok(Some(GiftForm::initial(
        pledge.frequency,
        Some(pledge.amount_cents),
    )))
}

/// What the form says when Stripe cannot be reached.
pub(crate) const PAYMENTS_UNAVAILABLE: &str = "Le service de paiement ne répond pas pour le moment. Aucun montant n’a été prélevé : merci de réessayer dans quelques instants.";

/// Records the pledge and opens its Checkout Session, which this browser alone may then
/// come back to (see [`Visitor::remember_checkout`]); `None` when Stripe cannot be reached.
/// A donor who leaves the checkout comes back to `cancel_url`.
pub(crate) async fn start_checkout(
    state: &AppState,
    visitor: &Visitor,
    campaign: &Campaign,
    gift: &Gift,
    restarts_gift_id: Option<i64>,
    cancel_url: String,
) -> Result<Option<CreatedCheckout>> {
    let now = dates::now();
    let pledge_id = pledges::insert(
        state.db.pool(),
        campaign.id,
        campaign.currency,
        gift,
        restarts_gift_id,
        now,
    )
    .await?;
    let request = CheckoutRequest {
        pledge_id,
        pledge_created_at: now,
        campaign_id: campaign.id,
        campaign_title: &campaign.title,
        amount: Money::new(gift.amount_cents, campaign.currency),
        frequency: gift.frequency,
        email: gift.donor.email.as_str(),
        success_url: format!(
            "{}/merci?session_id={{CHECKOUT_SESSION_ID}}",
            state.base_url
        ),
        cancel_url,
    };
    let created = match checkout::create_session(&state.payments, &request).await {
        Ok(created) => created,
        Err(error) => {
            tracing::error!(%error, pledge_id, "checkout session could not be created");
            pledges::fail_without_checkout(state.db.pool(), pledge_id, now).await?;
            return Ok(None);
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
    visitor.remember_checkout(&created.session_id).await?;
    Ok(Some(created))
}

/// The form page of one campaign, for one request: what every rendering of it needs.
struct FormPage<'a> {
    state: &'a AppState,
    /// The request's, for the browser's form cookie.
    headers: &'a HeaderMap,
    campaign: &'a Campaign,
    suggested: &'a [SuggestedAmount],
}

impl<'a> FormPage<'a> {
    fn new(
        state: &'a AppState,
        headers: &'a HeaderMap,
        campaign: &'a Campaign,
        suggested: &'a [SuggestedAmount],
    ) -> FormPage<'a> {
        FormPage {
            state,
            headers,
            campaign,
            suggested,
        }
    }

    fn render(&self, form: &GiftForm, feedback: Feedback, status: StatusCode) -> Result<Response> {
        // A token that needs no session: showing the form writes nothing to the database.
        let secure = self.state.base_url.starts_with("https://");
        let (csrf_token, cookie) =
            csrf::for_form(&self.state.form_key, self.headers, secure, dates::now());
        let template = DonateTemplate::new(
            self.state,
            self.campaign,
            self.suggested,
            form,
            feedback,
            csrf_token,
        );
        let mut page = no_store(status, template.render()?);
        page.headers_mut().append(header::SET_COOKIE, cookie);
        Ok(page)
    }

    /// The form again, with its entries, a 429 and when to try again.
    fn too_many_attempts(&self, form: &GiftForm, wait: Duration) -> Result<Response> {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Trop de tentatives de paiement depuis votre connexion en peu de temps. Vos \
             informations sont conservées : merci de réessayer dans {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        );
        let mut page = self.render(
            form,
            Feedback::general(message),
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        page.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        Ok(page)
    }
}

/// The donation form's body as the handler receives it: whatever is sent, the form reads back
/// exactly what was sent, or the request is refused with the French message.
#[cfg(test)]
mod properties {
    use super::Submission;
    use crate::web::extract::testing::form_decoding_properties;

    const KEYS: &[&str] = &[
        "csrf_token",
        "frequency",
        "amount",
        "amount_once",
        "amount_monthly",
        "amount_yearly",
        "other_amount",
        "first_name",
        "last_name",
        "email",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "dedication_kind",
        "dedication_name",
        "show_publicly",
        "news_consent",
        "utm_source",
        "utm_campaign",
        "referrer",
    ];

    /// Every field of the decoded form by name (`None`: absent).
    fn read_back(submission: &Submission, key: &str) -> Option<String> {
        if key == "csrf_token" {
            return submission.csrf_token.clone();
        }
        let form = serde_json::to_value(&submission.form).expect("a form serializes");
        form[key].as_str().map(str::to_owned)
    }

    form_decoding_properties!(Submission, KEYS, read_back);
}
