//! `checkout.session.*`: a pledge paid (or not), a one-off donation, a subscription started.

use sqlx::AnyConnection;
use stripe_checkout::{CheckoutSessionMode, CheckoutSessionPaymentStatus};
use stripe_webhook::EventType;

use super::{Context, consent_if_asked, donation_from, pledge_from, supporter_for};
use crate::domain::donation::{DonationStatus, PaymentMethod};
use crate::domain::money::Money;
use crate::domain::pledge::PledgeStatus;
use crate::jobs::email::Message;
use crate::payments::applier::ApplyError;
use crate::payments::events::CheckoutFacts;
use crate::store::donations::StripeRef;
use crate::store::pledges::{self, Pledge};
use crate::store::recurring_gifts;

/// A checkout whose pledge is settled, with the supporter it became.
#[derive(Clone, Copy)]
struct Settled<'a> {
    facts: &'a CheckoutFacts,
    pledge: &'a Pledge,
    supporter_id: i64,
    outcome: DonationStatus,
}

impl Context<'_> {
    pub(super) async fn checkout(
        &self,
        conn: &mut AnyConnection,
        facts: &CheckoutFacts,
    ) -> Result<(), ApplyError> {
        let Some(pledge) = pledge_from(conn, self.backend, &facts.metadata).await? else {
            tracing::warn!(event_id = %self.event.id, "checkout session without a known pledge: ignored");
            return Ok(());
        };
        if !self.in_currency(facts.currency, pledge.currency) {
            return Ok(());
        }
        if self.event.event_type == EventType::CheckoutSessionExpired {
            pledges::settle(conn, &pledge, PledgeStatus::Expired, None, self.now).await?;
            return Ok(());
        }
        let outcome = self.outcome(facts);
        let supporter_id =
            supporter_for(conn, &pledge, facts.customer_id.as_deref(), self.now).await?;
        let pledge_status = if outcome == DonationStatus::Failed {
            PledgeStatus::Failed
        } else {
            PledgeStatus::Completed
        };
        pledges::settle(conn, &pledge, pledge_status, Some(supporter_id), self.now).await?;
        if outcome == DonationStatus::Failed {
            // Only a direct debit fails after the checkout: the donor is no longer there to
            // see it (a declined card is refused on the checkout page itself).
            self.owe_email(
                conn,
                Message::DebitRejected {
                    pledge_id: pledge.id,
                },
            )
            .await?;
        }
        let settled = Settled {
            facts,
            pledge: &pledge,
            supporter_id,
            outcome,
        };
        if facts.mode == CheckoutSessionMode::Subscription {
            self.subscription_started(conn, settled).await
        } else {
            self.one_off(conn, settled).await
        }
    }

    /// What the payment came to: Stripe's word on the session, as a donation's status.
    fn outcome(&self, facts: &CheckoutFacts) -> DonationStatus {
        match self.event.event_type {
            EventType::CheckoutSessionAsyncPaymentFailed => DonationStatus::Failed,
            EventType::CheckoutSessionAsyncPaymentSucceeded => DonationStatus::Paid,
            _ if facts.payment_status == CheckoutSessionPaymentStatus::Unpaid => {
                DonationStatus::Pending
            }
            _ => DonationStatus::Paid,
        }
    }

    /// The recurring gift of the subscription; its instalments come with `invoice.paid`.
    async fn subscription_started(
        &self,
        conn: &mut AnyConnection,
        settled: Settled<'_>,
    ) -> Result<(), ApplyError> {
        let Some(subscription_id) = &settled.facts.subscription_id else {
            return Ok(());
        };
        let customer_id = settled.facts.customer_id.as_deref();
        let gift = self
            .gift_for(
                conn,
                settled.pledge,
                settled.supporter_id,
                subscription_id,
                customer_id,
            )
            .await?;
        if settled.outcome == DonationStatus::Paid {
            recurring_gifts::payment_outcome(conn, &gift, true, self.event.created, self.now)
                .await?;
        }
        Ok(())
    }

    /// The donation of a one-off gift: paid by card, or a SEPA debit pending, then settled.
    async fn one_off(
        &self,
        conn: &mut AnyConnection,
        settled: Settled<'_>,
    ) -> Result<(), ApplyError> {
        let paid_at_once = self.event.event_type == EventType::CheckoutSessionCompleted
            && settled.outcome == DonationStatus::Paid;
        let amount = settled
            .facts
            .amount_total
            .map_or(settled.pledge.amount(), |cents| {
                Money::new(cents, settled.pledge.currency)
            });
        let mut donation = donation_from(
            settled.pledge,
            settled.supporter_id,
            amount,
            self.event.created,
        );
        if !paid_at_once {
            donation.payment_method = PaymentMethod::SepaDebit;
        }
        donation.stripe_checkout_session_id = Some(settled.facts.session_id.clone());
        donation.stripe_payment_intent_id = settled.facts.payment_intent_id.clone();
        if settled.outcome == DonationStatus::Paid {
            consent_if_asked(conn, settled.pledge, settled.supporter_id, self.now).await?;
        }
        let by = StripeRef::CheckoutSession(&settled.facts.session_id);
        if let Some(donation_id) = self
            .upsert_donation(conn, &donation, by, settled.outcome)
            .await?
        {
            self.owe_email(conn, Message::ThankYou { donation_id })
                .await?;
        }
        Ok(())
    }
}
