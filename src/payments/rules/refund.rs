//! `charge.refunded`: money given back, in full or in part.

use sqlx::AnyConnection;

use super::{Context, RETRY_WINDOW};
use crate::jobs::email::Message;
use crate::payments::applier::ApplyError;
use crate::payments::events::ChargeFacts;
use crate::store::donations::{self, StripeRef};

impl Context<'_> {
    pub(super) async fn refund(
        &self,
        conn: &mut AnyConnection,
        facts: &ChargeFacts,
    ) -> Result<(), ApplyError> {
        let Some(payment_intent) = &facts.payment_intent_id else {
            return Ok(());
        };
        let mut by_invoice = false;
        let mut donation =
            donations::find_locked(conn, self.backend, StripeRef::PaymentIntent(payment_intent))
                .await?;
        if let (None, Some(invoice)) = (&donation, &facts.invoice_id) {
            // An instalment, recorded before its PaymentIntent was known.
            donation =
                donations::find_locked(conn, self.backend, StripeRef::Invoice(invoice)).await?;
            by_invoice = true;
        }
        match donation {
            Some(donation) if !self.in_currency(facts.currency, donation.currency) => Ok(()),
            Some(mut donation) => {
                if by_invoice {
                    donations::set_payment_intent(conn, donation.id, payment_intent).await?;
                    donation.stripe_payment_intent_id = Some(payment_intent.clone());
                }
                let refunded = donations::record_refund(
                    conn,
                    self.backend,
                    &donation,
                    facts.amount_refunded,
                    self.now,
                )
                .await?;
                if let Some(refunded_cents) = refunded {
                    // One email per new total: a refund in two steps is told twice.
                    let message = Message::Refunded {
                        donation_id: donation.id,
                        refunded_cents,
                    };
                    self.owe_email(conn, message).await?;
                }
                Ok(())
            }
            None if self.now - self.event.created < RETRY_WINDOW => {
                Err(ApplyError::NotYet("refund of a payment not recorded yet"))
            }
            None => {
                tracing::warn!(event_id = %self.event.id, "refund of an unknown payment: ignored");
                Ok(())
            }
        }
    }
}
