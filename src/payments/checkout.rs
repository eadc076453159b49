//! Starting a gift: a Stripe Checkout Session for a pledge (payment mode for a one-off gift,
//! subscription mode with inline `price_data.recurring` for monthly and yearly ones).

use std::collections::HashMap;

use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes as PaymentMethod,
    CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionLineItemsPriceDataRecurring,
    CreateCheckoutSessionLineItemsPriceDataRecurringInterval as Interval,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionSubscriptionData, ProductData,
    RetrieveCheckoutSession,
};
use stripe_checkout::{
    CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
    CheckoutSessionSubmitType,
};

use super::{PaymentError, Payments};
use crate::domain::frequency::Frequency;
use crate::domain::money::Money;

/// What the Checkout Session is for.
pub struct CheckoutRequest<'a> {
    pub pledge_id: i64,
    /// Part of the idempotency key, so a reset database never reuses an old key.
    pub pledge_created_at: i64,
    pub campaign_id: i64,
    pub campaign_title: &'a str,
    /// In the campaign's currency, as the pledge and the ledger record it.
    pub amount: Money,
    pub frequency: Frequency,
    pub email: &'a str,
    pub success_url: String,
    pub cancel_url: String,
}

pub struct CreatedCheckout {
    pub session_id: String,
    pub url: String,
}

/// Creates the session; retried calls for the same pledge return the same session.
#[tracing::instrument(skip_all, fields(pledge_id = request.pledge_id, campaign_id = request.campaign_id))]
pub async fn create_session(
    payments: &Payments,
    request: &CheckoutRequest<'_>,
) -> Result<CreatedCheckout, PaymentError> {
    let metadata: HashMap<String, String> = HashMap::from([
        ("pledge_id".to_owned(), request.pledge_id.to_string()),
        ("campaign_id".to_owned(), request.campaign_id.to_string()),
    ]);
    let Ok(currency) = request
        .amount
        .currency
        .to_lowercase()
        .parse::<stripe_types::Currency>();
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
    price.unit_amount = Some(request.amount.cents);
    price.product_data = Some(ProductData::new(product_name(request)));
    price.recurring = match request.frequency {
        Frequency::Once => None,
        Frequency::Monthly => Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(
            Interval::Month,
        )),
        Frequency::Yearly => Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(
            Interval::Year,
        )),
    };
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(1);

    let mut create = CreateCheckoutSession::new()
        .line_items(vec![item])
        .customer_email(request.email)
        .metadata(metadata.clone())
        .allowed_payment_method_types(vec![PaymentMethod::Card, PaymentMethod::SepaDebit])
        .client_reference_id(request.pledge_id.to_string())
        .success_url(request.success_url.as_str())
        .cancel_url(request.cancel_url.as_str());
    if request.frequency.is_recurring() {
        let mut subscription = CreateCheckoutSessionSubscriptionData::new();
        subscription.metadata = Some(metadata);
        create = create
            .mode(CheckoutSessionMode::Subscription)
            .subscription_data(subscription);
    } else {
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata);
        create = create
            .mode(CheckoutSessionMode::Payment)
            .submit_type(CheckoutSessionSubmitType::Donate)
            .payment_intent_data(intent);
    }
    let key = IdempotencyKey::new(format!(
        "obole-pledge-{}-{}",
        request.pledge_id, request.pledge_created_at
    ))
    .map_err(|_| PaymentError::IdempotencyKey)?;
    let session = create
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(payments.client())
        .await?;
    Ok(CreatedCheckout {
        url: session
            .url
            .clone()
            .ok_or(PaymentError::Missing("l'adresse de paiement"))?,
        session_id: session.id.to_string(),
    })
}

fn product_name(request: &CheckoutRequest<'_>) -> String {
    let kind = match request.frequency {
        Frequency::Once => "Don",
        Frequency::Monthly => "Don mensuel",
        Frequency::Yearly => "Don annuel",
    };
    format!("{kind} — {}", request.campaign_title)
}

/// Where a Checkout Session stands, as the thank-you page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// `None` when Stripe did not say.
    pub status: Option<CheckoutSessionStatus>,
    pub payment_status: CheckoutSessionPaymentStatus,
}

pub async fn session_status(
    payments: &Payments,
    session_id: &str,
) -> Result<SessionStatus, PaymentError> {
    let session = RetrieveCheckoutSession::new(session_id)
        .send(payments.client())
        .await?;
    Ok(SessionStatus {
        status: session.status,
        payment_status: session.payment_status,
    })
}
