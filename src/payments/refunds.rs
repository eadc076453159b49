//! Refunds: given from the back-office ([`issue`]), and told back by `charge.refunded`.
//!
//! Which donation a refund or a dispute is about. Both name the PaymentIntent of the payment;
//! one-off gifts are recorded with theirs, but instalments come from `invoice.paid`, whose
//! payload does not name its PaymentIntent at this API version (`invoice.payments` is only
//! sent when expanded). For a PaymentIntent the ledger does not know yet, Stripe is asked
//! which invoice it paid, before the event is applied.

use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_billing::invoice_payment::{
    ListInvoicePayment, ListInvoicePaymentPayment, ListInvoicePaymentPaymentType,
};
use stripe_core::refund::CreateRefund;

use super::events::{Fact, StripeEvent};
use super::{PaymentError, Payments};
use crate::db::Db;
use crate::store::donations::{self, StripeRef};

/// Where a refund's or a dispute's facts name the payment, and where its invoice goes.
fn payment_of(fact: &mut Fact) -> Option<(String, &mut Option<String>)> {
    let (payment_intent, invoice) = match fact {
        Fact::Refund(facts) => (&facts.payment_intent_id, &mut facts.invoice_id),
        Fact::Dispute(facts) => (&facts.payment_intent_id, &mut facts.invoice_id),
        _ => return None,
    };
    Some((payment_intent.clone()?, invoice))
}

/// Fills in the invoice of a refunded or disputed payment the ledger does not know by its
/// PaymentIntent. When Stripe cannot be asked, the event goes on without it (and is retried
/// if it cannot apply).
#[tracing::instrument(skip_all, fields(event_id = %event.id))]
pub async fn find_invoice(payments: &Payments, db: &Db, event: &mut StripeEvent) {
    let Some((payment_intent, invoice)) = payment_of(&mut event.fact) else {
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
            *invoice = list
                .data
                .first()
                .and_then(|payment| payment.invoice.id().as_ref().map(ToString::to_string));
        }
        Err(error) => {
            let error = super::PaymentError::from(error);
            tracing::warn!(event_id = %event.id, %error, "invoice of a refunded or disputed payment unavailable");
        }
    }
}

/// The PaymentIntent that paid an invoice, as Stripe tells it.
async fn payment_intent_of_invoice(
    payments: &Payments,
    invoice_id: &str,
) -> Result<Option<String>, PaymentError> {
    let list = ListInvoicePayment::new()
        .invoice(invoice_id)
        .limit(1)
        .send(payments.client())
        .await?;
    Ok(list
        .data
        .first()
        .and_then(|p| p.payment.payment_intent.as_ref())
        .map(|pi| pi.id().to_string()))
}

/// What a refund is of.
pub struct RefundRequest<'a> {
    pub donation_id: i64,
    pub payment_intent_id: Option<&'a str>,
    pub invoice_id: Option<&'a str>,
    pub amount_cents: i64,
    /// What will have been refunded in all once this one goes through: with the donation, it
    /// names the refund, so that a form sent twice refunds once.
    pub total_after_cents: i64,
}

/// Asks Stripe to give `amount_cents` back. The ledger moves when `charge.refunded` comes
/// back, like for a refund made in Stripe's dashboard.
#[tracing::instrument(skip_all, fields(donation_id = request.donation_id))]
pub async fn issue(payments: &Payments, request: &RefundRequest<'_>) -> Result<(), PaymentError> {
    let payment_intent = match (request.payment_intent_id, request.invoice_id) {
        (Some(pi), _) => pi.to_owned(),
        (None, Some(invoice)) => payment_intent_of_invoice(payments, invoice)
            .await?
            .ok_or(PaymentError::Missing("le paiement de la facture"))?,
        (None, None) => return Err(PaymentError::Missing("le paiement du don")),
    };
    let key = IdempotencyKey::new(format!(
        "obole-refund-{}-{}",
        request.donation_id, request.total_after_cents
    ))
    .map_err(|_| PaymentError::IdempotencyKey)?;
    CreateRefund::new()
        .payment_intent(payment_intent)
        .amount(request.amount_cents)
        .metadata([("donation_id".to_owned(), request.donation_id.to_string())])
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(payments.client())
        .await?;
    Ok(())
}
