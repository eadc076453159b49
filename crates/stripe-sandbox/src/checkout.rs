//! Checkout Sessions: creation from Stripe's parameters, expiry, the payer's choice on the
//! hosted page, and SEPA settlement afterwards.

use serde_json::Value;

use super::billing;
use super::clock::Interval;
use super::error::ApiError;
use super::form::Form;
use super::objects;
use super::payments::{self, NewPayment, Outcome};
use super::state::{
    CheckoutSession, Customer, Method, Mode, Settlement, State, find, find_mut, new_id,
};

/// Sessions can be paid for 24 hours, as on Stripe.
const LIFETIME: i64 = 24 * 3600;
const PAYMENT_METHODS: [&str; 2] = ["card", "sepa_debit"];
const SUBMIT_TYPES: [&str; 5] = ["auto", "book", "donate", "pay", "subscribe"];

/// `POST /v1/checkout/sessions`.
pub fn create(state: &mut State, form: &Form) -> Result<Value, ApiError> {
    let mode = match form.get(&["mode"]) {
        Some("payment") => Mode::Payment,
        Some("subscription") => Mode::Subscription,
        Some(other) => {
            return Err(ApiError::invalid(
                "mode",
                format!("Invalid mode: `{other}` (the sandbox supports payment and subscription)"),
            ));
        }
        None => return Err(ApiError::missing("mode")),
    };
    let item = |field: &[&str]| {
        let mut path = vec!["line_items", "0"];
        path.extend_from_slice(field);
        form.get(&path).map(str::to_owned)
    };
    if !form.has(&["line_items"]) {
        return Err(ApiError::missing("line_items"));
    }
    if form.has(&["line_items", "1"]) {
        return Err(ApiError::invalid(
            "line_items",
            "The sandbox supports a single line item.",
        ));
    }
    if let Some(price) = item(&["price"]) {
        return Err(ApiError::invalid(
            "line_items[0][price]",
            format!("No such price: '{price}' (the sandbox only takes price_data)"),
        ));
    }
    let currency = item(&["price_data", "currency"])
        .ok_or_else(|| ApiError::missing("line_items[0][price_data][currency]"))?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(ApiError::invalid(
            "line_items[0][price_data][currency]",
            format!("Invalid currency: {currency}"),
        ));
    }
    let unit_amount = billing::positive_amount(
        &item(&["price_data", "unit_amount"])
            .ok_or_else(|| ApiError::missing("line_items[0][price_data][unit_amount]"))?,
        "line_items[0][price_data][unit_amount]",
    )?;
    let product_name = item(&["price_data", "product_data", "name"])
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ApiError::missing("line_items[0][price_data][product_data][name]"))?;
    let quantity = match item(&["quantity"]) {
        Some(q) => billing::positive_amount(&q, "line_items[0][quantity]")?,
        None => return Err(ApiError::missing("line_items[0][quantity]")),
    };
    let interval = match item(&["price_data", "recurring", "interval"]) {
        Some(text) => Some(Interval::parse(&text).ok_or_else(|| {
            ApiError::invalid(
                "line_items[0][price_data][recurring][interval]",
                format!("Invalid interval: `{text}` (month or year)"),
            )
        })?),
        None => None,
    };
    match (mode, interval) {
        (Mode::Payment, Some(_)) => {
            return Err(ApiError::invalid(
                "line_items[0][price_data][recurring]",
                "You specified `payment` mode but passed a recurring price. Either switch to \
                 `subscription` mode or use only one-time prices.",
            ));
        }
        (Mode::Subscription, None) => {
            return Err(ApiError::invalid(
                "line_items[0][price_data][recurring]",
                "You must provide at least one recurring price in `subscription` mode when \
                 using prices.",
            ));
        }
        _ => {}
    }
    let success_url = url_param(form, "success_url", &state.public_url)?
        .ok_or_else(|| ApiError::missing("success_url"))?;
    let cancel_url = url_param(form, "cancel_url", &state.public_url)?;
    let mut payment_method_types = form.list(&["allowed_payment_method_types"]);
    if payment_method_types.is_empty() {
        payment_method_types.push("card".to_owned());
    }
    if let Some(bad) = payment_method_types
        .iter()
        .find(|t| !PAYMENT_METHODS.contains(&t.as_str()))
    {
        return Err(ApiError::invalid(
            "allowed_payment_method_types",
            format!("The sandbox supports card and sepa_debit, not `{bad}`."),
        ));
    }
    if payment_method_types.iter().any(|t| t == "sepa_debit") && currency != "eur" {
        return Err(ApiError::invalid(
            "allowed_payment_method_types",
            "The payment method `sepa_debit` only supports the `eur` currency.",
        ));
    }
    let submit_type = form.get(&["submit_type"]).map(str::to_owned);
    if let Some(submit_type) = &submit_type {
        if !SUBMIT_TYPES.contains(&submit_type.as_str()) {
            return Err(ApiError::invalid(
                "submit_type",
                format!("Invalid submit_type: {submit_type}"),
            ));
        }
        if mode == Mode::Subscription && submit_type != "auto" && submit_type != "subscribe" {
            return Err(ApiError::invalid(
                "submit_type",
                "`submit_type` can only be `auto` or `subscribe` in `subscription` mode.",
            ));
        }
    }
    if mode == Mode::Subscription && form.has(&["payment_intent_data"]) {
        return Err(ApiError::invalid(
            "payment_intent_data",
            "You can not pass `payment_intent_data` in `subscription` mode.",
        ));
    }
    if mode == Mode::Payment && form.has(&["subscription_data"]) {
        return Err(ApiError::invalid(
            "subscription_data",
            "You can not pass `subscription_data` in `payment` mode.",
        ));
    }
    let now = state.now();
    let id = new_id("cs_test_");
    let session = CheckoutSession {
        url: format!("{}/checkout/{id}", state.public_url),
        id,
        created: now,
        expires_at: now + LIFETIME,
        mode,
        status: "open".into(),
        payment_status: "unpaid".into(),
        currency,
        unit_amount,
        quantity,
        product_name,
        interval,
        customer_email: form.get(&["customer_email"]).map(str::to_owned),
        metadata: form.map(&["metadata"]),
        payment_intent_metadata: form.map(&["payment_intent_data", "metadata"]),
        subscription_metadata: form.map(&["subscription_data", "metadata"]),
        submit_type,
        payment_method_types,
        success_url,
        cancel_url,
        client_reference_id: form.get(&["client_reference_id"]).map(str::to_owned),
        customer: None,
        payment_intent: None,
        subscription: None,
        invoice: None,
    };
    let json = objects::checkout_session(&session);
    state.sessions.push(session);
    Ok(json)
}

