//! Subscriptions and their invoices: creation at checkout, renewals when the clock moves,
//! collection resuming at its set time, retries of failed renewals, changes (amount, interval,
//! pause, cancel at period end, cancellation details), cancellation and card replacement.
//! (`subscription_changes` reads and checks the requests; this module applies them.)
//!
//! Over 500 lines because the subscription's life (start, renew, retry, change, cancel) is one
//! state machine whose steps share the invoice and status helpers; split, each would reach into
//! the others.

use serde_json::Value;

use super::clock::{Interval, period_end};
use super::error::ApiError;
use super::objects;
use super::payments::{self, NewPayment, Outcome};
use super::state::{
    CheckoutSession, Invoice, Method, Price, State, Subscription, find, find_mut, new_id,
};
use super::subscription_changes::{CancellationDetailsChange, Change, PauseChange};

/// Guards against a runaway loop when the clock jumps decades ahead.
const MAX_PERIODS_PER_ADVANCE: usize = 1200;

/// When a failed renewal is tried again, in days after the previous attempt (a Stripe custom
/// retry schedule); after the last retry fails, the subscription is canceled.
const RETRY_AFTER_DAYS: [i64; 3] = [3, 5, 7];
const DAY: i64 = 24 * 3600;

/// Starts the subscription a completed checkout session pays for, with its first invoice
/// (paid now by card, or pending for SEPA). Returns (subscription, invoice) ids.
pub fn start(
    state: &mut State,
    session: &CheckoutSession,
    customer: &str,
    method: Method,
) -> (String, String) {
    let now = state.now();
    let interval = session.interval.unwrap_or(Interval::Month);
    let subscription = Subscription {
        id: new_id("sub_"),
        created: now,
        customer: customer.to_owned(),
        status: "active".into(),
        item_id: new_id("si_"),
        price: Price {
            id: new_id("price_"),
            created: now,
            product: new_id("prod_"),
            product_name: session.product_name.clone(),
            unit_amount: session.unit_amount,
            currency: session.currency.clone(),
            interval,
        },
        quantity: session.quantity,
        billing_cycle_anchor: now,
        period: 1,
        current_period_start: now,
        current_period_end: period_end(now, interval, 1),
        cancel_at_period_end: false,
        paused: false,
        pause_resumes_at: None,
        canceled_at: None,
        ended_at: None,
        cancellation_reason: None,
        cancellation_comment: None,
        cancellation_feedback: None,
        metadata: session.subscription_metadata.clone(),
        latest_invoice: None,
        method,
    };
    let id = subscription.id.clone();
    let line_period = (now, subscription.current_period_end);
    state.subscriptions.push(subscription);
    let outcome = if method.is_async() {
        Outcome::Pending
    } else {
        Outcome::Succeeded
    };
    let invoice = create_invoice(
        state,
        &id,
        "subscription_create",
        (now, now),
        line_period,
        outcome,
    );
    (id, invoice)
}

/// Creates an invoice for the subscription's current price, with its own PaymentIntent.
fn create_invoice(
    state: &mut State,
    subscription: &str,
    billing_reason: &'static str,
    period: (i64, i64),
    line_period: (i64, i64),
    outcome: Outcome,
) -> String {
    let now = state.now();
    let Some(sub) = find(&state.subscriptions, subscription).cloned() else {
        return String::new();
    };
    let customer_email = find(&state.customers, &sub.customer).and_then(|c| c.email.clone());
    let payment_intent = payments::create(
        state,
        NewPayment {
            amount: sub.amount(),
            currency: &sub.price.currency,
            customer: &sub.customer,
            metadata: &sub.metadata,
            method: sub.method,
        },
        outcome,
    );
    let paid = outcome == Outcome::Succeeded;
    let invoice = Invoice {
        id: new_id("in_"),
        created: now,
        customer: sub.customer.clone(),
        customer_email,
        subscription: sub.id.clone(),
        subscription_metadata: sub.metadata.clone(),
        amount: sub.amount(),
        currency: sub.price.currency.clone(),
        status: if paid { "paid" } else { "open" }.into(),
        billing_reason: billing_reason.into(),
        period_start: period.0,
        period_end: period.1,
        line_id: new_id("il_"),
        subscription_item: sub.item_id.clone(),
        line_period,
        price: sub.price.clone(),
        quantity: sub.quantity,
        payment_intent,
        payment_id: new_id("inpay_"),
        attempt_count: if outcome == Outcome::Pending { 0 } else { 1 },
        // Only a first invoice is not retried: its subscription ends instead.
        next_payment_attempt: (outcome == Outcome::Failed
            && billing_reason != "subscription_create")
            .then(|| now + RETRY_AFTER_DAYS[0] * DAY),
        paid_at: paid.then_some(now),
    };
    let id = invoice.id.clone();
    state.invoices.push(invoice);
    if let Some(sub) = find_mut(&mut state.subscriptions, subscription) {
        sub.latest_invoice = Some(id.clone());
    }
    id
}

