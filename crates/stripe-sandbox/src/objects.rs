//! Stripe objects as JSON, shaped like Stripe's own (see `shared/stripe/*.json`), with every
//! field async-stripe rc.10 requires; the unit tests parse each with the typed client.
//!
//! Over 500 lines because each object is one long `json!` literal, field by field as Stripe
//! shapes it: no logic to split, and one file keeps them comparable with Stripe's.

use serde_json::{Map, Value, json};

use super::state::{
    Charge, CheckoutSession, Customer, Dispute, Invoice, Mode, PaymentIntent, PortalSession, Price,
    Refund, State, Subscription,
};

pub fn checkout_session(s: &CheckoutSession) -> Value {
    let amount = s.amount_total();
    let customer_details = s.customer.as_ref().map(|_| {
        json!({
            "address": null,
            "email": s.customer_email,
            "name": null,
            "phone": null,
            "tax_exempt": "none",
            "tax_ids": [],
        })
    });
    merged(
        json!({
                "id": s.id,
                "object": "checkout.session",
                "after_expiration": null,
                "allow_promotion_codes": null,
                "amount_subtotal": amount,
                "amount_total": amount,
                "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
                "billing_address_collection": null,
                "cancel_url": s.cancel_url,
                "client_reference_id": s.client_reference_id,
                "client_secret": null,
                "consent": null,
                "consent_collection": null,
                "created": s.created,
                "currency": s.currency,
                "custom_fields": [],
                "custom_text": {
                    "after_submit": null,
                    "shipping_address": null,
                    "submit": null,
                    "terms_of_service_acceptance": null,
                },
        }),
        json!({
            "customer": s.customer,
            "customer_creation": if s.mode == Mode::Payment { Some("if_required") } else { None },
            "customer_details": customer_details,
            "customer_email": s.customer_email,
            "discounts": [],
            "expires_at": s.expires_at,
            "invoice": s.invoice,
            "invoice_creation": null,
            "livemode": false,
            "locale": null,
            "metadata": s.metadata,
            "mode": s.mode.as_str(),
            "payment_intent": s.payment_intent,
            "payment_link": null,
            "payment_method_collection": "always",
            "payment_method_options": {},
            "payment_method_types": s.payment_method_types,
            "payment_status": s.payment_status,
            "phone_number_collection": { "enabled": false },
            "recovered_from": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": s.status,
            "submit_type": s.submit_type,
            "subscription": s.subscription,
            "success_url": s.success_url,
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "ui_mode": "hosted_page",
            // Stripe only shows the URL while the session can still be paid.
            "url": if s.status == "open" { Some(&s.url) } else { None },
        }),
    )
}

pub fn customer(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": c.created,
        "currency": "eur",
        "default_source": null,
        "delinquent": false,
        "description": null,
        "email": c.email,
        "invoice_prefix": c.id.trim_start_matches("cus_").get(..8).unwrap_or("SANDBOX").to_uppercase(),
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": null,
            "footer": null,
            "rendering_options": null,
        },
        "livemode": false,
        "metadata": {},
        "name": c.name,
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

