//! The thank-you page Stripe Checkout sends the donor back to: where the gift stands.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::no_store;
use stripe_checkout::{
    CheckoutSessionPaymentStatus as PaymentState, CheckoutSessionStatus as SessionState,
};

use super::views::{PaymentProgress, Standing, ThanksTemplate, Visit};
use crate::domain::dates;
use crate::domain::donation::DonationStatus;
use crate::domain::frequency::Frequency;
use crate::domain::pledge::PledgeStatus;
use crate::error::{AppError, Result};
use crate::payments::checkout;
use crate::store::{campaigns, donations, pledges};
use crate::web::extract::AppQuery;
use crate::web::layout::Layout;
use crate::web::session::Visitor;
use crate::web::{AppState, csrf};

#[derive(Debug, Deserialize)]
pub struct ThanksQuery {
    session_id: Option<String>,
    /// How many times the page has refreshed itself while waiting for the confirmation.
    essai: Option<u32>,
}

/// A Checkout Session's id as Stripe makes them (`cs_…`: letters, digits and `_`); anything
/// else (a NUL would make PostgreSQL fail the query) cannot be one of ours.
pub(crate) fn plausible_session_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What a form on the thank-you page posts: its token and the gift's Checkout Session,
/// which only the browser that started the checkout may present.
#[derive(Debug, Deserialize)]
pub struct ThanksForm {
    pub csrf_token: Option<String>,
    #[serde(default)]
    pub session_id: String,
}

/// What a form of the thank-you page sent from another browser is told: the same whether
/// the gift exists or not.
const NOT_THIS_BROWSER: &str = "Nous ne retrouvons pas ce don dans ce navigateur : seul celui avec lequel il a été fait peut y donner suite. Vous retrouverez tous vos dons dans « Mon espace ».";

impl ThanksForm {
    /// The gift's pledge, once the token is checked and if this browser started its
    /// checkout (refused alike otherwise, whether it exists or not); a malformed id is a 404.
    pub async fn pledge(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        visitor: &Visitor,
    ) -> Result<pledges::Pledge> {
        state
            .form_key
            .check(headers, self.csrf_token.as_deref(), dates::now())?;
        if !plausible_session_id(&self.session_id) {
            return Err(AppError::NotFound);
        }
        if !visitor.started_checkout(&self.session_id).await? {
            return Err(AppError::Forbidden(NOT_THIS_BROWSER.to_owned()));
        }
        pledges::find_by_session(state.db.pool(), &self.session_id)
            .await?
            .ok_or(AppError::NotFound)
    }
}

impl ThanksQuery {
    /// Stripe's ids are `cs_…` in letters, digits and `_`; anything else (a NUL would make
    /// PostgreSQL fail the query) cannot be one of ours.
    fn visit(self) -> Option<Visit> {
        let session_id = self.session_id.filter(|s| plausible_session_id(s))?;
        Some(Visit {
            session_id,
            refreshes: self.essai.unwrap_or(0),
        })
    }
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    AppQuery(query): AppQuery<ThanksQuery>,
) -> Result<Response> {
    let visit = query.visit().ok_or(AppError::NotFound)?;
    // Before any lookup: another browser learns nothing, not even whether the id is ours.
    if !visitor.started_checkout(&visit.session_id).await? {
        let html = ElsewhereTemplate {
            layout: Layout::new(&state, "Merci"),
        }
        .render()?;
        return Ok(no_store(StatusCode::OK, html));
    }
    let pool = state.db.pool();
    let pledge = pledges::find_by_session(pool, &visit.session_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = campaigns::find_public_by_id(pool, pledge.campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let standing = standing(&state, &pledge, &visit.session_id).await?;
    let tiers = campaigns::impact_tiers(pool, campaign.id, campaign.project_id).await?;
    let secure = state.base_url.starts_with("https://");
    let (csrf_token, cookie) = csrf::for_form(&state.form_key, &headers, secure, dates::now());
    let template = ThanksTemplate::new(
        &state, &pledge, &campaign, &standing, &tiers, visit, csrf_token,
    );
    let mut page = no_store(StatusCode::OK, template.render()?);
    page.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(page)
}

/// The thank-you page as any browser but the donor's sees it: a thank-you, and where the
/// donor finds their gifts; nothing of the gift.
#[derive(Template)]
#[template(path = "thanks_elsewhere.html")]
struct ElsewhereTemplate {
    layout: Layout,
}

/// The ledger first (the webhook's word), then Stripe's view of the session while the
/// webhook is on its way.
async fn standing(
    state: &AppState,
    pledge: &pledges::Pledge,
    session_id: &str,
) -> Result<Standing> {
    let mut conn = state.db.pool().acquire().await?;
    if pledge.frequency == Frequency::Once {
        let by = donations::StripeRef::CheckoutSession(session_id);
        if let Some(donation) = donations::find(&mut conn, by).await? {
            let gift_state = match donation.status {
                DonationStatus::Pending => PaymentProgress::SepaPending,
                DonationStatus::Failed => PaymentProgress::Failed,
                DonationStatus::Refunded => PaymentProgress::Refunded,
                DonationStatus::Paid => PaymentProgress::Confirmed,
            };
            return Ok(Standing {
                refunded_cents: if gift_state == PaymentProgress::Confirmed {
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
            return Ok(PaymentProgress::Confirmed.into());
        }
        if refunded > 0 {
            return Ok(PaymentProgress::Refunded.into());
        }
    }
    if pledge.status == PledgeStatus::Failed {
        return Ok(PaymentProgress::Failed.into());
    }
    drop(conn);
    Ok(
        match checkout::session_status(&state.payments, session_id).await {
            Ok(s) if s.status == Some(SessionState::Complete) => {
                if s.payment_status == PaymentState::Unpaid {
                    PaymentProgress::SepaPending.into()
                } else {
                    PaymentProgress::Confirming.into()
                }
            }
            Ok(s) => Standing {
                checkout_open: s.status == Some(SessionState::Open),
                ..PaymentProgress::NotPaid.into()
            },
            Err(error) => {
                tracing::warn!(%error, "checkout session status unavailable");
                PaymentProgress::Confirming.into()
            }
        },
    )
}
