//! The sandbox's in-memory records (one struct per Stripe object it keeps) and the event log.
//! Records are self-contained snapshots so `objects` can render them without lookups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::clock::Interval;
use super::delivery::Queue;

pub type Metadata = BTreeMap<String, String>;

/// The Stripe API version the sandbox speaks (the one async-stripe rc.10 is generated for).
pub const API_VERSION: &str = "2026-09-30.endive";

/// A new id with Stripe's prefix, e.g. `cus_3f2a…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Payment,
    Subscription,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Payment => "payment",
            Mode::Subscription => "subscription",
        }
    }
}

/// How a payer pays, chosen on the hosted checkout page; it decides future outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Card,
    /// Pays today; every renewal is declined until the card is replaced.
    CardFailsRenewal,
    /// Settles at the next clock advance.
    Sepa,
    /// Rejected at the next clock advance.
    SepaFails,
}

impl Method {
    pub fn payment_method_type(self) -> &'static str {
        match self {
            Method::Card | Method::CardFailsRenewal => "card",
            Method::Sepa | Method::SepaFails => "sepa_debit",
        }
    }

    pub fn is_async(self) -> bool {
        matches!(self, Method::Sepa | Method::SepaFails)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub created: i64,
    pub expires_at: i64,
    pub mode: Mode,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `paid` or `unpaid`.
    pub payment_status: String,
    pub currency: String,
    pub unit_amount: i64,
    pub quantity: i64,
    pub product_name: String,
    pub interval: Option<Interval>,
    pub customer_email: Option<String>,
    pub metadata: Metadata,
    pub payment_intent_metadata: Metadata,
    pub subscription_metadata: Metadata,
    pub submit_type: Option<String>,
    pub payment_method_types: Vec<String>,
    pub success_url: String,
    pub cancel_url: Option<String>,
    pub client_reference_id: Option<String>,
    pub url: String,
    pub customer: Option<String>,
    pub payment_intent: Option<String>,
    pub subscription: Option<String>,
    pub invoice: Option<String>,
}

impl CheckoutSession {
    pub fn amount_total(&self) -> i64 {
        self.unit_amount * self.quantity
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub created: i64,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A recurring price and its product (inline `price_data`, so one price per change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub id: String,
    pub created: i64,
    pub product: String,
    pub product_name: String,
    pub unit_amount: i64,
    pub currency: String,
    pub interval: Interval,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub created: i64,
    pub customer: String,
    /// `active`, `past_due`, `canceled`.
    pub status: String,
    pub item_id: String,
    pub price: Price,
    pub quantity: i64,
    pub billing_cycle_anchor: i64,
    /// Which period is current (1 = the first); its bounds derive from the anchor.
    pub period: i64,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    /// `pause_collection[behavior]=void` is set.
    pub paused: bool,
    /// `pause_collection[resumes_at]`: when collection resumes by itself. Only while paused;
    /// absent from files saved before it existed.
    #[serde(default)]
    pub pause_resumes_at: Option<i64>,
    /// When cancellation was asked for (now, or when `cancel_at_period_end` was set), or
    /// when the last failed retry ended it.
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `cancellation_requested` (asked for, now or at period end) or `payment_failed`.
    pub cancellation_reason: Option<String>,
    /// `cancellation_details[comment]`, free text from the customer.
    #[serde(default)]
    pub cancellation_comment: Option<String>,
    #[serde(default)]
    pub cancellation_feedback: Option<CancellationFeedback>,
    pub metadata: Metadata,
    pub latest_invoice: Option<String>,
    pub method: Method,
}

impl Subscription {
    pub fn amount(&self) -> i64 {
        self.price.unit_amount * self.quantity
    }
}

/// Why the customer says they canceled: `cancellation_details[feedback]`, one of Stripe's
/// fixed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationFeedback {
    CustomerService,
    LowQuality,
    MissingFeatures,
    Other,
    SwitchedService,
    TooComplex,
    TooExpensive,
    Unused,
}

impl CancellationFeedback {
    pub const ALL: [CancellationFeedback; 8] = [
        CancellationFeedback::CustomerService,
        CancellationFeedback::LowQuality,
        CancellationFeedback::MissingFeatures,
        CancellationFeedback::Other,
        CancellationFeedback::SwitchedService,
        CancellationFeedback::TooComplex,
        CancellationFeedback::TooExpensive,
        CancellationFeedback::Unused,
    ];