/// Marks an open invoice paid (its payment having just succeeded) and emits `invoice.paid`.
pub fn mark_paid(state: &mut State, invoice: &str) {
    let now = state.now();
    let Some(inv) = find_mut(&mut state.invoices, invoice) else {
        return;
    };
    inv.status = "paid".into();
    inv.paid_at = Some(now);
    inv.next_payment_attempt = None;
    inv.attempt_count += 1;
    let json = objects::invoice(inv);
    state.emit("invoice.paid", json, None);
}

/// A pending first payment was rejected: the invoice stays open, the subscription ends.
pub fn first_payment_failed(state: &mut State, invoice: &str) {
    let Some(inv) = find_mut(&mut state.invoices, invoice) else {
        return;
    };
    inv.attempt_count += 1;
    let json = objects::invoice(inv);
    let subscription = inv.subscription.clone();
    state.emit("invoice.payment_failed", json, None);
    let now = state.now();
    end(state, &subscription, "payment_failed", now, now);
}

/// Ends a subscription at `ended_at` and emits `customer.subscription.deleted`. `canceled_at`
/// is when the cancellation was asked for (or the payment gave up), as Stripe records it: for
/// a cancellation at period end, the request, not the end. Its unpaid invoices are no longer
/// retried.
fn end(state: &mut State, id: &str, reason: &'static str, ended_at: i64, canceled_at: i64) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    sub.status = "canceled".into();
    sub.canceled_at = Some(canceled_at);
    sub.ended_at = Some(ended_at);
    sub.cancellation_reason = Some(reason.into());
    let json = objects::subscription(sub);
    state.emit("customer.subscription.deleted", json, None);
    for invoice in state.invoices.iter_mut().filter(|i| i.subscription == id) {
        invoice.next_payment_attempt = None;
    }
}

/// Tries again every failed renewal whose next attempt is due by the (new) clock. A card that
/// still fails gets the next retry of the schedule; after the last one the subscription is
/// canceled (`cancellation_details.reason = payment_failed`) and the invoice left unpaid.
/// (A card replaced in the portal pays the open invoice at once, so retries only ever fail.)
pub fn retry_due(state: &mut State) {
    let now = state.now();
    loop {
        let Some(inv) = state
            .invoices
            .iter_mut()
            .find(|i| i.status == "open" && i.next_payment_attempt.is_some_and(|at| at <= now))
        else {
            return;
        };
        let attempted_at = inv.next_payment_attempt.unwrap_or(now);
        inv.attempt_count += 1;
        let retries_done = usize::try_from(inv.attempt_count - 1).unwrap_or(usize::MAX);
        inv.next_payment_attempt = RETRY_AFTER_DAYS
            .get(retries_done)
            .map(|days| attempted_at + days * DAY);
        let json = objects::invoice(inv);
        let (subscription, gave_up) =
            (inv.subscription.clone(), inv.next_payment_attempt.is_none());
        state.emit("invoice.payment_failed", json, None);
        if gave_up {
            end(
                state,
                &subscription,
                "payment_failed",
                attempted_at,
                attempted_at,
            );
        }
    }
}

/// Bills every subscription whose period has ended by the (new) clock, and resumes the
/// collection of those whose `pause_collection[resumes_at]` has come.
pub fn renew_due(state: &mut State) {
    let ids: Vec<String> = state.subscriptions.iter().map(|s| s.id.clone()).collect();
    for id in ids {
        for _ in 0..MAX_PERIODS_PER_ADVANCE {
            if !next_due(state, &id) {
                break;
            }
        }
    }
}

/// Handles what comes next for one subscription, in time order, so that one long advance
/// voids the renewals before a resume time and charges those after it; false when nothing
/// (more) is due. A renewal at the very second collection resumes is charged.
fn next_due(state: &mut State, id: &str) -> bool {
    let now = state.now();
    let Some(sub) = find(&state.subscriptions, id) else {
        return false;
    };
    if !matches!(sub.status.as_str(), "active" | "past_due") {
        return false;
    }
    let resume_due = sub.paused
        && sub
            .pause_resumes_at
            .is_some_and(|at| at <= now && at <= sub.current_period_end);
    if resume_due {
        resume_collection(state, id);
        return true;
    }
    renew_once(state, id)
}

/// `pause_collection[resumes_at]` has come: collection resumes as when resumed by hand
/// (`pause_collection` back to null, `customer.subscription.updated`).
fn resume_collection(state: &mut State, id: &str) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    let before = objects::subscription(sub);
    sub.paused = false;
    sub.pause_resumes_at = None;
    emit_updated(state, id, &before);
}