pub fn price(p: &Price) -> Value {
    json!({
        "id": p.id,
        "object": "price",
        "active": true,
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "livemode": false,
        "lookup_key": null,
        "metadata": {},
        "nickname": null,
        "product": p.product,
        "recurring": {
            "interval": p.interval.as_str(),
            "interval_count": 1,
            "meter": null,
            "usage_type": "licensed",
            "trial_period_days": null,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": null,
        "transform_quantity": null,
        "type": "recurring",
        "unit_amount": p.unit_amount,
        "unit_amount_decimal": p.unit_amount.to_string(),
    })
}

/// The legacy view of a recurring price that Stripe still puts on subscription items.
fn plan(p: &Price) -> Value {
    json!({
        "id": p.id,
        "object": "plan",
        "active": true,
        "amount": p.unit_amount,
        "amount_decimal": p.unit_amount.to_string(),
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "interval": p.interval.as_str(),
        "interval_count": 1,
        "livemode": false,
        "metadata": {},
        "meter": null,
        "nickname": null,
        "product": p.product,
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": "licensed",
    })
}

/// The subscription's one item; since API version 2025-03-31 its current period lives here
/// rather than on the subscription.
fn subscription_item(s: &Subscription) -> Value {
    json!({
        "id": s.item_id,
        "object": "subscription_item",
        "created": s.created,
        "current_period_start": s.current_period_start,
        "current_period_end": s.current_period_end,
        "discounts": [],
        "metadata": {},
        "plan": plan(&s.price),
        "price": price(&s.price),
        "quantity": s.quantity,
        "subscription": s.id,
        "tax_rates": [],
    })
}

pub fn subscription_items(s: &Subscription) -> Value {
    json!({
        "object": "list",
        "data": [subscription_item(s)],
        "has_more": false,
        "url": format!("/v1/subscription_items?subscription={}", s.id),
    })
}

pub fn pause_collection(s: &Subscription) -> Value {
    if s.paused {
        json!({ "behavior": "void", "resumes_at": s.pause_resumes_at })
    } else {
        Value::Null
    }
}

pub fn cancellation_details(s: &Subscription) -> Value {
    json!({
        "comment": s.cancellation_comment,
        "feedback": s.cancellation_feedback.map(|f| f.as_str()),
        "reason": s.cancellation_reason,
    })
}

pub fn subscription(s: &Subscription) -> Value {
    merged(
        json!({
                "id": s.id,
                "object": "subscription",
                "application": null,
                "application_fee_percent": null,
                "automatic_tax": { "enabled": false, "liability": null, "disabled_reason": null },
                "billing_cycle_anchor": s.billing_cycle_anchor,
                "billing_mode": { "type": "classic" },
                "billing_schedules": [],
                "cancel_at": if s.cancel_at_period_end { Some(s.current_period_end) } else { None },
                "cancel_at_period_end": s.cancel_at_period_end,
                "canceled_at": s.canceled_at,
                "cancellation_details": cancellation_details(s),
                "collection_method": "charge_automatically",
                "created": s.created,
                "currency": s.price.currency,
                "customer": s.customer,
                "days_until_due": null,
                "default_payment_method": null,
                "default_source": null,
                "default_tax_rates": [],
                "description": null,
        }),
        json!({
            "discounts": [],
            "ended_at": s.ended_at,
            "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
            "items": subscription_items(s),
            "latest_invoice": s.latest_invoice,
            "livemode": false,
            "metadata": s.metadata,
            "next_pending_invoice_item_invoice": null,
            "on_behalf_of": null,
            "pause_collection": pause_collection(s),
            "payment_settings": {
                "payment_method_options": null,
                "payment_method_types": null,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "schedule": null,
            "start_date": s.created,
            "status": s.status,
            "test_clock": null,
            "transfer_data": null,
            "trial_end": null,
            "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
            "trial_start": null,
        }),
    )
}

/// What an event's `previous_attributes` holds when an object went from `before` to `after`:
/// each top-level field that changed, with its old value. As Stripe gives them, a hash that
/// changed (`metadata`, `cancellation_details`, `pause_collection`) lists only its changed
/// keys (`{"reason": null}`), whole when it appears or disappears; a list gives its old
/// `data` (`items`). `None` when nothing changed.
pub fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        return None;
    };
    let mut previous = Map::new();
    for (key, new) in after {
        let old = before.get(key).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        let value = match (old, new) {
            (Value::Object(old), Value::Object(_)) if old.get("object") == Some(&json!("list")) => {
                json!({ "data": old.get("data") })
            }
            (Value::Object(old), Value::Object(new)) => {
                let keys = old
                    .keys()
                    .chain(new.keys().filter(|k| !old.contains_key(*k)));
                let changed: Map<String, Value> = keys
                    .filter(|k| old.get(*k) != new.get(*k))
                    .map(|k| (k.clone(), old.get(k).cloned().unwrap_or(Value::Null)))
                    .collect();
                Value::Object(changed)
            }
            _ => old.clone(),
        };
        previous.insert(key.clone(), value);
    }
    (!previous.is_empty()).then_some(Value::Object(previous))
}

/// A Stripe list of `data`, all of it on one page.
pub fn list(data: Vec<Value>, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": false, "url": url })
}

/// The `invoice_payment` that pays an invoice: what `GET /v1/invoice_payments` lists, and what
/// an invoice's `payments` holds when expanded (Stripe leaves that field out of invoices,
/// webhooks included, unless it is asked for).
pub fn invoice_payment(i: &Invoice) -> Value {
    let paid = i.status == "paid";
    json!({
        "id": i.payment_id,
        "object": "invoice_payment",
        "amount_paid": if paid { Some(i.amount) } else { None },
        "amount_requested": i.amount,
        "created": i.created,
        "currency": i.currency,
        "invoice": i.id,
        "is_default": true,
        "livemode": false,
        "payment": { "type": "payment_intent", "payment_intent": i.payment_intent },
        "status": if paid { "paid" } else { "open" },
        "status_transitions": { "canceled_at": null, "paid_at": i.paid_at },
    })
}

