//! `charge.dispute.*`: a donor's bank questioning a payment. While a chargeback is open, and
//! once lost, its amount is out of the totals; won (or an inquiry that never became one), it
//! counts again. Every event carries the whole dispute, so each is applied the same way: the
//! dispute's row moves forward only ([`DisputeStage::replaces`]), then what the donation's
//! disputes hold is recomputed from all of them. Late, repeated and reversed events (a
//! `closed` before its `created`) leave the same ledger.

use sqlx::AnyConnection;

use super::{Context, PaymentOf, RETRY_WINDOW};
use crate::domain::dispute::DisputeStage;
use crate::payments::applier::ApplyError;
use crate::payments::events::DisputeFacts;
use crate::store::disputes::{self, DisputeReading, Recorded};
use crate::store::donations;

impl Context<'_> {
    pub(super) async fn dispute(
        &self,
        conn: &mut AnyConnection,
        facts: &DisputeFacts,
    ) -> Result<(), ApplyError> {
        let Some(payment_intent) = &facts.payment_intent_id else {
            // Every payment Obole asks for has a PaymentIntent; a bare charge is not ours.
            tracing::warn!(event_id = %self.event.id, "dispute of a charge without a PaymentIntent: ignored");
            return Ok(());
        };
        let found = self
            .payment_of(
                conn,
                payment_intent,
                facts.invoice_id.as_deref(),
                facts.currency,
            )
            .await?;
        let donation = match found {
            PaymentOf::Donation(donation) => donation,
            PaymentOf::OtherCurrency => return Ok(()),
            PaymentOf::Unknown if self.now - self.event.created < RETRY_WINDOW => {
                return Err(ApplyError::NotYet("dispute of a payment not recorded yet"));
            }
            PaymentOf::Unknown => {
                tracing::warn!(event_id = %self.event.id, "dispute of an unknown payment: ignored");
                return Ok(());
            }
        };
        let reading = DisputeReading {
            stripe_dispute_id: &facts.dispute_id,
            donation_id: donation.id,
            amount_cents: facts.amount,
            currency: donation.currency,
            reason: &facts.reason,
            status: &facts.status,
            opened_at: facts.opened_at,
            due_by: facts.due_by,
            stripe_event_at: self.event.created,
        };
        if disputes::record(conn, self.backend, &reading, self.now).await? == Recorded::Kept {
            return Ok(());
        }
        let held = disputes::held_of_donation(conn, donation.id).await?;
        let moved =
            donations::record_dispute(conn, self.backend, &donation, held, self.now).await?;
        tracing::info!(
            event_id = %self.event.id,
            donation_id = donation.id,
            outcome = %DisputeStage::of(&facts.status).outcome,
            held_cents = held,
            moved = moved.is_some(),
            "dispute recorded"
        );
        Ok(())
    }
}
