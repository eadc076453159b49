//! Changing a recurring gift at Stripe, as its supporter asks in « Mon espace ». Nothing is
//! written to the ledger here: the change comes back as `customer.subscription.updated` (or
//! `.deleted`), which the rules apply like any other event, so Stripe and Obole never drift.

use serde::Serialize;
use stripe_billing::subscription::{
    CancelSubscription, CancelSubscriptionCancellationDetails,
    CancelSubscriptionCancellationDetailsFeedback as CancelFeedback, RetrieveSubscription,
    UpdateSubscription, UpdateSubscriptionCancellationDetails,
    UpdateSubscriptionCancellationDetailsFeedback as UpdateFeedback, UpdateSubscriptionItems,
    UpdateSubscriptionItemsPriceData, UpdateSubscriptionItemsPriceDataRecurring,
    UpdateSubscriptionItemsPriceDataRecurringInterval as Interval,
    UpdateSubscriptionPauseCollection, UpdateSubscriptionPauseCollectionBehavior,
    UpdateSubscriptionProrationBehavior,
};
use stripe_client_core::{RequestBuilder, StripeMethod};

use super::{PaymentError, Payments};
use crate::domain::cancellation::CancelReason;
use crate::domain::frequency::Frequency;
use crate::domain::money::Money;

/// What the supporter asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiftRequest {
    /// A new amount from the next instalment, without a proration charge; with another
    /// frequency, Stripe restarts the cycle and charges the new amount at once.
    Amount {
        amount: Money,
        frequency: Frequency,
    },
    /// No instalment until `resumes_at`, when collection resumes by itself.
    Pause {
        resumes_at: i64,
    },
    Resume,
    /// Ends now, or when the period already paid runs out.
    Cancel {
        at_period_end: bool,
        reason: Option<CancelReason>,
        comment: Option<String>,
    },
    /// A cancellation at the end of the period, taken back.
    Keep,
}

pub async fn request(
    payments: &Payments,
    subscription_id: &str,
    request: &GiftRequest,
) -> Result<(), PaymentError> {
    let client = payments.client();
    match request {
        GiftRequest::Amount { amount, frequency } => {
            let subscription = RetrieveSubscription::new(subscription_id)
                .send(client)
                .await?;
            let item = subscription
                .items
                .data
                .first()
                .ok_or(PaymentError::Missing("la ligne de l'abonnement"))?;
            let mut price = UpdateSubscriptionItemsPriceData::new(
                item.price.currency.clone(),
                item.price.product.id().to_string(),
                UpdateSubscriptionItemsPriceDataRecurring::new(match frequency {
                    Frequency::Yearly => Interval::Year,
                    Frequency::Monthly | Frequency::Once => Interval::Month,
                }),
            );
            price.unit_amount = Some(amount.cents);
            let mut line = UpdateSubscriptionItems::new();
            line.id = Some(item.id.to_string());
            line.price_data = Some(price);
            UpdateSubscription::new(subscription_id)
                .items(vec![line])
                .proration_behavior(UpdateSubscriptionProrationBehavior::None)
                .send(client)
                .await?;
        }
        GiftRequest::Pause { resumes_at } => {
            let mut pause = UpdateSubscriptionPauseCollection::new(
                UpdateSubscriptionPauseCollectionBehavior::Void,
            );
            pause.resumes_at = Some(*resumes_at);
            UpdateSubscription::new(subscription_id)
                .pause_collection(pause)
                .send(client)
                .await?;
        }
        GiftRequest::Resume => {
            // Stripe resumes when the parameter is sent empty, which the typed request
            // cannot say.
            #[derive(Serialize)]
            struct Unpause {
                pause_collection: &'static str,
            }
            RequestBuilder::new(
                StripeMethod::Post,
                format!("/subscriptions/{subscription_id}"),
            )
            .form(&Unpause {
                pause_collection: "",
            })
            .customize::<stripe_billing::Subscription>()
            .send(client)
            .await?;
        }
        GiftRequest::Cancel {
            at_period_end: true,
            reason,
            comment,
        } => {
            let mut details = UpdateSubscriptionCancellationDetails::new();
            details.comment = comment.clone();
            details.feedback =
                reason.and_then(|r| r.stripe_feedback().parse::<UpdateFeedback>().ok());
            UpdateSubscription::new(subscription_id)
                .cancel_at_period_end(true)
                .cancellation_details(details)
                .send(client)
                .await?;
        }
        GiftRequest::Cancel {
            at_period_end: false,
            reason,
            comment,
        } => {
            let mut details = CancelSubscriptionCancellationDetails::new();
            details.comment = comment.clone();
            details.feedback =
                reason.and_then(|r| r.stripe_feedback().parse::<CancelFeedback>().ok());
            CancelSubscription::new(subscription_id)
                .cancellation_details(details)
                .send(client)
                .await?;
        }
        GiftRequest::Keep => {
            UpdateSubscription::new(subscription_id)
                .cancel_at_period_end(false)
                .send(client)
                .await?;
        }
    }
    Ok(())
}