pub fn invoice(i: &Invoice) -> Value {
    let paid = i.status == "paid";
    let amount_paid = if paid { i.amount } else { 0 };
    let line = json!({
        "id": i.line_id,
        "object": "line_item",
        "amount": i.amount,
        "currency": i.currency,
        "description": format!("{} × {}", i.quantity, i.price.product_name),
        "discount_amounts": [],
        "discountable": true,
        "discounts": [],
        "invoice": i.id,
        "livemode": false,
        "metadata": i.subscription_metadata,
        "parent": {
            "invoice_item_details": null,
            "subscription_item_details": {
                "invoice_item": null,
                "proration": false,
                "proration_details": { "credited_items": null },
                "subscription": i.subscription,
                "subscription_item": i.subscription_item,
            },
            "type": "subscription_item_details",
        },
        "period": { "start": i.line_period.0, "end": i.line_period.1 },
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": { "price": i.price.id, "product": i.price.product },
            "type": "price_details",
            "unit_amount_decimal": i.price.unit_amount.to_string(),
        },
        "quantity": i.quantity,
        "subtotal": i.amount,
        "taxes": [],
    });
    merged(
        json!({
                "id": i.id,
                "object": "invoice",
                "account_country": "FR",
                "account_name": null,
                "amount_due": i.amount,
                "amount_overpaid": 0,
                "amount_paid": amount_paid,
                "amount_remaining": i.amount - amount_paid,
                "amount_shipping": 0,
                "application": null,
                "attempt_count": i.attempt_count,
                "attempted": i.attempt_count > 0,
                "auto_advance": !paid,
                "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
                "billing_reason": i.billing_reason,
                "collection_method": "charge_automatically",
                "created": i.created,
                "currency": i.currency,
                "customer": i.customer,
                "customer_email": i.customer_email,
                "customer_name": null,
                "default_tax_rates": [],
                "description": null,
                "discounts": [],
                "due_date": null,
                "effective_at": i.created,
                "hosted_invoice_url": null,
        }),
        json!({
            "issuer": { "type": "self" },
            "lines": {
                "object": "list",
                "data": [line],
                "has_more": false,
                "url": format!("/v1/invoices/{}/lines", i.id),
            },
            "livemode": false,
            "metadata": {},
            "next_payment_attempt": i.next_payment_attempt,
            "number": null,
            "parent": {
                "quote_details": null,
                "subscription_details": {
                    "metadata": i.subscription_metadata,
                    "subscription": i.subscription,
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": null,
                "payment_method_options": null,
                "payment_method_types": null,
            },
            "period_end": i.period_end,
            "period_start": i.period_start,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": null,
            "starting_balance": 0,
            "statement_descriptor": null,
            "status": i.status,
            "status_transitions": {
                "finalized_at": i.created,
                "marked_uncollectible_at": null,
                "paid_at": i.paid_at,
                "voided_at": null,
            },
            // Older API versions' place for the subscription; Obole reads `parent` first.
            "subscription": i.subscription,
            "subtotal": i.amount,
            "subtotal_excluding_tax": i.amount,
            "test_clock": null,
            "total": i.amount,
            "total_discount_amounts": [],
            "total_excluding_tax": i.amount,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": null,
        }),
    )
}