/// An absolute http(s) URL parameter, if given, on the site the sandbox serves: the pages
/// redirect there, and a sandbox left open on the internet must not send visitors anywhere a
/// caller chose (an open redirect from the site's own origin).
pub(crate) fn url_param(
    form: &Form,
    param: &str,
    public_url: &str,
) -> Result<Option<String>, ApiError> {
    let Some(text) = form.get(&[param]) else {
        return Ok(None);
    };
    let parsed = url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let Some(parsed) = parsed else {
        return Err(ApiError::invalid(
            param,
            "Not a valid URL (absolute http or https expected)",
        ));
    };
    let site = url::Url::parse(public_url).map(|u| u.origin());
    if site.ok() != Some(parsed.origin()) {
        return Err(ApiError::invalid(
            param,
            "Not an address of the site this sandbox serves",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// `POST /v1/checkout/sessions/{id}/expire`.
pub fn expire(state: &mut State, id: &str) -> Result<Value, ApiError> {
    let session = find_mut(&mut state.sessions, id)
        .ok_or_else(|| ApiError::no_such("checkout.session", id))?;
    if session.status != "open" {
        return Err(ApiError::state(format!(
            "Only Checkout Sessions with a status in [\"open\"] can be expired. This session \
             has a status of \"{}\".",
            session.status
        )));
    }
    session.status = "expired".into();
    let json = objects::checkout_session(session);
    state.emit("checkout.session.expired", json.clone(), None);
    Ok(json)
}

/// Open sessions past their `expires_at` expire when the clock passes it.
pub fn expire_overdue(state: &mut State) {
    let now = state.now();
    let overdue: Vec<String> = state
        .sessions
        .iter()
        .filter(|s| s.status == "open" && s.expires_at <= now)
        .map(|s| s.id.clone())
        .collect();
    for id in overdue {
        // Cannot fail: the session exists and is open.
        let _ = expire(state, &id);
    }
}

/// A button of the hosted checkout page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Card,
    CardDeclined,
    CardRenewalFails,
    Sepa,
    SepaFails,
}

impl Choice {
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "card" => Some(Choice::Card),
            "card_declined" => Some(Choice::CardDeclined),
            "card_renewal_fails" => Some(Choice::CardRenewalFails),
            "sepa" => Some(Choice::Sepa),
            "sepa_fails" => Some(Choice::SepaFails),
            _ => None,
        }
    }

    /// The payment method the payer ends up with (none for a declined card).
    fn method(self) -> Option<Method> {
        match self {
            Choice::Card => Some(Method::Card),
            Choice::CardDeclined => None,
            Choice::CardRenewalFails => Some(Method::CardFailsRenewal),
            Choice::Sepa => Some(Method::Sepa),
            Choice::SepaFails => Some(Method::SepaFails),
        }
    }
}

/// Why the hosted page could not complete a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayError {
    NotFound,
    NotOpen,
    Declined,
    /// The button is not offered for this session (e.g. SEPA not allowed).
    Unavailable,
}

