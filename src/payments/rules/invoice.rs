//! `invoice.paid` / `invoice.payment_failed`: an instalment of a recurring gift.

use sqlx::AnyConnection;

use super::{Context, consent_if_asked, donation_from};
use crate::domain::consent::Topic;
use crate::domain::donation::DonationStatus;
use crate::domain::money::Money;
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::jobs::email::Message;
use crate::payments::applier::ApplyError;
use crate::payments::events::InvoiceFacts;
use crate::store::donations::StripeRef;
use crate::store::{recurring_gifts, supporters};

impl Context<'_> {
    pub(super) async fn invoice(
        &self,
        conn: &mut AnyConnection,
        facts: &InvoiceFacts,
    ) -> Result<(), ApplyError> {
        let Some(subscription_id) = &facts.subscription_id else {
            return Ok(()); // Not a subscription's invoice: nothing of ours.
        };
        let Some(found) = self
            .subscription_of(conn, subscription_id, &facts.subscription_metadata)
            .await?
        else {
            return Ok(());
        };
        if !self.in_currency(facts.currency, found.currency()) {
            return Ok(());
        }
        let (gift, pledge) = self
            .gift_of(conn, found, subscription_id, facts.customer_id.as_deref())
            .await?;
        let at = self.event.created;
        if !facts.paid {
            recurring_gifts::payment_outcome(conn, &gift, false, at, self.now).await?;
            // A renewal that failed (a first payment that fails is the checkout's to tell).
            if matches!(
                gift.status,
                RecurringGiftStatus::Active | RecurringGiftStatus::PastDue
            ) {
                recurring_gifts::failure_began(conn, gift.id, at, self.now).await?;
                self.owe_email(
                    conn,
                    Message::PaymentFailed {
                        recurring_gift_id: gift.id,
                        invoice_id: facts.invoice_id.clone(),
                    },
                )
                .await?;
            }
            return Ok(());
        }
        let paid_at = facts.paid_at.unwrap_or(self.event.created);
        recurring_gifts::failure_ended(conn, gift.id, paid_at).await?;
        if facts.amount_paid <= 0 {
            // Paid by the customer's credit balance or a coupon: no money, no donation.
            recurring_gifts::payment_outcome(conn, &gift, true, at, self.now).await?;
            return Ok(());
        }
        let mut donation = donation_from(
            &pledge,
            gift.supporter_id,
            Money::new(facts.amount_paid, gift.currency),
            paid_at,
        );
        // The invoice's own period says it best: after a switch monthly ↔ yearly, its
        // first invoice may arrive before the subscription's event of the new interval.
        donation.frequency = facts.frequency.unwrap_or(gift.frequency);
        donation.recurring_gift_id = Some(gift.id);
        donation.stripe_invoice_id = Some(facts.invoice_id.clone());
        donation.stripe_payment_intent_id = facts.payment_intent_id.clone();
        consent_if_asked(conn, &pledge, gift.supporter_id, self.now).await?;
        let paid_now = self
            .upsert_donation(
                conn,
                &donation,
                StripeRef::Invoice(&facts.invoice_id),
                DonationStatus::Paid,
            )
            .await?;
        if let Some(donation_id) = paid_now {
            // Once per gift (its dedupe key), whichever instalment arrives first.
            self.owe_email(
                conn,
                Message::Welcome {
                    recurring_gift_id: gift.id,
                },
            )
            .await?;
            // And to those who asked, an email at each later one (the worker leaves out the
            // first, which the welcome thanks for).
            if supporters::wants(conn, gift.supporter_id, Topic::Instalments).await? {
                self.owe_email(conn, Message::Instalment { donation_id })
                    .await?;
            }
        }
        recurring_gifts::payment_outcome(conn, &gift, true, at, self.now).await?;
        Ok(())
    }
}
