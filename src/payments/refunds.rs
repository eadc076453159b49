//! Which donation a refund is about. A refund names the PaymentIntent it gave back; one-off
//! gifts are recorded with theirs, but instalments come from `invoice.paid`, whose payload does
//! not name its PaymentIntent at this API version (`invoice.payments` is only sent when
//! expanded). For a PaymentIntent the ledger does not know yet, Stripe is asked which invoice
//! it paid, before the event is applied.

use stripe_billing::invoice_payment::{
    ListInvoicePayment, ListInvoicePaymentPayment, ListInvoicePaymentPaymentType,
};

use super::Payments;
use super::events::{Fact, StripeEvent};
use crate::db::Db;
use crate::store::donations::{self, StripeRef};

/// Fills in the invoice of a refunded payment the ledger does not know by its PaymentIntent.
/// When Stripe cannot be asked, the event goes on without it (and is retried if it cannot
/// apply).
#[tracing::instrument(skip_all, fields(event_id = %event.id))]
pub async fn find_invoice(payments: &Payments, db: &Db, event: &mut StripeEvent) {
    let Fact::Refund(facts) = &mut event.fact else {
        return;
    };
    let Some(payment_intent) = facts.payment_intent_id.clone() else {
        return;
    };
    let known = match db.pool().acquire().await {
        Ok(mut conn) => donations::find(&mut conn, StripeRef::PaymentIntent(&payment_intent))
            .await
            .map(|d| d.is_some()),
        Err(error) => Err(error),
    };
    if !matches!(known, Ok(false)) {
        return; // Known (the usual case), or the database will say so again when applying.
    }
    let mut filter = ListInvoicePaymentPayment::new(ListInvoicePaymentPaymentType::PaymentIntent);
    filter.payment_intent = Some(payment_intent);
    match ListInvoicePayment::new()
        .payment(filter)
        .limit(1)
        .send(payments.client())
        .await
    {
        Ok(list) => {
            facts.invoice_id = list
                .data
                .first()
                .and_then(|payment| payment.invoice.id().as_ref().map(ToString::to_string));
        }
        Err(error) => {
            let error = super::PaymentError::from(error);
            tracing::warn!(event_id = %event.id, %error, "invoice of a refunded payment unavailable");
        }
    }
}