pub fn charge(c: &Charge, refunds: &[Refund]) -> Value {
    let refunds: Vec<Value> = refunds
        .iter()
        .filter(|r| r.charge == c.id)
        .map(refund)
        .collect();
    let captured = c.status == "succeeded";
    merged(
        json!({
                "id": c.id,
                "object": "charge",
                "amount": c.amount,
                "amount_captured": if captured { c.amount } else { 0 },
                "amount_refunded": c.amount_refunded,
                "application": null,
                "application_fee": null,
                "application_fee_amount": null,
                "balance_transaction": null,
                "billing_details": {
                    "address": null,
                    "email": null,
                    "name": null,
                    "phone": null,
                    "tax_id": null,
                },
                "calculated_statement_descriptor": null,
                "captured": captured,
                "created": c.created,
                "currency": c.currency,
                "customer": c.customer,
                "description": null,
                "disputed": c.disputed,
        }),
        json!({
            "failure_balance_transaction": null,
            "failure_code": c.failure.as_ref().map(|(code, _)| code),
            "failure_message": c.failure.as_ref().map(|(_, message)| message),
            "fraud_details": {},
            "livemode": false,
            "metadata": c.metadata,
            "on_behalf_of": null,
            "outcome": null,
            "paid": captured,
            "payment_intent": c.payment_intent,
            "payment_method": null,
            "payment_method_details": { "type": c.method.payment_method_type() },
            "receipt_email": null,
            "receipt_number": null,
            "receipt_url": null,
            "refunded": c.refunded(),
            "refunds": {
                "object": "list",
                "data": refunds,
                "has_more": false,
                "url": format!("/v1/charges/{}/refunds", c.id),
            },
            "review": null,
            "shipping": null,
            "source_transfer": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": c.status,
            "transfer_data": null,
            "transfer_group": null,
        }),
    )
}

/// A PaymentIntent, as a list expands it (`expand[]=data.payment_intent`): created when its
/// charge was made (or with its checkout session before that), the method it was paid with.
pub fn payment_intent(p: &PaymentIntent, state: &State, session_created: i64) -> Value {
    let charge = p
        .latest_charge
        .as_deref()
        .and_then(|id| state.charges.iter().find(|c| c.id == id));
    json!({
        "id": p.id,
        "object": "payment_intent",
        "amount": p.amount,
        "amount_received": if p.status == "succeeded" { p.amount } else { 0 },
        "created": charge.map_or(session_created, |c| c.created),
        "currency": p.currency,
        "customer": p.customer,
        "latest_charge": p.latest_charge,
        "livemode": false,
        "metadata": p.metadata,
        "payment_method_types": [p.method.payment_method_type()],
        "status": p.status,
    })
}

