//! Money movements: a PaymentIntent with its Charge for every payment (one-off or invoice),
//! SEPA settlement of pending charges, and refunds.

use serde_json::Value;

use super::error::ApiError;
use super::form::Form;
use super::objects;
use super::state::{
    Charge, Metadata, Method, PaymentIntent, Refund, State, find, find_mut, new_id,
};

/// What happens to a new payment right away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// A SEPA debit: pending until the bank answers.
    Pending,
    Failed,
}

/// Stripe's error code for a refund of a charge that has nothing left to refund.
pub const ALREADY_REFUNDED: &str = "charge_already_refunded";
/// Stripe's error code for a refund of a charge whose dispute holds its money.
pub const CHARGE_DISPUTED: &str = "charge_disputed";

const DECLINED: (&str, &str) = ("card_declined", "Your card was declined.");
const SEPA_REJECTED: (&str, &str) = (
    "insufficient_funds",
    "The customer's account has insufficient funds to cover this payment.",
);

/// Who pays what, for which purpose (the metadata is what Obole reads back on refunds).
pub struct NewPayment<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub customer: &'a str,
    pub metadata: &'a Metadata,
    pub method: Method,
}

/// Creates a PaymentIntent and its first Charge; returns the PaymentIntent's id.
pub fn create(state: &mut State, payment: NewPayment<'_>, outcome: Outcome) -> String {
    let now = state.now();
    let pi = new_id("pi_");
    let charge = new_id("ch_");
    state.payment_intents.push(PaymentIntent {
        id: pi.clone(),
        amount: payment.amount,
        currency: payment.currency.to_owned(),
        customer: Some(payment.customer.to_owned()),
        metadata: payment.metadata.clone(),
        status: intent_status(outcome).into(),
        method: payment.method,
        latest_charge: Some(charge.clone()),
    });
    state.charges.push(Charge {
        id: charge,
        created: now,
        payment_intent: pi.clone(),
        amount: payment.amount,
        amount_refunded: 0,
        currency: payment.currency.to_owned(),
        customer: Some(payment.customer.to_owned()),
        metadata: payment.metadata.clone(),
        status: charge_status(outcome).into(),
        method: payment.method,
        failure: failure(outcome, payment.method),
        disputed: false,
    });
    pi
}

/// The bank's answer for a pending (SEPA) payment.
pub fn settle(state: &mut State, pi: &str, succeeds: bool) {
    let outcome = if succeeds {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    };
    let Some(intent) = find_mut(&mut state.payment_intents, pi) else {
        return;
    };
    intent.status = intent_status(outcome).into();
    let method = intent.method;
    if let Some(charge) = intent
        .latest_charge
        .clone()
        .and_then(|id| find_mut(&mut state.charges, &id))
    {
        charge.status = charge_status(outcome).into();
        charge.failure = failure(outcome, method);
    }
}

/// Charges a PaymentIntent again with a working card (an open invoice paid after the card
/// was replaced): a new successful Charge becomes its latest.
pub fn retry_with_new_card(state: &mut State, pi: &str) {
    let now = state.now();
    let Some(intent) = find_mut(&mut state.payment_intents, pi) else {
        return;
    };
    let charge = Charge {
        id: new_id("ch_"),
        created: now,
        payment_intent: intent.id.clone(),
        amount: intent.amount,
        amount_refunded: 0,
        currency: intent.currency.clone(),
        customer: intent.customer.clone(),
        metadata: intent.metadata.clone(),
        status: "succeeded".into(),
        method: Method::Card,
        failure: None,
        disputed: false,
    };
    intent.status = "succeeded".into();
    intent.method = Method::Card;
    intent.latest_charge = Some(charge.id.clone());
    state.charges.push(charge);
}

/// Which payment a refund is for: Stripe accepts either its PaymentIntent or its Charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTarget {
    PaymentIntent(String),
    Charge(String),
}

/// A refund asked for through the API or from the dashboard.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub target: RefundTarget,
    /// In cents; `None` refunds everything that remains.
    pub amount: Option<i64>,
    pub reason: Option<String>,
    pub metadata: Metadata,
}

impl RefundRequest {
    /// Reads `POST /v1/refunds`' form; every parameter is checked here, before any lookup.
    pub fn parse(form: &Form) -> Result<RefundRequest, ApiError> {
        let target = match (form.get(&["payment_intent"]), form.get(&["charge"])) {
            (Some(pi), _) => RefundTarget::PaymentIntent(pi.to_owned()),
            (None, Some(charge)) => RefundTarget::Charge(charge.to_owned()),
            (None, None) => return Err(ApiError::missing("payment_intent")),
        };
        let reason = form.get(&["reason"]).map(str::to_owned);
        if let Some(reason) = &reason
            && !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason.as_str())
        {
            return Err(ApiError::invalid(
                "reason",
                format!("Invalid reason: {reason}"),
            ));
        }
        let amount = form
            .get(&["amount"])
            .map(|text| {
                text.parse::<i64>()
                    .ok()
                    .filter(|a| *a > 0)
                    .ok_or_else(|| ApiError::invalid("amount", "Invalid positive integer"))
            })
            .transpose()?;
        Ok(RefundRequest {
            target,
            amount,
            reason,
            metadata: form.map(&["metadata"]),
        })
    }
}