/// Handles one ended period; false when nothing (more) is due.
fn renew_once(state: &mut State, id: &str) -> bool {
    let now = state.now();
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return false;
    };
    if !matches!(sub.status.as_str(), "active" | "past_due") || sub.current_period_end > now {
        return false;
    }
    if sub.cancel_at_period_end {
        let ended = sub.current_period_end;
        // Files saved before the request's time was recorded have none: the end stands in.
        let requested = sub.canceled_at.unwrap_or(ended);
        end(state, id, "cancellation_requested", ended, requested);
        return false;
    }
    let before = objects::subscription(sub);
    let ended_period = (sub.current_period_start, sub.current_period_end);
    sub.period += 1;
    sub.current_period_start = sub.current_period_end;
    sub.current_period_end = period_end(sub.billing_cycle_anchor, sub.price.interval, sub.period);
    let new_period = (sub.current_period_start, sub.current_period_end);
    if sub.paused {
        // `pause_collection[behavior]=void`: the period passes without a bill. (Stripe makes
        // the invoice and voids it at once; the sandbox makes none, so no invoice events.)
        emit_updated(state, id, &before);
        return true;
    }
    charge_period(state, id, "subscription_cycle", ended_period, new_period);
    emit_updated(state, id, &before);
    true
}

/// Invoices the subscription's current price for `line_period` with its payment method and
/// sets the status by the outcome: `invoice.paid` and `active`, or `invoice.payment_failed`,
/// `past_due` and a retry schedule. The status change is left for the caller's
/// `customer.subscription.updated`, which follows the invoice's event.
fn charge_period(
    state: &mut State,
    id: &str,
    billing_reason: &'static str,
    period: (i64, i64),
    line_period: (i64, i64),
) {
    let Some(method) = find(&state.subscriptions, id).map(|s| s.method) else {
        return;
    };
    // SEPA renewals settle at once here; only the first SEPA payment waits for the bank.
    let outcome = if method == Method::CardFailsRenewal {
        Outcome::Failed
    } else {
        Outcome::Succeeded
    };
    let invoice = create_invoice(state, id, billing_reason, period, line_period, outcome);
    let Some(json) = find(&state.invoices, &invoice).map(objects::invoice) else {
        return;
    };
    let (kind, status) = match outcome {
        Outcome::Succeeded => ("invoice.paid", "active"),
        _ => ("invoice.payment_failed", "past_due"),
    };
    state.emit(kind, json, None);
    if let Some(sub) = find_mut(&mut state.subscriptions, id) {
        sub.status = status.into();
    }
}

/// Emits `customer.subscription.updated` if the subscription differs from `before` (its
/// JSON then), with what changed in `previous_attributes`; returns the subscription's JSON.
fn emit_updated(state: &mut State, id: &str, before: &Value) -> Option<Value> {
    let json = find(&state.subscriptions, id).map(objects::subscription)?;
    if let Some(previous) = objects::previous_attributes(before, &json) {
        state.emit(
            "customer.subscription.updated",
            json.clone(),
            Some(previous),
        );
    }
    Some(json)
}

/// Changes the status, emitting `customer.subscription.updated` when it really changes.
fn set_status(state: &mut State, id: &str, status: &'static str) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    let before = objects::subscription(sub);
    sub.status = status.into();
    emit_updated(state, id, &before);
}

/// A positive integer amount of cents.
pub fn positive_amount(text: &str, param: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|amount| *amount > 0)
        .ok_or_else(|| ApiError::invalid(param, "Invalid positive integer"))
}