    pub fn parse(text: &str) -> Option<CancellationFeedback> {
        CancellationFeedback::ALL
            .into_iter()
            .find(|feedback| feedback.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CancellationFeedback::CustomerService => "customer_service",
            CancellationFeedback::LowQuality => "low_quality",
            CancellationFeedback::MissingFeatures => "missing_features",
            CancellationFeedback::Other => "other",
            CancellationFeedback::SwitchedService => "switched_service",
            CancellationFeedback::TooComplex => "too_complex",
            CancellationFeedback::TooExpensive => "too_expensive",
            CancellationFeedback::Unused => "unused",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub customer_email: Option<String>,
    pub subscription: String,
    /// The subscription's metadata when the invoice was made (`parent.subscription_details`).
    pub subscription_metadata: Metadata,
    pub amount: i64,
    pub currency: String,
    /// `open` or `paid` (`void` when its subscription was abandoned).
    pub status: String,
    pub billing_reason: String,
    pub period_start: i64,
    pub period_end: i64,
    pub line_id: String,
    pub subscription_item: String,
    pub line_period: (i64, i64),
    pub price: Price,
    pub quantity: i64,
    pub payment_intent: String,
    pub payment_id: String,
    pub attempt_count: i64,
    /// When a failed renewal will be tried again; `None` when paid or given up.
    pub next_payment_attempt: Option<i64>,
    pub paid_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub metadata: Metadata,
    /// `succeeded`, `processing`, `requires_payment_method`.
    pub status: String,
    pub method: Method,
    pub latest_charge: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    pub id: String,
    pub created: i64,
    pub payment_intent: String,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub metadata: Metadata,
    /// `succeeded`, `pending`, `failed`.
    pub status: String,
    pub method: Method,
    pub failure: Option<(String, String)>,
    /// A dispute was opened on it (Stripe's `disputed`); absent from older files.
    #[serde(default)]
    pub disputed: bool,
}

impl Charge {
    pub fn refunded(&self) -> bool {
        self.amount_refunded >= self.amount
    }

    /// What can still be refunded, in cents.
    pub fn refundable(&self) -> i64 {
        self.amount - self.amount_refunded
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub created: i64,
    pub amount: i64,
    pub currency: String,
    pub charge: String,
    pub payment_intent: String,
    pub reason: Option<String>,
    pub metadata: Metadata,
}

/// A payer's bank questioning a successful charge (a chargeback): at most one per charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub created: i64,
    pub charge: String,
    pub payment_intent: String,
    pub amount: i64,
    pub currency: String,
    /// One of Stripe's reasons (`fraudulent`, `general`, …).
    pub reason: String,
    /// `needs_response`, `under_review`, `won` or `lost`.
    pub status: String,
    /// `evidence_details.due_by`.
    pub due_by: i64,
    /// How many times evidence was submitted (once, when it is won).
    pub submission_count: u64,
    pub method: Method,
}

impl Dispute {
    /// Whether the bank has not decided yet.
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "needs_response" | "under_review")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSession {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub return_url: Option<String>,
    pub url: String,
}

/// A SEPA debit waiting for the bank: it settles (or bounces) at the next clock advance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    pub checkout_session: String,
    pub payment_intent: String,
    pub invoice: Option<String>,
    pub succeeds: bool,
}

/// Where an event's webhook delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// Generated while automatic delivery was off: kept, never sent.
    Held,
    Queued,
    Delivered {
        attempts: u32,
    },
    Failed {
        attempts: u32,
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: String,
    pub kind: String,
    pub created: i64,
    /// The exact body delivered (and signed).
    pub payload: String,
    pub delivery: Delivery,
}

/// A stored answer to an idempotent request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotentResponse {
    pub request: String,
    pub status: u16,
    pub body: String,
}

/// Everything the sandbox knows; guarded by one mutex, never held across `.await`. Saved
/// whole (`persist`) after each change, except what belongs to this run: the URL it is
/// served under and the delivery queue.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    #[serde(skip)]
    pub public_url: String,
    /// Whom the saved state belongs to ([`crate::SandboxConfig::owner`]); absent from files
    /// saved before it was recorded.
    #[serde(default)]
    pub owner: Option<String>,
    pub clock_offset: i64,
    pub auto_deliver: bool,
    pub sessions: Vec<CheckoutSession>,
    pub customers: Vec<Customer>,
    pub subscriptions: Vec<Subscription>,
    pub invoices: Vec<Invoice>,
    pub payment_intents: Vec<PaymentIntent>,
    pub charges: Vec<Charge>,
    pub refunds: Vec<Refund>,
    /// Absent from files saved before disputes existed.
    #[serde(default)]
    pub disputes: Vec<Dispute>,
    pub portal_sessions: Vec<PortalSession>,
    pub settlements: Vec<Settlement>,
    pub events: Vec<EventRecord>,
    pub idempotency: BTreeMap<String, IdempotentResponse>,
    #[serde(skip)]
    pub queue: Queue,
}

