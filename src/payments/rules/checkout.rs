//! `checkout.session.*`: a pledge paid (or not), a one-off donation, a subscription started.

use sqlx::AnyConnection;

use super::{Context, consent_if_asked, donation_from, pledge_from, supporter_for};
use crate::payments::applier::ApplyError;
use crate::payments::events::CheckoutFacts;
use crate::store::donations::{Status, StripeRef};
use crate::store::pledges;
use crate::store::recurring_gifts;

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
        if self.event.event_type == "checkout.session.expired" {
            pledges::settle(conn, &pledge, "expired", None, self.now).await?;
            return Ok(());
        }
        let outcome = match self.event.event_type.as_str() {
            "checkout.session.async_payment_failed" => Status::Failed,
            "checkout.session.async_payment_succeeded" => Status::Paid,
            _ if facts.payment_status == "unpaid" => Status::Pending,
            _ => Status::Paid,
        };
        let supporter_id =
            supporter_for(conn, &pledge, facts.customer_id.as_deref(), self.now).await?;
        let pledge_status = if outcome == Status::Failed {
            "failed"
        } else {
            "completed"
        };
        pledges::settle(conn, &pledge, pledge_status, Some(supporter_id), self.now).await?;

        if facts.mode == "subscription" {
            // The instalments themselves come with `invoice.paid`.
            if let Some(subscription_id) = &facts.subscription_id {
                let gift = self
                    .gift_for(
                        conn,
                        &pledge,
                        supporter_id,
                        subscription_id,
                        facts.customer_id.as_deref(),
                    )
                    .await?;
                if outcome == Status::Paid {
                    recurring_gifts::payment_outcome(
                        conn,
                        &gift,
                        true,
                        self.event.created,
                        self.now,
                    )
                    .await?;
                }
            }
            return Ok(());
        }

        let method =
            if self.event.event_type == "checkout.session.completed" && outcome == Status::Paid {
                "card"
            } else {
                "sepa_debit"
            };
        let mut donation = donation_from(
            &pledge,
            supporter_id,
            facts.amount_total.unwrap_or(pledge.amount_cents),
            self.event.created,
        );
        donation.payment_method = method.to_owned();
        donation.stripe_checkout_session_id = Some(facts.session_id.clone());
        donation.stripe_payment_intent_id = facts.payment_intent_id.clone();
        if outcome == Status::Paid {
            consent_if_asked(conn, &pledge, supporter_id, self.now).await?;
        }
        self.upsert_donation(
            conn,
            &donation,
            StripeRef::CheckoutSession(&facts.session_id),
            outcome,
        )
        .await
    }
}