/// Applies a change and emits `customer.subscription.updated` with what it was before.
///
/// A new amount alone takes effect from the next renewal. A new interval does what Stripe
/// does: the billing cycle anchor resets to now, the new period runs from now for one
/// interval, and the new price is invoiced at once (`billing_reason = subscription_update`)
/// and paid like a renewal, before the update's event. Simplification: the sandbox never
/// prorates, whatever `proration_behavior` says; the invoice holds the new price in full,
/// which is what Stripe bills with `proration_behavior=none`.
pub fn update(state: &mut State, id: &str, change: Change) -> Result<Value, ApiError> {
    let now = state.now();
    let sub = find_mut(&mut state.subscriptions, id)
        .ok_or_else(|| ApiError::no_such("subscription", id))?;
    if sub.status == "canceled" && change.touches_billing() {
        return Err(ApiError::state(
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    let before = objects::subscription(sub);
    let unit_amount = change.unit_amount.unwrap_or(sub.price.unit_amount);
    let interval = change.interval.unwrap_or(sub.price.interval);
    let new_interval = interval != sub.price.interval;
    if unit_amount != sub.price.unit_amount || new_interval {
        sub.price = Price {
            id: new_id("price_"),
            created: now,
            unit_amount,
            interval,
            ..sub.price.clone()
        };
    }
    if new_interval {
        sub.billing_cycle_anchor = now;
        sub.period = 1;
        sub.current_period_start = now;
        sub.current_period_end = period_end(now, interval, 1);
    }
    match change.pause {
        Some(PauseChange::Void { resumes_at }) => {
            sub.paused = true;
            sub.pause_resumes_at = resumes_at;
        }
        Some(PauseChange::Resume) => {
            sub.paused = false;
            sub.pause_resumes_at = None;
        }
        None => {}
    }
    if let Some(cancel) = change.cancel_at_period_end
        && cancel != sub.cancel_at_period_end
    {
        sub.cancel_at_period_end = cancel;
        // Stripe records the request at once, though the subscription runs to its period's
        // end: `canceled_at` is now and the reason is set; withdrawing it clears both.
        sub.canceled_at = cancel.then_some(now);
        sub.cancellation_reason = cancel.then(|| "cancellation_requested".to_owned());
    }
    apply_cancellation_details(sub, change.cancellation_details);
    for (key, value) in change.metadata {
        if value.is_empty() {
            sub.metadata.remove(&key);
        } else {
            sub.metadata.insert(key, value);
        }
    }
    // A paused subscription's invoice would be voided (see `renew_once`): the new cycle
    // starts all the same, unbilled.
    if new_interval && !sub.paused {
        let new_period = (sub.current_period_start, sub.current_period_end);
        charge_period(state, id, "subscription_update", (now, now), new_period);
    }
    emit_updated(state, id, &before).ok_or_else(|| ApiError::no_such("subscription", id))
}

fn apply_cancellation_details(sub: &mut Subscription, details: CancellationDetailsChange) {
    if let Some(comment) = details.comment {
        sub.cancellation_comment = comment;
    }
    if let Some(feedback) = details.feedback {
        sub.cancellation_feedback = feedback;
    }
}

/// `DELETE /v1/subscriptions/{id}`: ends it now, with the customer's `cancellation_details`
/// if given (`reason` is `cancellation_requested`).
pub fn cancel(
    state: &mut State,
    id: &str,
    details: CancellationDetailsChange,
) -> Result<Value, ApiError> {
    let sub = find_mut(&mut state.subscriptions, id)
        .ok_or_else(|| ApiError::no_such("subscription", id))?;
    if sub.status == "canceled" {
        return Err(ApiError::state(format!(
            "This subscription has already been canceled: '{id}'"
        )));
    }
    apply_cancellation_details(sub, details);
    let now = state.now();
    end(state, id, "cancellation_requested", now, now);
    find(&state.subscriptions, id)
        .map(objects::subscription)
        .ok_or_else(|| ApiError::no_such("subscription", id))
}

/// The portal's "Remplacer la carte": future payments succeed, and an invoice left open by a
/// failed renewal is paid now.
pub fn replace_card(state: &mut State, id: &str) -> Result<(), ApiError> {
    let sub = find_mut(&mut state.subscriptions, id)
        .ok_or_else(|| ApiError::no_such("subscription", id))?;
    sub.method = Method::Card;
    if sub.status != "past_due" {
        return Ok(());
    }
    let open: Vec<(String, String)> = state
        .invoices
        .iter()
        .filter(|i| i.subscription == id && i.status == "open")
        .map(|i| (i.id.clone(), i.payment_intent.clone()))
        .collect();
    for (invoice, payment_intent) in open {
        payments::retry_with_new_card(state, &payment_intent);
        mark_paid(state, &invoice);
    }
    set_status(state, id, "active");
    Ok(())
}

/// `POST /v1/billing_portal/sessions`: a link to the sandbox's portal for one customer.
pub fn create_portal_session(
    state: &mut State,
    form: &super::form::Form,
) -> Result<Value, ApiError> {
    let customer = form
        .get(&["customer"])
        .ok_or_else(|| ApiError::missing("customer"))?;
    if find(&state.customers, customer).is_none() {
        return Err(ApiError {
            param: Some("customer".to_owned()),
            ..ApiError::no_such("customer", customer)
        });
    }
    let return_url = super::checkout::url_param(form, "return_url", &state.public_url)?;
    let id = new_id("bps_");
    let session = super::state::PortalSession {
        url: format!("{}/portal/{id}", state.public_url),
        id,
        created: state.now(),
        customer: customer.to_owned(),
        return_url,
    };
    let json = objects::portal_session(&session);
    state.portal_sessions.push(session);
    Ok(json)
}
