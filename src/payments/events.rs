//! Stripe events, reduced to the few facts Obole acts on. Both readings of a verified payload
//! end here: the typed one (async-stripe) and, when that fails, a tolerant one over the JSON.

use std::collections::HashMap;

use serde_json::Value;
use stripe_billing::SubscriptionStatus;
use stripe_checkout::{CheckoutSessionMode, CheckoutSessionPaymentStatus};
use stripe_types::Expandable;
use stripe_webhook::{Event, EventObject, EventType};

use crate::domain::frequency::Frequency;
use crate::domain::money::ReportedCurrency;

/// One verified event: its identity and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeEvent {
    pub id: String,
    pub event_type: EventType,
    pub api_version: Option<String>,
    /// When Stripe created the event: orders updates that arrive out of order.
    pub created: i64,
    pub fact: Fact,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// `checkout.session.completed`, `…async_payment_succeeded`, `…async_payment_failed`, `…expired`.
    Checkout(CheckoutFacts),
    /// `invoice.paid` (`paid: true`) or `invoice.payment_failed`.
    Invoice(InvoiceFacts),
    /// `customer.subscription.created` / `.updated` / `.deleted`.
    Subscription(SubscriptionFacts),
    /// `charge.refunded`.
    Refund(ChargeFacts),
    /// `charge.dispute.created` / `.updated` / `.closed` / `.funds_withdrawn` /
    /// `.funds_reinstated`: each carries the whole dispute as it stands.
    Dispute(DisputeFacts),
    /// Anything else: acknowledged and ignored.
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutFacts {
    pub session_id: String,
    pub mode: CheckoutSessionMode,
    pub payment_status: CheckoutSessionPaymentStatus,
    pub amount_total: Option<i64>,
    pub currency: ReportedCurrency,
    pub customer_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub subscription_id: Option<String>,
    pub metadata: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceFacts {
    pub invoice_id: String,
    pub paid: bool,
    pub subscription_id: Option<String>,
    /// The subscription's metadata (where our pledge id travels).
    pub subscription_metadata: HashMap<String, String>,
    pub amount_paid: i64,
    pub currency: ReportedCurrency,
    pub customer_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub paid_at: Option<i64>,
    /// How often the subscription billed this invoice, from its line's period: what the
    /// donation records, even when the subscription's event of a new interval comes later.
    pub frequency: Option<Frequency>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionFacts {
    pub subscription_id: String,
    pub status: SubscriptionStatus,
    pub deleted: bool,
    pub cancel_at_period_end: bool,
    pub paused: bool,
    /// When a pause ends by itself.
    pub resumes_at: Option<i64>,
    pub amount_cents: Option<i64>,
    /// How often the price bills (`None`: unsaid, or an interval we do not offer).
    pub frequency: Option<Frequency>,
    /// The currency of the price `amount_cents` is in.
    pub currency: ReportedCurrency,
    pub current_period_end: Option<i64>,
    pub customer_id: Option<String>,
    pub metadata: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChargeFacts {
    pub payment_intent_id: Option<String>,
    /// The running total given back of the charge.
    pub amount_refunded: i64,
    pub currency: ReportedCurrency,
    /// The invoice the payment paid, when Stripe was asked ([`super::refunds`]); charges do
    /// not say.
    pub invoice_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DisputeFacts {
    pub dispute_id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    /// The amount disputed (usually the charge's, possibly less).
    pub amount: i64,
    pub currency: ReportedCurrency,
    pub reason: String,
    /// Stripe's `status`, as it spells it (read by [`crate::domain::dispute::DisputeStage`]).
    pub status: String,
    /// When the dispute was opened.
    pub opened_at: i64,
    /// When evidence is due; `None` when the bank allows no response (Stripe says 0).
    pub due_by: Option<i64>,
    /// The invoice the payment paid, when Stripe was asked ([`super::refunds`]).
    pub invoice_id: Option<String>,
}

fn expandable_id<T>(e: &Expandable<T>) -> String
where
    T: stripe_types::Object,
    T::Id: std::fmt::Display,
{
    e.id().to_string()
}

/// A recurring price's interval as a gift's frequency: the one place the two meet.
fn frequency_of(interval: &str) -> Option<Frequency> {
    match interval {
        "month" => Some(Frequency::Monthly),
        "year" => Some(Frequency::Yearly),
        _ => None,
    }
}

/// The frequency a billing period stands for (an invoice line's `period`): about a month or
/// about a year; `None` for anything else (a proration, a trial).
fn frequency_of_period(start: i64, end: i64) -> Option<Frequency> {
    const DAY: i64 = 86_400;
    match (end - start) / DAY {
        27..=32 => Some(Frequency::Monthly),
        360..=367 => Some(Frequency::Yearly),
        _ => None,
    }
}

/// Stripe's currency as ours: the one place the two meet.
fn currency_of(currency: Option<&stripe_types::Currency>) -> ReportedCurrency {
    ReportedCurrency::of(currency.map(ToString::to_string).as_deref())
}

/// The typed reading.
pub fn from_typed(event: Event) -> StripeEvent {
    let event_type = event.type_;
    let fact = match event.data.object {
        EventObject::CheckoutSessionCompleted(s)
        | EventObject::CheckoutSessionAsyncPaymentSucceeded(s)
        | EventObject::CheckoutSessionAsyncPaymentFailed(s)
        | EventObject::CheckoutSessionExpired(s) => Fact::Checkout(CheckoutFacts {
            session_id: s.id.to_string(),
            mode: s.mode,
            payment_status: s.payment_status,
            amount_total: s.amount_total,
            currency: currency_of(s.currency.as_ref()),
            customer_id: s.customer.as_ref().map(expandable_id),
            payment_intent_id: s.payment_intent.as_ref().map(expandable_id),
            subscription_id: s.subscription.as_ref().map(expandable_id),
            metadata: s.metadata.unwrap_or_default(),
        }),
        EventObject::InvoicePaid(invoice) | EventObject::InvoicePaymentFailed(invoice) => {
            let details = invoice
                .parent
                .as_ref()
                .and_then(|p| p.subscription_details.as_ref());
            let subscription_id = details
                .map(|d| expandable_id(&d.subscription))
                .or_else(|| invoice.subscription.as_ref().map(expandable_id));
            let payment_intent_id = invoice.payments.as_ref().and_then(|list| {
                list.data
                    .iter()
                    .find_map(|p| p.payment.payment_intent.as_ref().map(expandable_id))
            });
            Fact::Invoice(InvoiceFacts {
                invoice_id: invoice
                    .id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                paid: event_type == EventType::InvoicePaid,
                subscription_id,
                // A subscription's line items carry its metadata too (older API versions
                // have no `parent`).
                subscription_metadata: details
                    .and_then(|d| d.metadata.clone())
                    .filter(|m| !m.is_empty())
                    .or_else(|| invoice.lines.data.first().map(|l| l.metadata.clone()))
                    .unwrap_or_default(),
                amount_paid: invoice.amount_paid,
                currency: currency_of(Some(&invoice.currency)),
                customer_id: invoice.customer.as_ref().map(expandable_id),
                payment_intent_id,
                paid_at: invoice.status_transitions.paid_at,
                frequency: invoice
                    .lines
                    .data
                    .first()
                    .and_then(|line| frequency_of_period(line.period.start, line.period.end)),
            })
        }
        EventObject::CustomerSubscriptionCreated(sub)
        | EventObject::CustomerSubscriptionUpdated(sub)
        | EventObject::CustomerSubscriptionDeleted(sub) => {
            let item = sub.items.data.first();
            Fact::Subscription(SubscriptionFacts {
                subscription_id: sub.id.to_string(),
                status: sub.status,
                deleted: event_type == EventType::CustomerSubscriptionDeleted,
                cancel_at_period_end: sub.cancel_at_period_end,
                paused: sub.pause_collection.is_some(),
                resumes_at: sub.pause_collection.as_ref().and_then(|p| p.resumes_at),
                amount_cents: item.and_then(|i| i.price.unit_amount),
                frequency: item
                    .and_then(|i| i.price.recurring.as_ref())
                    .and_then(|r| frequency_of(r.interval.as_str())),
                currency: currency_of(item.map(|i| &i.price.currency)),
                current_period_end: item.map(|i| i.current_period_end),
                customer_id: Some(expandable_id(&sub.customer)),
                metadata: sub.metadata,
            })
        }
        EventObject::ChargeRefunded(charge) => Fact::Refund(ChargeFacts {
            payment_intent_id: charge.payment_intent.as_ref().map(expandable_id),
            amount_refunded: charge.amount_refunded,
            currency: currency_of(Some(&charge.currency)),
            invoice_id: None,
        }),
        EventObject::ChargeDisputeCreated(dispute)
        | EventObject::ChargeDisputeUpdated(dispute)
        | EventObject::ChargeDisputeClosed(dispute)
        | EventObject::ChargeDisputeFundsWithdrawn(dispute)
        | EventObject::ChargeDisputeFundsReinstated(dispute) => Fact::Dispute(DisputeFacts {
            dispute_id: dispute.id.to_string(),
            charge_id: Some(expandable_id(&dispute.charge)),
            payment_intent_id: dispute.payment_intent.as_ref().map(expandable_id),
            amount: dispute.amount,
            currency: currency_of(Some(&dispute.currency)),
            reason: dispute.reason.clone(),
            status: dispute.status.as_str().to_owned(),
            opened_at: dispute.created,
            due_by: dispute.evidence_details.due_by.filter(|due| *due > 0),
            invoice_id: None,
        }),
        _ => Fact::Ignored,
    };
    StripeEvent {
        id: event.id.to_string(),
        event_type,
        api_version: event.api_version.map(|v| v.to_string()),
        created: event.created,
        fact,
    }
}

/// The tolerant reading, for a payload whose signature checked out but whose shape the typed
/// client refused (another API version, a field it did not expect). `None` if even the few
/// fields we need are missing.
pub fn from_json(payload: &Value) -> Option<StripeEvent> {
    let id = str_at(payload, &["id"])?;
    let Ok(event_type) = str_at(payload, &["type"])?.parse::<EventType>();
    let object = payload.get("data")?.get("object")?;
    let fact = match event_type {
        EventType::CheckoutSessionCompleted
        | EventType::CheckoutSessionAsyncPaymentSucceeded
        | EventType::CheckoutSessionAsyncPaymentFailed
        | EventType::CheckoutSessionExpired => Fact::Checkout(CheckoutFacts {
            session_id: str_at(object, &["id"])?,
            mode: parsed_at(object, "mode")?,
            payment_status: parsed_at(object, "payment_status")?,
            amount_total: int_at(object, &["amount_total"]),
            currency: currency_at(object),
            customer_id: id_at(object, "customer"),
            payment_intent_id: id_at(object, "payment_intent"),
            subscription_id: id_at(object, "subscription"),
            metadata: map_at(object, &["metadata"]),
        }),
        EventType::InvoicePaid | EventType::InvoicePaymentFailed => {
            let details = object
                .get("parent")
                .and_then(|p| p.get("subscription_details"));
            let subscription_id = details
                .and_then(|d| id_at(d, "subscription"))
                .or_else(|| id_at(object, "subscription"));
            let payment_intent_id = object
                .get("payments")
                .and_then(|p| p.get("data"))
                .and_then(Value::as_array)
                .and_then(|payments| {
                    payments
                        .iter()
                        .find_map(|p| p.get("payment").and_then(|p| id_at(p, "payment_intent")))
                })
                .or_else(|| id_at(object, "payment_intent"));
            Fact::Invoice(InvoiceFacts {
                invoice_id: str_at(object, &["id"])?,
                paid: event_type == EventType::InvoicePaid,
                subscription_id,
                // Older API versions: `subscription_details` at the top, or the metadata the
                // subscription's line items carry.
                subscription_metadata: [
                    details.map(|d| map_at(d, &["metadata"])),
                    Some(map_at(object, &["subscription_details", "metadata"])),
                    object
                        .get("lines")
                        .and_then(|l| l.get("data"))
                        .and_then(|d| d.get(0))
                        .map(|line| map_at(line, &["metadata"])),
                ]
                .into_iter()
                .flatten()
                .find(|m| !m.is_empty())
                .unwrap_or_default(),
                amount_paid: int_at(object, &["amount_paid"]).unwrap_or(0),
                currency: currency_at(object),
                customer_id: id_at(object, "customer"),
                payment_intent_id,
                paid_at: int_at(object, &["status_transitions", "paid_at"]),
                frequency: object
                    .get("lines")
                    .and_then(|l| l.get("data"))
                    .and_then(|d| d.get(0))
                    .and_then(|line| line.get("period"))
                    .and_then(|p| {
                        frequency_of_period(int_at(p, &["start"])?, int_at(p, &["end"])?)
                    }),
            })
        }
        EventType::CustomerSubscriptionCreated
        | EventType::CustomerSubscriptionUpdated
        | EventType::CustomerSubscriptionDeleted => {
            let item = object
                .get("items")
                .and_then(|i| i.get("data"))
                .and_then(|d| d.get(0));
            let price = item.and_then(|i| i.get("price"));
            Fact::Subscription(SubscriptionFacts {
                subscription_id: str_at(object, &["id"])?,
                status: parsed_at(object, "status")?,
                deleted: event_type == EventType::CustomerSubscriptionDeleted,
                cancel_at_period_end: object
                    .get("cancel_at_period_end")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                paused: object.get("pause_collection").is_some_and(|p| !p.is_null()),
                resumes_at: object
                    .get("pause_collection")
                    .and_then(|p| int_at(p, &["resumes_at"])),
                amount_cents: price.and_then(|p| int_at(p, &["unit_amount"])),
                frequency: price
                    .and_then(|p| p.get("recurring"))
                    .and_then(|r| r.get("interval"))
                    .and_then(Value::as_str)
                    .and_then(frequency_of),
                currency: price.map_or(ReportedCurrency::Unsaid, currency_at),
                current_period_end: item
                    .and_then(|i| int_at(i, &["current_period_end"]))
                    .or_else(|| int_at(object, &["current_period_end"])),
                customer_id: id_at(object, "customer"),
                metadata: map_at(object, &["metadata"]),
            })
        }
        EventType::ChargeRefunded => Fact::Refund(ChargeFacts {
            payment_intent_id: id_at(object, "payment_intent"),
            amount_refunded: int_at(object, &["amount_refunded"])?,
            currency: currency_at(object),
            invoice_id: None,
        }),
        EventType::ChargeDisputeCreated
        | EventType::ChargeDisputeUpdated
        | EventType::ChargeDisputeClosed
        | EventType::ChargeDisputeFundsWithdrawn
        | EventType::ChargeDisputeFundsReinstated => Fact::Dispute(DisputeFacts {
            dispute_id: str_at(object, &["id"])?,
            charge_id: id_at(object, "charge"),
            payment_intent_id: id_at(object, "payment_intent"),
            amount: int_at(object, &["amount"])?,
            currency: currency_at(object),
            reason: str_at(object, &["reason"]).unwrap_or_default(),
            status: str_at(object, &["status"])?,
            opened_at: int_at(object, &["created"])
                .or_else(|| int_at(payload, &["created"]))
                .unwrap_or(0),
            due_by: int_at(object, &["evidence_details", "due_by"]).filter(|due| *due > 0),
            invoice_id: None,
        }),
        _ => Fact::Ignored,
    };
    Some(StripeEvent {
        id,
        event_type,
        api_version: str_at(payload, &["api_version"]),
        created: int_at(payload, &["created"]).unwrap_or(0),
        fact,
    })
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn str_at(value: &Value, path: &[&str]) -> Option<String> {
    at(value, path)?.as_str().map(str::to_owned)
}

fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    at(value, path)?.as_i64()
}

/// A string field read into async-stripe's own enum (unknown values included).
fn parsed_at<T: std::str::FromStr<Err = std::convert::Infallible>>(
    value: &Value,
    key: &str,
) -> Option<T> {
    let Ok(parsed) = str_at(value, &[key])?.parse();
    Some(parsed)
}

/// The `currency` field; absent or `null`, the event does not say (older shapes omit it).
fn currency_at(value: &Value) -> ReportedCurrency {
    match value.get("currency") {
        None | Some(Value::Null) => ReportedCurrency::Unsaid,
        Some(Value::String(code)) => ReportedCurrency::of(Some(code)),
        Some(_) => ReportedCurrency::Unreadable,
    }
}

/// An expandable field: an id string, or an object carrying an `id`.
fn id_at(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(id) => Some(id.clone()),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn map_at(value: &Value, path: &[&str]) -> HashMap<String, String> {
    at(value, path)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use serde_json::json;

    #[test]
    fn an_invoice_period_tells_its_frequency() {
        let day = 86_400;
        let jan = 1_767_225_600; // 2026-01-01
        assert_eq!(
            frequency_of_period(jan, jan + 31 * day),
            Some(Frequency::Monthly)
        );
        assert_eq!(
            frequency_of_period(jan, jan + 28 * day),
            Some(Frequency::Monthly)
        );
        assert_eq!(
            frequency_of_period(jan, jan + 365 * day),
            Some(Frequency::Yearly)
        );
        assert_eq!(
            frequency_of_period(jan, jan + 366 * day),
            Some(Frequency::Yearly)
        );
        assert_eq!(
            frequency_of_period(jan, jan),
            None,
            "a one-off invoice item"
        );
        assert_eq!(
            frequency_of_period(jan, jan + 10 * day),
            None,
            "a proration"
        );
    }

    #[test]
    fn reads_an_invoice_of_the_current_api_version() {
        let payload = json!({
            "id": "evt_1", "type": "invoice.paid", "created": 1_700_000_000,
            "data": { "object": {
                "id": "in_1", "amount_paid": 2500, "currency": "eur", "customer": "cus_1",
                "parent": { "type": "subscription_details", "subscription_details": {
                    "subscription": "sub_1", "metadata": { "pledge_id": "7" } } },
                "payments": { "data": [ { "payment": { "type": "payment_intent", "payment_intent": "pi_1" } } ] },
                "status_transitions": { "paid_at": 1_700_000_001 }
            } }
        });
        let event = from_json(&payload).unwrap();
        let Fact::Invoice(invoice) = event.fact else {
            panic!("an invoice")
        };
        assert_eq!(invoice.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(invoice.subscription_metadata["pledge_id"], "7");
        assert_eq!(invoice.payment_intent_id.as_deref(), Some("pi_1"));
        assert!(invoice.paid);
        assert_eq!(invoice.amount_paid, 2500);
        assert_eq!(invoice.currency, ReportedCurrency::Named(Currency::EUR));
    }

    #[test]
    fn a_currency_that_is_no_code_is_unreadable_and_none_is_unsaid() {
        let refund = |currency: Value| {
            let payload = json!({ "id": "evt_6", "type": "charge.refunded", "created": 1,
                "data": { "object": { "id": "ch_6", "amount": 100, "amount_refunded": 100,
                    "currency": currency } } });
            match from_json(&payload).unwrap().fact {
                Fact::Refund(charge) => charge.currency,
                other => panic!("a refund, not {other:?}"),
            }
        };
        let usd = Currency::parse("USD").expect("a code");
        assert_eq!(refund(json!("usd")), ReportedCurrency::Named(usd));
        assert_eq!(refund(json!("euro")), ReportedCurrency::Unreadable);
        assert_eq!(refund(json!(978)), ReportedCurrency::Unreadable);
        assert_eq!(refund(Value::Null), ReportedCurrency::Unsaid);
        let unsaid = json!({ "id": "evt_7", "type": "invoice.paid", "created": 1,
            "data": { "object": { "id": "in_7", "subscription": "sub_7", "amount_paid": 100 } } });
        match from_json(&unsaid).unwrap().fact {
            Fact::Invoice(invoice) => assert_eq!(invoice.currency, ReportedCurrency::Unsaid),
            other => panic!("an invoice, not {other:?}"),
        }
    }

    #[test]
    fn reads_an_older_invoice_shape() {
        let payload = json!({
            "id": "evt_2", "type": "invoice.payment_failed", "created": 1,
            "data": { "object": { "id": "in_2", "subscription": { "id": "sub_9" }, "payment_intent": "pi_9",
                                   "amount_paid": 0, "currency": "eur" } }
        });
        let Fact::Invoice(invoice) = from_json(&payload).unwrap().fact else {
            panic!("an invoice")
        };
        assert_eq!(invoice.subscription_id.as_deref(), Some("sub_9"));
        assert_eq!(invoice.payment_intent_id.as_deref(), Some("pi_9"));
        assert!(!invoice.paid);
    }

    #[test]
    fn finds_the_pledge_of_an_older_invoice_shape() {
        let with = |object: Value| {
            let payload = json!({ "id": "evt_5", "type": "invoice.paid", "created": 1,
                "data": { "object": object } });
            match from_json(&payload).unwrap().fact {
                Fact::Invoice(invoice) => invoice.subscription_metadata,
                other => panic!("an invoice, not {other:?}"),
            }
        };
        let top = with(json!({ "id": "in_5", "subscription": "sub_5",
            "subscription_details": { "metadata": { "pledge_id": "12" } } }));
        assert_eq!(top["pledge_id"], "12");
        let line = with(json!({ "id": "in_6", "subscription": "sub_6",
            "lines": { "data": [ { "metadata": { "pledge_id": "13" } } ] } }));
        assert_eq!(line["pledge_id"], "13");
    }

    #[test]
    fn unknown_types_are_ignored_and_garbage_is_refused() {
        let other = json!({ "id": "evt_3", "type": "customer.created", "data": { "object": {} } });
        assert_eq!(from_json(&other).unwrap().fact, Fact::Ignored);
        assert!(from_json(&json!({ "type": "invoice.paid" })).is_none());
        let incomplete = json!({ "id": "evt_4", "type": "charge.refunded", "data": { "object": { "id": "ch_1" } } });
        assert!(
            from_json(&incomplete).is_none(),
            "a refund without amounts cannot be applied"
        );
    }

    #[test]
    fn reads_a_dispute_whatever_shape_its_charge_and_due_date_take() {
        let dispute = |object: Value| {
            let payload = json!({ "id": "evt_8", "type": "charge.dispute.closed", "created": 50,
                "data": { "object": object } });
            match from_json(&payload).unwrap().fact {
                Fact::Dispute(dispute) => dispute,
                other => panic!("a dispute, not {other:?}"),
            }
        };
        let closed = dispute(json!({ "id": "dp_1", "object": "dispute", "amount": 3000,
            "currency": "eur", "charge": { "id": "ch_1" }, "payment_intent": "pi_1",
            "reason": "fraudulent", "status": "lost", "created": 40,
            "evidence_details": { "due_by": 0 } }));
        assert_eq!(closed.dispute_id, "dp_1");
        assert_eq!(closed.charge_id.as_deref(), Some("ch_1"));
        assert_eq!(closed.payment_intent_id.as_deref(), Some("pi_1"));
        assert_eq!((closed.amount, closed.status.as_str()), (3000, "lost"));
        assert_eq!(closed.currency, ReportedCurrency::Named(Currency::EUR));
        assert_eq!(closed.opened_at, 40);
        assert_eq!(closed.due_by, None, "0: no response allowed");
        let older = dispute(json!({ "id": "dp_2", "amount": 100, "charge": "ch_2",
            "status": "needs_response", "evidence_details": { "due_by": 90 } }));
        assert_eq!(older.payment_intent_id, None);
        assert_eq!((older.opened_at, older.due_by), (50, Some(90)));
        let incomplete = json!({ "id": "evt_9", "type": "charge.dispute.created",
            "data": { "object": { "id": "dp_3", "status": "needs_response" } } });
        assert!(
            from_json(&incomplete).is_none(),
            "no amount, nothing to hold"
        );
    }
}