/// Refunds all or part of what remains of a payment's successful charge, and emits
/// `charge.refunded` then `refund.created`. `POST /v1/refunds` and the dashboard's refund
/// button both come here, so both produce the same events; on error nothing changes.
pub fn refund(state: &mut State, request: RefundRequest) -> Result<Value, ApiError> {
    let charge_id = match &request.target {
        RefundTarget::PaymentIntent(pi) => {
            let intent = find(&state.payment_intents, pi)
                .ok_or_else(|| ApiError::no_such("payment_intent", pi))?;
            intent.latest_charge.clone().ok_or_else(|| {
                ApiError::state(format!("PaymentIntent {pi} has no charge to refund."))
            })?
        }
        RefundTarget::Charge(charge) => charge.clone(),
    };
    let now = state.now();
    let charge = find_mut(&mut state.charges, &charge_id)
        .ok_or_else(|| ApiError::no_such("charge", &charge_id))?;
    if charge.status != "succeeded" {
        return Err(ApiError::state(format!(
            "Charge {charge_id} has not succeeded, so it cannot be refunded."
        )));
    }
    // The bank took the money back (or holds it until it decides): nothing left to give.
    let charged_back = state
        .disputes
        .iter()
        .any(|d| d.charge == charge_id && d.status != "won");
    if charged_back {
        return Err(ApiError {
            code: Some(CHARGE_DISPUTED),
            ..ApiError::state(format!(
                "Charge {charge_id} has been charged back; cannot issue a refund."
            ))
        });
    }
    let remaining = charge.refundable();
    if remaining == 0 {
        return Err(ApiError {
            code: Some(ALREADY_REFUNDED),
            ..ApiError::state(format!("Charge {charge_id} has already been refunded."))
        });
    }
    let amount = request.amount.unwrap_or(remaining);
    if amount > remaining {
        return Err(ApiError::invalid(
            "amount",
            format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
            ),
        ));
    }
    let previous = serde_json::json!({
        "amount_refunded": charge.amount_refunded,
        "refunded": charge.refunded(),
    });
    charge.amount_refunded += amount;
    let refund = Refund {
        id: new_id("re_"),
        created: now,
        amount,
        currency: charge.currency.clone(),
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        reason: request.reason,
        metadata: request.metadata,
    };
    let charge = charge.clone();
    state.refunds.push(refund.clone());
    let charge_json = objects::charge(&charge, &state.refunds);
    let refund_json = objects::refund(&refund);
    state.emit("charge.refunded", charge_json, Some(previous));
    state.emit("refund.created", refund_json.clone(), None);
    Ok(refund_json)
}

fn intent_status(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Pending => "processing",
        Outcome::Failed => "requires_payment_method",
    }
}

fn charge_status(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Pending => "pending",
        Outcome::Failed => "failed",
    }
}

fn failure(outcome: Outcome, method: Method) -> Option<(String, String)> {
    let (code, message) = match (outcome, method.is_async()) {
        (Outcome::Failed, true) => SEPA_REJECTED,
        (Outcome::Failed, false) => DECLINED,
        _ => return None,
    };
    Some((code.to_owned(), message.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<RefundRequest, ApiError> {
        RefundRequest::parse(&Form::parse(body))
    }

    #[test]
    fn a_refund_request_names_its_payment_and_a_positive_amount() {
        let request = parse("charge=ch_1&amount=250&metadata[k]=v").expect("valid");
        assert_eq!(request.target, RefundTarget::Charge("ch_1".into()));
        assert_eq!(request.amount, Some(250));
        assert_eq!(request.metadata.get("k").map(String::as_str), Some("v"));
        let everything = parse("payment_intent=pi_1&charge=ch_1").expect("valid");
        assert_eq!(
            everything.target,
            RefundTarget::PaymentIntent("pi_1".into())
        );
        assert_eq!(everything.amount, None);

        let param = |body: &str| parse(body).err().and_then(|e| e.param);
        assert_eq!(param("amount=5").as_deref(), Some("payment_intent"));
        assert_eq!(param("charge=ch_1&amount=0").as_deref(), Some("amount"));
        assert_eq!(param("charge=ch_1&amount=12.5").as_deref(), Some("amount"));
        assert_eq!(param("charge=ch_1&reason=bored").as_deref(), Some("reason"));
    }
}