/// The payer clicked `choice`: completes the session and returns where to send them.
pub fn pay(state: &mut State, id: &str, choice: Choice) -> Result<String, PayError> {
    let now = state.now();
    let session = find(&state.sessions, id)
        .cloned()
        .ok_or(PayError::NotFound)?;
    if session.status != "open" || session.expires_at <= now {
        return Err(PayError::NotOpen);
    }
    let method = choice.method().ok_or(PayError::Declined)?;
    let allowed = session
        .payment_method_types
        .iter()
        .any(|t| t == method.payment_method_type());
    if !allowed || (method == Method::CardFailsRenewal && session.mode != Mode::Subscription) {
        return Err(PayError::Unavailable);
    }
    let customer = Customer {
        id: new_id("cus_"),
        created: now,
        email: session.customer_email.clone(),
        name: None,
    };
    let customer_id = customer.id.clone();
    state.customers.push(customer);
    let outcome = if method.is_async() {
        Outcome::Pending
    } else {
        Outcome::Succeeded
    };
    let (payment_intent, subscription, invoice) = match session.mode {
        Mode::Payment => {
            let pi = payments::create(
                state,
                NewPayment {
                    amount: session.amount_total(),
                    currency: &session.currency,
                    customer: &customer_id,
                    metadata: &session.payment_intent_metadata,
                    method,
                },
                outcome,
            );
            (Some(pi), None, None)
        }
        Mode::Subscription => {
            let (sub, invoice) = billing::start(state, &session, &customer_id, method);
            if let Some(json) = find(&state.subscriptions, &sub).map(objects::subscription) {
                state.emit("customer.subscription.created", json, None);
            }
            if outcome == Outcome::Succeeded
                && let Some(json) = find(&state.invoices, &invoice).map(objects::invoice)
            {
                state.emit("invoice.paid", json, None);
            }
            (None, Some(sub), Some(invoice))
        }
    };
    let pending_payment = match (&payment_intent, &invoice) {
        (Some(pi), _) => Some(pi.clone()),
        (None, Some(invoice)) => find(&state.invoices, invoice).map(|i| i.payment_intent.clone()),
        (None, None) => None,
    };
    if method.is_async()
        && let Some(pi) = pending_payment
    {
        state.settlements.push(Settlement {
            checkout_session: session.id.clone(),
            payment_intent: pi,
            invoice: invoice.clone(),
            succeeds: method == Method::Sepa,
        });
    }
    let Some(stored) = find_mut(&mut state.sessions, id) else {
        return Err(PayError::NotFound);
    };
    stored.status = "complete".into();
    stored.payment_status = if method.is_async() { "unpaid" } else { "paid" }.into();
    stored.customer = Some(customer_id);
    stored.payment_intent = payment_intent;
    stored.subscription = subscription;
    stored.invoice = invoice;
    let json = objects::checkout_session(stored);
    state.emit("checkout.session.completed", json, None);
    Ok(session
        .success_url
        .replace("{CHECKOUT_SESSION_ID}", &session.id))
}

/// The bank answers every pending SEPA debit (at a clock advance).
pub fn settle_pending(state: &mut State) {
    for settlement in std::mem::take(&mut state.settlements) {
        payments::settle(state, &settlement.payment_intent, settlement.succeeds);
        match (&settlement.invoice, settlement.succeeds) {
            (Some(invoice), true) => billing::mark_paid(state, invoice),
            (Some(invoice), false) => billing::first_payment_failed(state, invoice),
            (None, _) => {}
        }
        let Some(session) = find_mut(&mut state.sessions, &settlement.checkout_session) else {
            continue;
        };
        let kind = if settlement.succeeds {
            session.payment_status = "paid".into();
            "checkout.session.async_payment_succeeded"
        } else {
            "checkout.session.async_payment_failed"
        };
        let json = objects::checkout_session(session);
        state.emit(kind, json, None);
    }
}
