//! `charge.refunded`: money given back, in full or in part.

use sqlx::AnyConnection;

use super::{Context, PaymentOf, RETRY_WINDOW};
use crate::jobs;
use crate::payments::applier::ApplyError;
use crate::payments::events::ChargeFacts;
use crate::store::donations;

impl Context<'_> {
    pub(super) async fn refund(
        &self,
        conn: &mut AnyConnection,
        facts: &ChargeFacts,
    ) -> Result<(), ApplyError> {
        let Some(payment_intent) = &facts.payment_intent_id else {
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
        match found {
            PaymentOf::OtherCurrency => Ok(()),
            PaymentOf::Donation(donation) => {
                let refunded = donations::record_refund(
                    conn,
                    self.backend,
                    &donation,
                    facts.amount_refunded,
                    self.now,
                )
                .await?;
                if let Some(refunded_cents) = refunded {
                    // One email (and receipt correction) per new total: a refund in two steps
                    // is told twice.
                    jobs::owe_refund_follow_ups(conn, donation.id, refunded_cents, self.now)
                        .await?;
                }
                Ok(())
            }
            PaymentOf::Unknown if self.now - self.event.created < RETRY_WINDOW => {
                Err(ApplyError::NotYet("refund of a payment not recorded yet"))
            }
            PaymentOf::Unknown => {
                tracing::warn!(event_id = %self.event.id, "refund of an unknown payment: ignored");
                Ok(())
            }
        }
    }
}