pub fn refund(r: &Refund) -> Value {
    json!({
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": null,
        "charge": r.charge,
        "created": r.created,
        "currency": r.currency,
        "destination_details": null,
        "metadata": r.metadata,
        "payment_intent": r.payment_intent,
        "reason": r.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}

/// The evidence a dispute's answer may carry: none here (the sandbox decides by itself).
const EVIDENCE_FIELDS: [&str; 27] = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

pub fn dispute(d: &Dispute) -> Value {
    let mut evidence: Map<String, Value> = EVIDENCE_FIELDS
        .iter()
        .map(|field| ((*field).to_owned(), Value::Null))
        .collect();
    evidence.insert("enhanced_evidence".to_owned(), json!({}));
    let payment_method_details = match d.method.payment_method_type() {
        "card" => json!({
            "type": "card",
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network": "visa",
                "network_reason_code": null,
            },
        }),
        _ => Value::Null,
    };
    json!({
        "id": d.id,
        "object": "dispute",
        "amount": d.amount,
        "balance_transactions": [],
        "charge": d.charge,
        "created": d.created,
        "currency": d.currency,
        "enhanced_eligibility_types": [],
        "evidence": evidence,
        "evidence_details": {
            "due_by": d.due_by,
            "enhanced_eligibility": {},
            "has_evidence": d.submission_count > 0,
            "past_due": false,
            "submission_count": d.submission_count,
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "network_reason_code": null,
        "payment_intent": d.payment_intent,
        "payment_method_details": payment_method_details,
        "reason": d.reason,
        "status": d.status,
    })
}

pub fn portal_session(p: &PortalSession) -> Value {
    json!({
        "id": p.id,
        "object": "billing_portal.session",
        "configuration": "bpc_sandbox",
        "created": p.created,
        "customer": p.customer,
        "flow": null,
        "livemode": false,
        "locale": null,
        "on_behalf_of": null,
        "return_url": p.return_url,
        "url": p.url,
    })
}

/// Joins two halves of a large object (one `json!` of 60 keys exceeds the macro's recursion
/// limit).
fn merged(mut first: Value, second: Value) -> Value {
    if let (Value::Object(first), Value::Object(second)) = (&mut first, second) {
        first.extend(second);
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scenario;

    fn parses<T: miniserde::Deserialize>(what: &str, json: &Value) {
        if let Err(e) = miniserde::json::from_str::<T>(&json.to_string()) {
            panic!("{what} does not parse with async-stripe: {e:?}\n{json:#}");
        }
    }

    /// Each object the API returns or an event carries, through the rc.10 typed client.
    #[tokio::test]
    async fn every_object_parses_with_the_typed_client() {
        let sandbox = scenario().await;
        let state = sandbox.lock();
        for s in &state.sessions {
            parses::<stripe_checkout::CheckoutSession>("session", &checkout_session(s));
        }
        for c in &state.customers {
            parses::<stripe_core::Customer>("customer", &customer(c));
        }
        for s in &state.subscriptions {
            parses::<stripe_billing::Subscription>("subscription", &subscription(s));
        }
        for i in &state.invoices {
            parses::<stripe_billing::Invoice>("invoice", &invoice(i));
        }
        for c in &state.charges {
            parses::<stripe_core::Charge>("charge", &charge(c, &state.refunds));
        }
        for r in &state.refunds {
            parses::<stripe_core::Refund>("refund", &refund(r));
        }
        for d in &state.disputes {
            parses::<stripe_core::Dispute>("dispute", &dispute(d));
        }
        for p in &state.portal_sessions {
            parses::<stripe_billing::BillingPortalSession>("portal", &portal_session(p));
        }
        for i in &state.invoices {
            parses::<stripe_billing::InvoicePayment>("invoice payment", &invoice_payment(i));
        }
        for e in &state.events {
            let json: Value = serde_json::from_str(&e.payload).expect("json");
            parses::<stripe_core::Event>("event", &json);
        }
        assert!(!state.refunds.is_empty() && !state.portal_sessions.is_empty());
        assert!(state.disputes.len() >= 2, "a dispute won and one lost");
        assert!(state.invoices.iter().any(|i| i.status == "open"));
    }

    #[test]
    fn previous_attributes_name_what_changed_the_way_stripe_does() {
        let before = json!({
            "status": "active",
            "cancel_at": null,
            "cancellation_details": { "comment": null, "feedback": null, "reason": null },
            "metadata": { "kept": "1", "gone": "2", "changed": "3" },
            "pause_collection": { "behavior": "void", "resumes_at": 1000 },
            "items": { "object": "list", "data": [{ "id": "si_1", "price": 1 }], "url": "/x" },
        });
        let after = json!({
            "status": "active",
            "cancel_at": 2000,
            "cancellation_details": { "comment": null, "feedback": null, "reason": "cancellation_requested" },
            "metadata": { "kept": "1", "changed": "4", "new": "5" },
            "pause_collection": null,
            "items": { "object": "list", "data": [{ "id": "si_1", "price": 2 }], "url": "/x" },
        });
        assert_eq!(
            previous_attributes(&before, &after),
            Some(json!({
                "cancel_at": null,
                "cancellation_details": { "reason": null },
                "metadata": { "gone": "2", "changed": "3", "new": null },
                "pause_collection": { "behavior": "void", "resumes_at": 1000 },
                "items": { "data": [{ "id": "si_1", "price": 1 }] },
            }))
        );
        let paused = json!({ "pause_collection": { "behavior": "void", "resumes_at": null } });
        let until = json!({ "pause_collection": { "behavior": "void", "resumes_at": 1000 } });
        assert_eq!(
            previous_attributes(&paused, &until),
            Some(json!({ "pause_collection": { "resumes_at": null } })),
            "only the changed key of a hash that stays"
        );
        assert_eq!(previous_attributes(&before, &before), None);
    }

    #[tokio::test]
    async fn invoices_name_their_subscription_both_ways() {
        let sandbox = scenario().await;
        let state = sandbox.lock();
        let json = invoice(&state.invoices[0]);
        let sub = &state.invoices[0].subscription;
        assert_eq!(json["parent"]["subscription_details"]["subscription"], *sub);
        assert_eq!(json["subscription"], *sub);
        assert_eq!(
            json["parent"]["subscription_details"]["metadata"]["donation_id"],
            "7"
        );
        assert!(
            json.get("payments").is_none(),
            "like Stripe: only when expanded"
        );
        assert_eq!(
            invoice_payment(&state.invoices[0])["payment"]["payment_intent"],
            state.invoices[0].payment_intent.as_str()
        );
        let parsed: stripe_billing::Invoice =
            miniserde::json::from_str(&json.to_string()).expect("typed");
        let details = parsed
            .parent
            .and_then(|p| p.subscription_details)
            .expect("parent");
        assert_eq!(details.subscription.id().as_str(), sub);
    }
}
