//! The Billing Portal: Stripe's own page where a donor replaces the card or IBAN of a
//! recurring gift. A session is created when the donor opens the link, never ahead of time
//! (a portal link is a credential, valid for minutes).

use stripe_billing::billing_portal_session::CreateBillingPortalSession;

use super::{PaymentError, Payments};

/// A portal session for `customer_id`, back to `return_url` when done; returns its URL.
#[tracing::instrument(skip_all)]
pub async fn create_session(
    payments: &Payments,
    customer_id: &str,
    return_url: &str,
) -> Result<String, PaymentError> {
    let session = CreateBillingPortalSession::new()
        .customer(customer_id)
        .return_url(return_url)
        .send(payments.client())
        .await?;
    Ok(session.url)
}
