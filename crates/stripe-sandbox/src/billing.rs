//! Subscriptions and their invoices: creation at checkout, renewals when the clock moves,
//! retries of failed renewals, changes (amount, pause, cancel at period end), cancellation
//! and card replacement.
//!
//! Over 500 lines because the subscription's life (start, renew, retry, change, cancel) is one
//! state machine whose steps share the invoice and status helpers; split, each would reach into
//! the others.

use serde_json::{Map, Value, json};

use super::clock::{Interval, period_end};
use super::error::ApiError;
use super::objects;
use super::payments::{self, NewPayment, Outcome};
use super::state::{
    CheckoutSession, Invoice, Metadata, Method, Price, State, Subscription, find, find_mut, new_id,
};

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
        canceled_at: None,
        ended_at: None,
        cancellation_reason: None,
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
        next_payment_attempt: (outcome == Outcome::Failed
            && billing_reason == "subscription_cycle")
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
    end(state, &subscription, "payment_failed", now);
}

/// Ends a subscription now and emits `customer.subscription.deleted`. Its unpaid invoices
/// are no longer retried.
fn end(state: &mut State, id: &str, reason: &'static str, at: i64) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    sub.status = "canceled".into();
    sub.canceled_at = Some(at);
    sub.ended_at = Some(at);
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
            end(state, &subscription, "payment_failed", attempted_at);
        }
    }
}

/// Bills every subscription whose period has ended by the (new) clock.
pub fn renew_due(state: &mut State) {
    let ids: Vec<String> = state.subscriptions.iter().map(|s| s.id.clone()).collect();
    for id in ids {
        for _ in 0..MAX_PERIODS_PER_ADVANCE {
            if !renew_once(state, &id) {
                break;
            }
        }
    }
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
        end(state, id, "cancellation_requested", ended);
        return false;
    }
    let previous = (sub.current_period_start, sub.current_period_end);
    sub.period += 1;
    sub.current_period_start = sub.current_period_end;
    sub.current_period_end = period_end(sub.billing_cycle_anchor, sub.price.interval, sub.period);
    let line_period = (sub.current_period_start, sub.current_period_end);
    let was_active = sub.status == "active";
    if sub.paused {
        // `pause_collection[behavior]=void`: the period passes without a bill.
        period_rolled(state, id, previous);
        return true;
    }
    // SEPA renewals settle at once here; only the first SEPA payment waits for the bank.
    let outcome = if sub.method == Method::CardFailsRenewal {
        Outcome::Failed
    } else {
        Outcome::Succeeded
    };
    let invoice = create_invoice(
        state,
        id,
        "subscription_cycle",
        previous,
        line_period,
        outcome,
    );
    let Some(json) = find(&state.invoices, &invoice).map(objects::invoice) else {
        return false;
    };
    if outcome == Outcome::Succeeded {
        state.emit("invoice.paid", json, None);
        if was_active {
            period_rolled(state, id, previous);
        } else {
            set_status(state, id, "active");
        }
    } else {
        state.emit("invoice.payment_failed", json, None);
        set_status(state, id, "past_due");
    }
    true
}

/// A new period began: Stripe tells with `customer.subscription.updated`, the old period in
/// `previous_attributes`.
fn period_rolled(state: &mut State, id: &str, previous: (i64, i64)) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    let json = objects::subscription(sub);
    let previous = json!({ "current_period_start": previous.0, "current_period_end": previous.1 });
    state.emit("customer.subscription.updated", json, Some(previous));
}

/// Changes the status, emitting `customer.subscription.updated` when it really changes.
fn set_status(state: &mut State, id: &str, status: &'static str) {
    let Some(sub) = find_mut(&mut state.subscriptions, id) else {
        return;
    };
    if sub.status == status {
        return;
    }
    let previous = json!({ "status": sub.status });
    sub.status = status.into();
    let json = objects::subscription(sub);
    state.emit("customer.subscription.updated", json, Some(previous));
}

/// What `POST /v1/subscriptions/{id}` (or a portal action) asks to change.
#[derive(Debug, Default, Clone)]
pub struct Change {
    /// New unit amount in cents (a new price for the same product).
    pub unit_amount: Option<i64>,
    /// Some(true) pauses collection, Some(false) resumes it.
    pub pause: Option<bool>,
    pub cancel_at_period_end: Option<bool>,
    /// Merged into the metadata; an empty value removes the key.
    pub metadata: Metadata,
}