/// Records addressable by their Stripe id.
pub trait Record {
    fn id(&self) -> &str;
}

macro_rules! record {
    ($($t:ty),*) => {$(impl Record for $t { fn id(&self) -> &str { &self.id } })*};
}
record!(
    CheckoutSession,
    Customer,
    Subscription,
    Invoice,
    PaymentIntent,
    Charge,
    Refund,
    Dispute,
    PortalSession,
    EventRecord
);

pub fn find<'a, T: Record>(records: &'a [T], id: &str) -> Option<&'a T> {
    records.iter().find(|r| r.id() == id)
}

pub fn find_mut<'a, T: Record>(records: &'a mut [T], id: &str) -> Option<&'a mut T> {
    records.iter_mut().find(|r| r.id() == id)
}

impl State {
    pub fn new(public_url: String, queue: Queue, owner: Option<String>) -> State {
        State {
            public_url,
            owner,
            clock_offset: 0,
            auto_deliver: true,
            sessions: Vec::new(),
            customers: Vec::new(),
            subscriptions: Vec::new(),
            invoices: Vec::new(),
            payment_intents: Vec::new(),
            charges: Vec::new(),
            refunds: Vec::new(),
            disputes: Vec::new(),
            portal_sessions: Vec::new(),
            settlements: Vec::new(),
            events: Vec::new(),
            idempotency: BTreeMap::new(),
            queue,
        }
    }

    /// Queues again the events whose delivery was queued but not finished when the state was
    /// saved (the server stopped): delivered late, like Stripe after an outage, in order.
    pub fn queue_undelivered(&mut self) {
        for (index, event) in self.events.iter().enumerate() {
            if event.delivery == Delivery::Queued {
                self.queue.push(index, event.payload.clone());
            }
        }
    }

    /// The sandbox clock: real time plus every advance.
    pub fn now(&self) -> i64 {
        crate::clock::now() + self.clock_offset
    }

    /// Records an event (its payload fixed now) and queues its delivery when auto-delivery
    /// is on.
    pub fn emit(&mut self, kind: &'static str, object: Value, previous: Option<Value>) {
        let id = new_id("evt_");
        let created = self.now();
        let mut data = json!({ "object": object });
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        let payload = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": created,
            "data": data,
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        })
        .to_string();
        let delivery = if self.auto_deliver {
            self.queue.push(self.events.len(), payload.clone());
            Delivery::Queued
        } else {
            Delivery::Held
        };
        self.events.push(EventRecord {
            id,
            kind: kind.to_owned(),
            created,
            payload,
            delivery,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_feedback_reads_and_saves_as_stripe_spells_it() {
        for feedback in CancellationFeedback::ALL {
            assert_eq!(
                CancellationFeedback::parse(feedback.as_str()),
                Some(feedback)
            );
            assert_eq!(
                serde_json::to_value(feedback).unwrap(),
                json!(feedback.as_str())
            );
        }
        assert_eq!(CancellationFeedback::parse("bored"), None);
    }
}
