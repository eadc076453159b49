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
        status: intent_status(outcome),
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
        status: charge_status(outcome),
        method: payment.method,
        failure: failure(outcome, payment.method),
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
    intent.status = intent_status(outcome);
    let method = intent.method;
    if let Some(charge) = intent
        .latest_charge
        .clone()
        .and_then(|id| find_mut(&mut state.charges, &id))
    {
        charge.status = charge_status(outcome);
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
        status: "succeeded",
        method: Method::Card,
        failure: None,
    };
    intent.status = "succeeded";
    intent.method = Method::Card;
    intent.latest_charge = Some(charge.id.clone());
    state.charges.push(charge);
}

/// `POST /v1/refunds`: refunds all or part of what remains of a payment's successful charge.
pub fn refund(state: &mut State, form: &Form) -> Result<Value, ApiError> {
    let charge_id = match (form.get(&["payment_intent"]), form.get(&["charge"])) {
        (Some(pi), _) => {
            let intent = find(&state.payment_intents, pi)
                .ok_or_else(|| ApiError::no_such("payment_intent", pi))?;
            intent.latest_charge.clone().ok_or_else(|| {
                ApiError::state(format!("PaymentIntent {pi} has no charge to refund."))
            })?
        }
        (None, Some(charge)) => charge.to_owned(),
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
    let metadata = form.map(&["metadata"]);
    let now = state.now();
    let charge = find_mut(&mut state.charges, &charge_id)
        .ok_or_else(|| ApiError::no_such("charge", &charge_id))?;
    if charge.status != "succeeded" {
        return Err(ApiError::state(format!(
            "Charge {charge_id} has not succeeded, so it cannot be refunded."
        )));
    }
    let remaining = charge.amount - charge.amount_refunded;
    let amount = match form.get(&["amount"]) {
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| ApiError::invalid("amount", "Invalid positive integer"))?,
        None => remaining,
    };
    if remaining == 0 {
        return Err(ApiError {
            code: Some("charge_already_refunded"),
            ..ApiError::state(format!("Charge {charge_id} has already been refunded."))
        });
    }
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
        reason,
        metadata,
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

fn failure(outcome: Outcome, method: Method) -> Option<(&'static str, &'static str)> {
    match (outcome, method.is_async()) {
        (Outcome::Failed, true) => Some(SEPA_REJECTED),
        (Outcome::Failed, false) => Some(DECLINED),
        _ => None,
    }
}