/// Reads the API's form into a `Change`, checking it against the subscription.
pub fn parse_change(state: &State, id: &str, form: &super::form::Form) -> Result<Change, ApiError> {
    let sub =
        find(&state.subscriptions, id).ok_or_else(|| ApiError::no_such("subscription", id))?;
    let mut change = Change {
        metadata: form.map(&["metadata"]),
        ..Change::default()
    };
    if form.has(&["items"]) {
        let item = |field: &[&str]| {
            let mut path = vec!["items", "0"];
            path.extend_from_slice(field);
            form.get(&path).map(str::to_owned)
        };
        let item_id = item(&["id"]).ok_or_else(|| ApiError::missing("items[0][id]"))?;
        if item_id != sub.item_id {
            return Err(ApiError::invalid(
                "items[0][id]",
                format!("No such subscription item: '{item_id}'"),
            ));
        }
        if let Some(price) = item(&["price"]) {
            return Err(ApiError::invalid(
                "items[0][price]",
                format!("No such price: '{price}' (the sandbox only takes price_data)"),
            ));
        }
        let currency = item(&["price_data", "currency"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][currency]"))?;
        if currency != sub.price.currency {
            return Err(ApiError::invalid(
                "items[0][price_data][currency]",
                "The currency of a subscription cannot change.",
            ));
        }
        let product = item(&["price_data", "product"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][product]"))?;
        if product != sub.price.product {
            return Err(ApiError::invalid(
                "items[0][price_data][product]",
                format!("No such product: '{product}'"),
            ));
        }
        let interval = item(&["price_data", "recurring", "interval"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][recurring][interval]"))?;
        if Interval::parse(&interval) != Some(sub.price.interval) {
            return Err(ApiError::invalid(
                "items[0][price_data][recurring][interval]",
                "The sandbox cannot change a subscription's billing interval.",
            ));
        }
        let amount = item(&["price_data", "unit_amount"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][unit_amount]"))?;
        change.unit_amount = Some(positive_amount(
            &amount,
            "items[0][price_data][unit_amount]",
        )?);
    }
    if form.has(&["pause_collection"]) {
        change.pause = match (
            form.get(&["pause_collection"]),
            form.get(&["pause_collection", "behavior"]),
        ) {
            (Some(""), _) => Some(false),
            (_, Some("void")) => Some(true),
            (_, Some(other)) => {
                return Err(ApiError::invalid(
                    "pause_collection[behavior]",
                    format!("The sandbox only supports the `void` behavior, not `{other}`."),
                ));
            }
            _ => return Err(ApiError::missing("pause_collection[behavior]")),
        };
    }
    if let Some(value) = form.get(&["cancel_at_period_end"]) {
        change.cancel_at_period_end = Some(parse_bool(value, "cancel_at_period_end")?);
    }
    if let Some(value) = form.get(&["proration_behavior"])
        && !["always_invoice", "create_prorations", "none"].contains(&value)
    {
        return Err(ApiError::invalid(
            "proration_behavior",
            format!("Invalid proration_behavior: {value}"),
        ));
    }
    Ok(change)
}

/// A positive integer amount of cents.
pub fn positive_amount(text: &str, param: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|amount| *amount > 0)
        .ok_or_else(|| ApiError::invalid(param, "Invalid positive integer"))
}

fn parse_bool(text: &str, param: &str) -> Result<bool, ApiError> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid(param, "Invalid boolean")),
    }
}

/// Applies a change and emits `customer.subscription.updated` with what it was before.
pub fn update(state: &mut State, id: &str, change: Change) -> Result<Value, ApiError> {
    let now = state.now();
    let sub = find_mut(&mut state.subscriptions, id)
        .ok_or_else(|| ApiError::no_such("subscription", id))?;
    let touches_billing = change.unit_amount.is_some()
        || change.pause.is_some()
        || change.cancel_at_period_end.is_some();
    if sub.status == "canceled" && touches_billing {
        return Err(ApiError::state(
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    let mut previous = Map::new();
    if let Some(amount) = change.unit_amount
        && amount != sub.price.unit_amount
    {
        previous.insert("items".into(), objects::subscription_items(sub));
        sub.price = Price {
            id: new_id("price_"),
            created: now,
            unit_amount: amount,
            ..sub.price.clone()
        };
    }
    if let Some(pause) = change.pause
        && pause != sub.paused
    {
        previous.insert("pause_collection".into(), objects::pause_collection(sub));
        sub.paused = pause;
    }
    if let Some(cancel) = change.cancel_at_period_end
        && cancel != sub.cancel_at_period_end
    {
        previous.insert(
            "cancel_at_period_end".into(),
            json!(sub.cancel_at_period_end),
        );
        let cancel_at = sub.cancel_at_period_end.then_some(sub.current_period_end);
        previous.insert("cancel_at".into(), json!(cancel_at));
        sub.cancel_at_period_end = cancel;
    }
    let mut old_metadata = Map::new();
    for (key, value) in change.metadata {
        let old = if value.is_empty() {
            sub.metadata.remove(&key)
        } else {
            sub.metadata.insert(key.clone(), value.clone())
        };
        if old.as_deref() != Some(value.as_str()) && !(old.is_none() && value.is_empty()) {
            old_metadata.insert(key, json!(old));
        }
    }
    if !old_metadata.is_empty() {
        previous.insert("metadata".into(), Value::Object(old_metadata));
    }
    let json = objects::subscription(sub);
    if !previous.is_empty() {
        state.emit(
            "customer.subscription.updated",
            json.clone(),
            Some(Value::Object(previous)),
        );
    }
    Ok(json)
}

/// `DELETE /v1/subscriptions/{id}`: ends it now.
pub fn cancel(state: &mut State, id: &str) -> Result<Value, ApiError> {
    let sub =
        find(&state.subscriptions, id).ok_or_else(|| ApiError::no_such("subscription", id))?;
    if sub.status == "canceled" {
        return Err(ApiError::state(format!(
            "This subscription has already been canceled: '{id}'"
        )));
    }
    let now = state.now();
    end(state, id, "cancellation_requested", now);
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
    let return_url = match form.get(&["return_url"]) {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Some(url.to_owned())
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "return_url",
                "Not a valid URL (absolute http or https expected)",
            ));
        }
        None => None,
    };
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
