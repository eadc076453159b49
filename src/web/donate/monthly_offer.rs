//! After a one-off gift, the thank-you page offers to keep giving each month: a small
//! monthly gift drawn from the one just made, one click to a new checkout with the same
//! donor, campaign and choices (the donor only confirms their card on Stripe's page).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::{PAYMENTS_UNAVAILABLE, checkout_again, start_checkout, still_open};
use super::thanks::ThanksForm;
use crate::domain::amount::AmountLimits;
use crate::domain::attribution::Attribution;
use crate::domain::frequency::Frequency;
use crate::domain::gift::Gift;
use crate::domain::pledge::PledgeStatus;
use crate::error::{AppError, Result};
use crate::store::campaigns;
use crate::web::AppState;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::session::Visitor;

/// The monthly gift offered after a one-off gift of `one_off_cents`: a twelfth of it, in
/// whole euros rounded up, and never below the smallest gift taken. 60 € once → 5 € a month.
pub fn suggested_monthly(one_off_cents: i64, limits: AmountLimits) -> i64 {
    let twelfth = one_off_cents.div_euclid(12);
    let whole_euros = (twelfth + 99).div_euclid(100) * 100;
    whole_euros.clamp(limits.min_cents, limits.max_cents)
}

/// Where the gifts it starts are counted from, among the dashboard's sources.
pub const SOURCE: &str = "page-merci";

/// `POST /merci/mensuel`: the monthly gift the thank-you page offered, to its checkout.
pub async fn accept(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    visitor: Visitor,
    OnceForm(form, post): OnceForm<ThanksForm>,
) -> Result<Response> {
    let pledge = form.pledge(&state, &headers, &visitor).await?;
    if pledge.frequency != Frequency::Once || pledge.status != PledgeStatus::Completed {
        return Err(AppError::Conflict(
            "Ce don ne peut pas devenir mensuel d’ici : faites un nouveau don depuis la page de la campagne."
                .to_owned(),
        ));
    }
    let campaign = campaigns::find_public_by_id(state.db.pool(), pledge.campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = still_open(&campaign)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(checkout_session) => {
            return checkout_again(&state, &visitor, campaign, None, &checkout_session).await;
        }
    };
    if state.checkout_limiter.check(peer.ip(), &headers).is_err() {
        return Err(AppError::TooMany(
            "Trop de tentatives de paiement depuis votre connexion en peu de temps : merci de réessayer dans quelques minutes."
                .to_owned(),
        ));
    }
    let gift = Gift {
        frequency: Frequency::Monthly,
        amount_cents: suggested_monthly(pledge.amount_cents, state.config.amount_limits),
        donor: pledge.donor.clone(),
        dedication: pledge.dedication_kind.zip(pledge.dedication_name.clone()),
        show_publicly: pledge.show_publicly != 0,
        news_consent: pledge.news_consent != 0,
        attribution: Attribution {
            source: Some(SOURCE.to_owned()),
            campaign: None,
            referrer: None,
        },
    };
    // Leaving the checkout comes back to the thank-you page of the first gift.
    let back = format!("{}/merci?session_id={}", state.base_url, form.session_id);
    match start_checkout(&state, &visitor, campaign, &gift, None, back).await? {
        Some(created) => {
            first.done(&created.session_id).await;
            Ok(Redirect::to(&created.url).into_response())
        }
        None => Err(AppError::Unavailable(PAYMENTS_UNAVAILABLE.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twelfth_in_whole_euros_never_below_the_smallest_gift() {
        let limits = AmountLimits::default();
        assert_eq!(suggested_monthly(6_000, limits), 500);
        assert_eq!(suggested_monthly(10_000, limits), 900, "8,33 € → 9 €");
        assert_eq!(suggested_monthly(12_000, limits), 1_000);
        assert_eq!(suggested_monthly(2_000, limits), limits.min_cents.max(200));
    }
}
