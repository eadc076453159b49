//! The Stripe sandbox served over real HTTP and driven by the real async-stripe client, with
//! a stand-in webhook receiver that verifies every delivery's signature.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::invoice_payment::{
    ListInvoicePayment, ListInvoicePaymentPayment, ListInvoicePaymentPaymentType,
};
use stripe_billing::subscription::{
    CancelSubscription, CancelSubscriptionCancellationDetails,
    CancelSubscriptionCancellationDetailsFeedback, RetrieveSubscription, UpdateSubscription,
    UpdateSubscriptionCancellationDetails, UpdateSubscriptionCancellationDetailsFeedback,
    UpdateSubscriptionItems, UpdateSubscriptionItemsPriceData,
    UpdateSubscriptionItemsPriceDataRecurring, UpdateSubscriptionItemsPriceDataRecurringInterval,
    UpdateSubscriptionPauseCollection, UpdateSubscriptionPauseCollectionBehavior,
    UpdateSubscriptionProrationBehavior,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes as Pmt,
    CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionLineItemsPriceDataRecurring,
    CreateCheckoutSessionLineItemsPriceDataRecurringInterval,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionSubscriptionData,
    ExpireCheckoutSession, ProductData, RetrieveCheckoutSession,
};
use stripe_checkout::{CheckoutSessionMode, CheckoutSessionSubmitType};
use stripe_core::refund::CreateRefund;
use stripe_sandbox::{Sandbox, SandboxConfig};
use stripe_types::Currency;

const SECRET: &str = "whsec_sandbox_tests";
const DAY: i64 = 86_400;

/// What the stand-in receiver got: each verified event's JSON, in arrival order.
#[derive(Clone, Default)]
struct Receiver {
    events: Arc<Mutex<Vec<Value>>>,
    /// Answer 500 to this many deliveries first (to exercise retries).
    fail_next: Arc<AtomicUsize>,
    rejected: Arc<AtomicUsize>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if stripe_webhook::Webhook::construct_event(&body, signature, SECRET).is_err() {
        receiver.rejected.fetch_add(1, Ordering::SeqCst);
        return StatusCode::BAD_REQUEST;
    }
    if receiver
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver
        .events
        .lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    StatusCode::OK
}

struct TestSandbox {
    sandbox: Sandbox,
    /// `http://127.0.0.1:port`
    origin: String,
    receiver: Receiver,
    stripe: stripe::Client,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn spawn() -> TestSandbox {
    spawn_keeping(None, true).await
}

/// A sandbox that keeps its state in `state_file` (and starts from it, if there is one);
/// without `receiving`, its webhooks go to a closed port and are never delivered.
async fn spawn_keeping(state_file: Option<PathBuf>, receiving: bool) -> TestSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let webhook_url = if receiving {
        format!("{origin}/webhooks/stripe")
    } else {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/webhooks/stripe", closed.local_addr().unwrap())
    };
    let sandbox = Sandbox::new(SandboxConfig {
        public_url: format!("{origin}/sandbox"),
        webhook_url,
        webhook_secret: SECRET.into(),
        secret_key: "sk_test_sandbox".into(),
        state_file,
        owner: Some("ledger-of-these-tests".to_owned()),
    })
    .unwrap();
    let receiver = Receiver::default();
    let app = Router::new()
        .route("/webhooks/stripe", post(receive))
        .with_state(receiver.clone())
        .nest("/sandbox", sandbox.router());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stripe = stripe::ClientBuilder::new("sk_test_sandbox")
        .url(sandbox.api_base())
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestSandbox {
        sandbox,
        origin,
        receiver,
        stripe,
        http,
        server,
    }
}

impl TestSandbox {
    /// Event types the receiver got so far, after waiting for pending deliveries.
    async fn received(&self) -> Vec<Value> {
        self.sandbox.wait_for_deliveries().await;
        self.receiver.events.lock().unwrap().clone()
    }

    async fn received_types(&self) -> Vec<String> {
        types(&self.received().await)
    }

    /// Received events since the `skip` first ones.
    async fn received_after(&self, skip: usize) -> Vec<Value> {
        self.received().await.into_iter().skip(skip).collect()
    }

    /// Clicks a button of the hosted checkout page.
    async fn pay(&self, session_url: &str, outcome: &str) -> reqwest::Response {
        self.http
            .post(session_url)
            .form(&[("outcome", outcome)])
            .send()
            .await
            .unwrap()
    }
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

fn metadata() -> HashMap<String, String> {
    HashMap::from([("donation_id".to_owned(), "42".to_owned())])
}

/// A donation session as Obole creates it: inline price, metadata, card and SEPA, coming
/// back to the site at `origin` (the sandbox refuses any other).
fn session_request(origin: &str, amount: i64, recurring: bool) -> CreateCheckoutSession {
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(Currency::EUR);
    price.unit_amount = Some(amount);
    price.product_data = Some(ProductData::new("Don à l'association"));
    let mut item = CreateCheckoutSessionLineItems::new();
    item.quantity = Some(1);
    let request = CreateCheckoutSession::new()
        .customer_email("marie@example.fr")
        .metadata(metadata())
        .allowed_payment_method_types(vec![Pmt::Card, Pmt::SepaDebit])
        .success_url(format!("{origin}/merci?session_id={{CHECKOUT_SESSION_ID}}"))
        .cancel_url(format!("{origin}/don"));
    if recurring {
        price.recurring = Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(
            CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Month,
        ));
        item.price_data = Some(price);
        let mut data = CreateCheckoutSessionSubscriptionData::new();
        data.metadata = Some(metadata());
        request
            .mode(CheckoutSessionMode::Subscription)
            .line_items(vec![item])
            .subscription_data(data)
    } else {
        item.price_data = Some(price);
        let mut data = CreateCheckoutSessionPaymentIntentData::new();
        data.metadata = Some(metadata());
        request
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .payment_intent_data(data)
            .submit_type(CheckoutSessionSubmitType::Donate)
    }
}

/// Creates a session and pays it; returns the session id.
async fn paid_session(t: &TestSandbox, amount: i64, recurring: bool, outcome: &str) -> String {
    let session = session_request(&t.origin, amount, recurring)
        .send(&t.stripe)
        .await
        .unwrap();
    let response = t.pay(session.url.as_deref().unwrap(), outcome).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{outcome}");
    session.id.as_str().to_owned()
}

fn stripe_error(
    result: Result<impl std::fmt::Debug, StripeError>,
) -> (u16, String, Option<String>) {
    match result {
        Err(StripeError::Stripe(error, status)) => {
            (status, error.type_.as_str().to_owned(), error.param.clone())
        }
        other => panic!("expected a Stripe error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_one_off_gift_is_idempotent_and_paid_by_card_on_the_hosted_page() {
    let t = spawn().await;
    let request = session_request(&t.origin, 3000, false);
    let key = || RequestStrategy::Idempotent(IdempotencyKey::new("pledge-1").unwrap());
    let first = request
        .customize()
        .request_strategy(key())
        .send(&t.stripe)
        .await
        .unwrap();
    let again = request
        .customize()
        .request_strategy(key())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(first.amount_total, Some(3000));
    assert_eq!(first.payment_status.as_str(), "unpaid");
    let url = first.url.clone().unwrap();
    assert_eq!(
        url,
        format!("{}/sandbox/checkout/{}", t.origin, first.id.as_str())
    );
    let other = session_request(&t.origin, 5000, false)
        .customize()
        .request_strategy(key())
        .send(&t.stripe)
        .await;
    assert_eq!(stripe_error(other).1, "idempotency_error");

    let page = t.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("30\u{a0}€"), "{html}");
    assert!(html.contains("ma…@example.fr"), "the email in part: {html}");
    assert!(!html.contains("marie@example.fr"));
    assert!(html.contains("value=\"sepa\""));
    assert!(!html.contains("value=\"card_renewal_fails\""));

    let paid = t.pay(&url, "card").await;
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers()["location"],
        format!("{}/merci?session_id={}", t.origin, first.id.as_str()).as_str()
    );
    let events = t.received().await;
    assert_eq!(types(&events), ["checkout.session.completed"]);
    let session = &events[0]["data"]["object"];
    assert_eq!(session["metadata"]["donation_id"], "42");
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(t.receiver.rejected.load(Ordering::SeqCst), 0);

    let retrieved = RetrieveCheckoutSession::new(first.id.clone())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(retrieved.status.unwrap().as_str(), "complete");
    assert!(retrieved.payment_intent.is_some());
    // A completed session cannot be paid twice.
    assert_eq!(t.pay(&url, "card").await.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_declined_card_leaves_the_session_open() {
    let t = spawn().await;
    let session = session_request(&t.origin, 1250, false)
        .send(&t.stripe)
        .await
        .unwrap();
    let response = t
        .pay(session.url.as_deref().unwrap(), "card_declined")
        .await;
    assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
    let html = response.text().await.unwrap();
    assert!(html.contains("Votre carte a été refusée. Essayez un autre moyen de paiement."));
    assert!(html.contains("12,50\u{a0}€"));
    let retrieved = RetrieveCheckoutSession::new(session.id.clone())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(retrieved.status.unwrap().as_str(), "open");
    assert!(t.received().await.is_empty());
    assert!(t.sandbox.events().is_empty());

    let expired = ExpireCheckoutSession::new(session.id.clone())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(expired.status.unwrap().as_str(), "expired");
    assert_eq!(t.received_types().await, ["checkout.session.expired"]);
    let page = t
        .http
        .get(session.url.unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("plus disponible"));
}

#[tokio::test]
async fn a_monthly_gift_renews_when_the_clock_moves() {
    let t = spawn().await;
    paid_session(&t, 1500, true, "card").await;
    let events = t.received().await;
    assert_eq!(
        types(&events),
        [
            "customer.subscription.created",
            "invoice.paid",
            "checkout.session.completed"
        ]
    );
    let sub_id = events[0]["data"]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(events[0]["data"]["object"]["metadata"]["donation_id"], "42");
    assert_eq!(
        events[1]["data"]["object"]["billing_reason"],
        "subscription_create"
    );
    let completed = &events[2]["data"]["object"];
    assert_eq!(completed["subscription"], sub_id.as_str());
    assert_eq!(completed["invoice"], events[1]["data"]["object"]["id"]);

    t.sandbox.advance_clock(32 * DAY).await;
    let renewal = t.received_after(3).await;
    assert_eq!(
        types(&renewal),
        ["invoice.paid", "customer.subscription.updated"],
        "the renewal, then the new period"
    );
    let invoice = &renewal[0]["data"]["object"];
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    assert_eq!(invoice["amount_paid"], 1500);
    assert_eq!(
        invoice["parent"]["subscription_details"]["subscription"],
        sub_id.as_str()
    );
    assert_eq!(
        invoice["parent"]["subscription_details"]["metadata"]["donation_id"],
        "42"
    );
    assert!(
        invoice.get("payments").is_none(),
        "as at Stripe, an invoice's payments are only sent when expanded"
    );
    let invoice_id = invoice["id"].as_str().unwrap();
    let expanded: Value = t
        .http
        .get(format!(
            "{}/sandbox/stripe/v1/invoices/{invoice_id}?expand[]=payments",
            t.origin
        ))
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payment_intent = expanded["payments"]["data"][0]["payment"]["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned();
    // Which invoice did this payment pay? What Obole asks when the payment is refunded.
    let mut by_payment =
        ListInvoicePaymentPayment::new(ListInvoicePaymentPaymentType::PaymentIntent);
    by_payment.payment_intent = Some(payment_intent.clone());
    let listed = ListInvoicePayment::new()
        .payment(by_payment)
        .limit(1)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(
        listed.data[0].invoice.id().as_ref().map(|id| id.as_str()),
        Some(invoice_id)
    );
    let mut unknown = ListInvoicePaymentPayment::new(ListInvoicePaymentPaymentType::PaymentIntent);
    unknown.payment_intent = Some("pi_unknown".to_owned());
    let none = ListInvoicePayment::new()
        .payment(unknown)
        .send(&t.stripe)
        .await
        .unwrap();
    assert!(none.data.is_empty());

    let sub = RetrieveSubscription::new(sub_id.as_str())
        .send(&t.stripe)
        .await
        .unwrap();
    let item = &sub.items.data[0];
    assert!(item.current_period_start > sub.created);
    assert!(item.current_period_end > t.sandbox.now());
    assert_eq!(sub.status.as_str(), "active");
}

#[tokio::test]
async fn a_failing_renewal_is_recovered_by_replacing_the_card_in_the_portal() {
    let t = spawn().await;
    paid_session(&t, 1000, true, "card_renewal_fails").await;
    let events = t.received().await;
    let sub_id = events[0]["data"]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = events[0]["data"]["object"]["customer"]
        .as_str()
        .unwrap()
        .to_owned();
    t.sandbox.advance_clock(32 * DAY).await;
    let failed = t.received_after(3).await;
    assert_eq!(
        types(&failed),
        ["invoice.payment_failed", "customer.subscription.updated"]
    );
    assert_eq!(failed[0]["data"]["object"]["status"], "open");
    assert_eq!(failed[1]["data"]["object"]["status"], "past_due");
    assert_eq!(failed[1]["data"]["previous_attributes"]["status"], "active");

    let portal = CreateBillingPortalSession::new()
        .customer(customer)
        .return_url(format!("{}/espace", t.origin))
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(
        portal.url,
        format!("{}/sandbox/portal/{}", t.origin, portal.id.as_str())
    );
    let page = t.http.get(&portal.url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("paiement en retard"), "{html}");
    assert!(html.contains(&format!("{}/espace", t.origin)));
    let replaced = t
        .http
        .post(format!(
            "{}/subscriptions/{sub_id}/replace_card",
            portal.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::SEE_OTHER);
    let recovered = t.received_after(5).await;
    assert_eq!(
        types(&recovered),
        ["invoice.paid", "customer.subscription.updated"]
    );
    assert_eq!(recovered[1]["data"]["object"]["status"], "active");

    t.sandbox.advance_clock(31 * DAY).await;
    assert_eq!(
        types(&t.received_after(7).await),
        ["invoice.paid", "customer.subscription.updated"]
    );
}

#[tokio::test]
async fn a_failing_renewal_is_retried_three_times_then_the_subscription_is_canceled() {
    let t = spawn().await;
    paid_session(&t, 1000, true, "card_renewal_fails").await;
    t.sandbox.advance_clock(32 * DAY).await;
    let failed = t.received_after(3).await;
    assert_eq!(
        types(&failed),
        ["invoice.payment_failed", "customer.subscription.updated"]
    );
    let invoice = &failed[0]["data"]["object"];
    assert_eq!(invoice["attempt_count"], 1);
    // Read against the invoice's own time: the wall clock may tick a second before `now()`.
    let failed_at = invoice["created"].as_i64().unwrap();
    let now = t.sandbox.now();
    assert!(
        (now - 2..=now).contains(&failed_at),
        "failed at the clock's time"
    );
    assert_eq!(
        invoice["next_payment_attempt"].as_i64(),
        Some(failed_at + 3 * DAY),
        "the first retry comes three days later"
    );

    t.sandbox.advance_clock(2 * DAY).await;
    assert!(
        t.received_after(5).await.is_empty(),
        "no retry before it is due"
    );

    t.sandbox.advance_clock(20 * DAY).await;
    let retries = t.received_after(5).await;
    assert_eq!(
        types(&retries),
        [
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "customer.subscription.deleted",
        ]
    );
    let attempts: Vec<_> = retries[..3]
        .iter()
        .map(|e| e["data"]["object"]["attempt_count"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [2, 3, 4]);
    assert!(retries[1]["data"]["object"]["next_payment_attempt"].is_i64());
    assert!(retries[2]["data"]["object"]["next_payment_attempt"].is_null());
    let ended = &retries[3]["data"]["object"];
    assert_eq!(ended["status"], "canceled");
    assert_eq!(ended["cancellation_details"]["reason"], "payment_failed");

    t.sandbox.advance_clock(60 * DAY).await;
    assert!(
        t.received_after(9).await.is_empty(),
        "a canceled subscription is neither retried nor renewed"
    );
}

#[tokio::test]
async fn sepa_debits_settle_or_bounce_at_the_next_clock_advance() {
    let t = spawn().await;
    paid_session(&t, 2000, false, "sepa").await;
    paid_session(&t, 2000, false, "sepa_fails").await;
    paid_session(&t, 2000, true, "sepa_fails").await;
    let events = t.received().await;
    assert_eq!(
        types(&events),
        [
            "checkout.session.completed",
            "checkout.session.completed",
            "customer.subscription.created",
            "checkout.session.completed",
        ]
    );
    assert_eq!(events[0]["data"]["object"]["payment_status"], "unpaid");
    t.sandbox.advance_clock(DAY).await;
    let settled = t.received_after(4).await;
    assert_eq!(
        types(&settled),
        [
            "checkout.session.async_payment_succeeded",
            "checkout.session.async_payment_failed",
            "invoice.payment_failed",
            "customer.subscription.deleted",
            "checkout.session.async_payment_failed",
        ]
    );
    assert_eq!(settled[0]["data"]["object"]["payment_status"], "paid");
    assert_eq!(
        settled[0]["data"]["object"]["metadata"]["donation_id"],
        "42"
    );

    // A SEPA subscription that settles: its first invoice is paid at settlement.
    paid_session(&t, 900, true, "sepa").await;
    t.sandbox.advance_clock(DAY).await;
    let later = t.received_after(9).await;
    assert_eq!(
        types(&later),
        [
            "customer.subscription.created",
            "checkout.session.completed",
            "invoice.paid",
            "checkout.session.async_payment_succeeded",
        ]
    );
}

#[tokio::test]
async fn refunds_are_partial_then_full_and_never_more_than_paid() {
    let t = spawn().await;
    paid_session(&t, 3000, false, "card").await;
    let completed = t.received().await;
    let pi = completed[0]["data"]["object"]["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund = CreateRefund::new()
        .payment_intent(pi.as_str())
        .amount(1000)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(refund.amount, 1000);
    let rest = CreateRefund::new()
        .payment_intent(pi.as_str())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(rest.amount, 2000);
    let events = t.received_after(1).await;
    assert_eq!(
        types(&events),
        [
            "charge.refunded",
            "refund.created",
            "charge.refunded",
            "refund.created"
        ]
    );
    let partial = &events[0]["data"]["object"];
    assert_eq!(partial["payment_intent"], pi.as_str());
    assert_eq!(partial["amount"], 3000);
    assert_eq!(partial["amount_refunded"], 1000);
    assert_eq!(partial["refunded"], false);
    assert_eq!(partial["currency"], "eur");
    assert_eq!(partial["metadata"]["donation_id"], "42");
    assert_eq!(events[2]["data"]["object"]["amount_refunded"], 3000);
    assert_eq!(events[2]["data"]["object"]["refunded"], true);
    let (status, kind, _) = stripe_error(
        CreateRefund::new()
            .payment_intent(pi.as_str())
            .amount(1)
            .send(&t.stripe)
            .await,
    );
    assert_eq!((status, kind.as_str()), (400, "invalid_request_error"));
}

#[tokio::test]
async fn subscriptions_change_amount_pause_resume_and_cancel_through_the_client() {
    let t = spawn().await;
    paid_session(&t, 1500, true, "card").await;
    let sub_id = t.received().await[0]["data"]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub = RetrieveSubscription::new(sub_id.as_str())
        .send(&t.stripe)
        .await
        .unwrap();
    let item = &sub.items.data[0];
    let product = item.price.product.id().as_str().to_owned();

    let mut price = UpdateSubscriptionItemsPriceData::new(
        Currency::EUR,
        product,
        UpdateSubscriptionItemsPriceDataRecurring::new(
            UpdateSubscriptionItemsPriceDataRecurringInterval::Month,
        ),
    );
    price.unit_amount = Some(2500);
    let mut items = UpdateSubscriptionItems::new();
    items.id = Some(item.id.as_str().to_owned());
    items.price_data = Some(price);
    let changed = UpdateSubscription::new(sub_id.as_str())
        .items(vec![items])
        .proration_behavior(UpdateSubscriptionProrationBehavior::None)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(changed.items.data[0].price.unit_amount, Some(2500));
    assert_eq!(changed.items.data[0].id, item.id);

    let paused = UpdateSubscription::new(sub_id.as_str())
        .pause_collection(UpdateSubscriptionPauseCollection::new(
            UpdateSubscriptionPauseCollectionBehavior::Void,
        ))
        .send(&t.stripe)
        .await
        .unwrap();
    assert!(paused.pause_collection.is_some());

    #[derive(serde::Serialize)]
    struct Unpause {
        pause_collection: &'static str,
    }
    let resumed: stripe_billing::Subscription = stripe_client_core::RequestBuilder::new(
        stripe_client_core::StripeMethod::Post,
        format!("/subscriptions/{sub_id}"),
    )
    .form(&Unpause {
        pause_collection: "",
    })
    .customize::<stripe_billing::Subscription>()
    .send(&t.stripe)
    .await
    .unwrap();
    assert!(resumed.pause_collection.is_none());

    let ending = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(&t.stripe)
        .await
        .unwrap();
    assert!(ending.cancel_at_period_end);

    let updates = t.received_after(3).await;
    assert_eq!(types(&updates), ["customer.subscription.updated"; 4]);
    assert_eq!(
        updates[0]["data"]["previous_attributes"]["items"]["data"][0]["price"]["unit_amount"],
        1500
    );
    assert_eq!(
        updates[1]["data"]["previous_attributes"]["pause_collection"],
        Value::Null
    );
    assert_eq!(
        updates[2]["data"]["previous_attributes"]["pause_collection"]["behavior"],
        "void"
    );
    assert_eq!(
        updates[3]["data"]["previous_attributes"]["cancel_at_period_end"],
        false
    );

    let canceled = CancelSubscription::new(sub_id.as_str())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(canceled.status.as_str(), "canceled");
    assert_eq!(
        types(&t.received_after(7).await),
        ["customer.subscription.deleted"]
    );
    let again = CancelSubscription::new(sub_id.as_str())
        .send(&t.stripe)
        .await;
    assert_eq!(stripe_error(again).0, 400);
}

#[tokio::test]
async fn the_period_end_cancellation_happens_when_the_clock_reaches_it() {
    let t = spawn().await;
    paid_session(&t, 1500, true, "card").await;
    let sub_id = t.received().await[0]["data"]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(&t.stripe)
        .await
        .unwrap();
    t.sandbox.advance_clock(40 * DAY).await;
    let events = t.received_after(4).await;
    assert_eq!(types(&events), ["customer.subscription.deleted"]);
    assert_eq!(events[0]["data"]["object"]["status"], "canceled");
}

#[tokio::test]
async fn bad_requests_get_stripe_errors() {
    let t = spawn().await;
    let (status, kind, param) =
        stripe_error(session_request(&t.origin, 0, false).send(&t.stripe).await);
    assert_eq!((status, kind.as_str()), (400, "invalid_request_error"));
    assert_eq!(
        param.as_deref(),
        Some("line_items[0][price_data][unit_amount]")
    );
    // Payment mode with a recurring price.
    let mut request = session_request(&t.origin, 1000, true);
    request = request.mode(CheckoutSessionMode::Payment);
    assert_eq!(stripe_error(request.send(&t.stripe).await).0, 400);

    let missing = RetrieveSubscription::new("sub_nope").send(&t.stripe).await;
    match missing {
        Err(StripeError::Stripe(error, 404)) => {
            assert_eq!(
                error.code.map(|c| c.as_str().to_owned()).as_deref(),
                Some("resource_missing")
            );
        }
        other => panic!("expected 404, got {other:?}"),
    }

    let base = t.sandbox.api_base();
    let anonymous = t
        .http
        .post(format!("{base}v1/checkout/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let unknown = t
        .http
        .get(format!("{base}v1/nothing"))
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

/// The API hands out donors' emails: only the one secret key it was given opens it. Any
/// other key, even shaped like Stripe's, gets Stripe's 401 and nothing else.
#[tokio::test]
async fn only_the_sandbox_s_own_secret_key_opens_its_api() {
    let t = spawn().await;
    let session = session_request(&t.origin, 1500, false)
        .send(&t.stripe)
        .await
        .unwrap();
    let url = format!(
        "{}v1/checkout/sessions/{}",
        t.sandbox.api_base(),
        session.id
    );
    assert_eq!(t.sandbox.secret_key(), "sk_test_sandbox");
    let own = t
        .http
        .get(&url)
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    for key in [
        "sk_test_x",
        "sk_live_sandbox",
        "sk_test_sandbox2",
        "sk_test_sandbo",
        "SK_TEST_SANDBOX",
    ] {
        let other = t.http.get(&url).bearer_auth(key).send().await.unwrap();
        assert_eq!(other.status(), StatusCode::UNAUTHORIZED, "{key}");
        let text = other.text().await.unwrap();
        assert!(!text.contains("marie@example.fr"), "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error", "{key}");
        assert_eq!(body["error"]["message"], "Invalid API Key provided.");
    }
    let unknown = t
        .http
        .get(format!("{}v1/nothing", t.sandbox.api_base()))
        .bearer_auth("sk_test_x")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED, "401 before 404");
    // Through async-stripe, as a caller holding another key would.
    let stranger = stripe::ClientBuilder::new("sk_test_other")
        .url(t.sandbox.api_base())
        .build()
        .unwrap();
    let refused = RetrieveSubscription::new("sub_nope").send(&stranger).await;
    assert_eq!(stripe_error(refused).0, 401);
}

#[tokio::test]
async fn with_auto_delivery_off_events_are_kept_for_manual_delivery() {
    let t = spawn().await;
    t.sandbox.set_auto_deliver(false);
    paid_session(&t, 1500, true, "card").await;
    assert_eq!(t.sandbox.events().len(), 3);
    assert!(t.received().await.is_empty());

    // Delivered by hand, newest first, signed by the sandbox.
    for event in t.sandbox.events().iter().rev() {
        let payload = event.to_string();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let response = t
            .http
            .post(format!("{}/webhooks/stripe", t.origin))
            .header("stripe-signature", t.sandbox.sign(&payload, now))
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(
        t.received_types().await,
        [
            "checkout.session.completed",
            "invoice.paid",
            "customer.subscription.created"
        ]
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_in_order() {
    let t = spawn().await;
    t.receiver.fail_next.store(2, Ordering::SeqCst);
    paid_session(&t, 1500, false, "card").await;
    paid_session(&t, 1500, false, "card").await;
    let events = t.received().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events, t.sandbox.events());
}

#[tokio::test]
async fn a_restarted_sandbox_renews_refunds_and_delivers_what_it_had_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stripe-sandbox.json");
    // Before the restart, every delivery fails and is still being retried.
    let before = spawn_keeping(Some(file.clone()), false).await;
    paid_session(&before, 1500, true, "card").await;
    before.sandbox.advance_clock(32 * DAY).await;
    let generated = before.sandbox.events();
    let sub_id = generated[0]["data"]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clock = before.sandbox.now();
    drop(before);

    let after = spawn_keeping(Some(file), true).await;
    assert!(
        after.sandbox.now() - clock < 5,
        "the clock keeps its advance"
    );
    assert_eq!(after.sandbox.events(), generated);
    assert_eq!(
        after.received().await,
        generated,
        "what was not delivered is, after the restart, in order"
    );
    assert_eq!(
        types(&generated),
        [
            "customer.subscription.created",
            "invoice.paid",
            "checkout.session.completed",
            "invoice.paid",
            "customer.subscription.updated"
        ]
    );
    let sub = RetrieveSubscription::new(sub_id.as_str())
        .send(&after.stripe)
        .await
        .unwrap();
    assert_eq!(sub.status.as_str(), "active");

    after.sandbox.advance_clock(31 * DAY).await;
    let renewals = after.received_after(5).await;
    assert_eq!(
        types(&renewals),
        ["invoice.paid", "customer.subscription.updated"]
    );
    let invoice = renewals[0]["data"]["object"]["id"].as_str().unwrap();
    let paid: Value = after
        .http
        .get(format!(
            "{}/sandbox/stripe/v1/invoice_payments?invoice={invoice}",
            after.origin
        ))
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payment_intent = paid["data"][0]["payment"]["payment_intent"]
        .as_str()
        .unwrap();
    let refund = CreateRefund::new()
        .payment_intent(payment_intent)
        .send(&after.stripe)
        .await
        .unwrap();
    assert_eq!(refund.amount, 1500);
}

#[tokio::test]
async fn the_dashboard_shows_the_clock_and_moves_it() {
    let t = spawn().await;
    paid_session(&t, 1500, true, "card").await;
    let dashboard = t
        .http
        .get(format!("{}/sandbox", t.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);
    let html = dashboard.text().await.unwrap();
    assert!(
        html.contains("invoice.paid") && html.contains("actif"),
        "{html}"
    );
    assert!(
        html.contains("<link rel=\"icon\" href=\"data:image/svg+xml,"),
        "an inline icon, so browsers ask no /favicon.ico"
    );

    let before = t.sandbox.now();
    let form = t
        .http
        .post(format!("{}/sandbox/control/advance", t.origin))
        .form(&[("days", "31")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    assert_eq!(form.headers()["location"], "/sandbox");
    assert!(t.sandbox.now() - before >= 31 * DAY);
    let json = t
        .http
        .post(format!("{}/sandbox/control/advance", t.origin))
        .json(&serde_json::json!({ "days": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::OK);
    assert!(
        t.received_types()
            .await
            .contains(&"invoice.paid".to_owned())
    );
    let css = t
        .http
        .get(format!("{}/sandbox/assets/sandbox.css", t.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
}

/// A page's HTML with askama's escaped apostrophes put back, so French text reads as written.
async fn page_text(response: reqwest::Response) -> String {
    response.text().await.unwrap().replace("&#39;", "'")
}

impl TestSandbox {
    async fn dashboard(&self) -> String {
        let response = self
            .http
            .get(format!("{}/sandbox", self.origin))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        page_text(response).await
    }

    /// Fills the refund field of a payment's row on the dashboard and clicks "Rembourser".
    async fn refund_on_dashboard(&self, payment_intent: &str, amount: &str) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/sandbox/control/payments/{payment_intent}/refund",
                self.origin
            ))
            .form(&[("amount", amount)])
            .send()
            .await
            .unwrap()
    }
}

/// Pays a one-off gift by card; returns its PaymentIntent's id.
async fn paid_gift(t: &TestSandbox, amount: i64) -> String {
    let before = t.received().await.len();
    paid_session(t, amount, false, "card").await;
    let completed = t.received_after(before).await;
    completed[0]["data"]["object"]["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_dashboard_lists_paid_gifts_with_their_refund_form() {
    let t = spawn().await;
    let one_off = paid_gift(&t, 123_450).await;
    paid_session(&t, 1500, true, "card").await;
    paid_session(&t, 2000, false, "sepa").await;

    let html = t.dashboard().await;
    assert!(
        html.contains("<h2 id=\"paiements\">Paiements</h2>"),
        "{html}"
    );
    assert!(
        html.contains("1\u{202f}234,50\u{a0}€"),
        "French amount: {html}"
    );
    // Open to anyone who reaches the demo: an email only in part.
    assert!(html.contains("ma…@example.fr") && !html.contains("marie@example.fr"));
    assert!(html.contains("Don ponctuel (Checkout)"));
    assert!(html.contains("Facture d'abonnement (premier paiement)"));
    assert!(html.contains(&format!(
        "action=\"/sandbox/control/payments/{one_off}/refund\""
    )));
    assert_eq!(
        html.matches(">Rembourser</button>").count(),
        2,
        "the pending SEPA debit cannot be refunded yet"
    );
    assert!(html.contains("placeholder=\"1234,50\""));
}

#[tokio::test]
async fn refunds_from_the_dashboard_emit_the_same_events_as_the_api() {
    let t = spawn().await;
    let pi = paid_gift(&t, 3000).await;

    let partial = t.refund_on_dashboard(&pi, "12,50").await;
    assert_eq!(partial.status(), StatusCode::SEE_OTHER);
    assert_eq!(partial.headers()["location"], "/sandbox");
    let html = t.dashboard().await;
    assert!(html.contains("12,50\u{a0}€"), "already refunded: {html}");
    assert!(
        html.contains("placeholder=\"17,50\""),
        "what remains: {html}"
    );

    let rest = t.refund_on_dashboard(&pi, "").await;
    assert_eq!(rest.status(), StatusCode::SEE_OTHER);
    let events = t.received_after(1).await;
    assert_eq!(
        types(&events),
        [
            "charge.refunded",
            "refund.created",
            "charge.refunded",
            "refund.created"
        ]
    );
    let first = &events[0]["data"]["object"];
    assert_eq!(first["payment_intent"], pi.as_str());
    assert_eq!(first["amount_refunded"], 1250);
    assert_eq!(first["refunded"], false);
    assert_eq!(first["metadata"]["donation_id"], "42");
    assert_eq!(
        events[0]["data"]["previous_attributes"]["amount_refunded"],
        0
    );
    assert_eq!(events[1]["data"]["object"]["amount"], 1250);
    assert_eq!(events[2]["data"]["object"]["amount_refunded"], 3000);
    assert_eq!(events[2]["data"]["object"]["refunded"], true);
    assert_eq!(events[3]["data"]["object"]["amount"], 1750);
    assert_eq!(t.receiver.rejected.load(Ordering::SeqCst), 0);

    let html = t.dashboard().await;
    assert!(html.contains("Remboursé intégralement"), "{html}");
    assert_eq!(html.matches(">Rembourser</button>").count(), 0);
    let again = t.refund_on_dashboard(&pi, "").await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(
        page_text(again)
            .await
            .contains("Ce paiement a déjà été entièrement remboursé")
    );
    assert_eq!(t.received().await.len(), 5, "nothing more was emitted");
}

#[tokio::test]
async fn an_over_refund_on_the_dashboard_is_refused_in_french_and_changes_nothing() {
    let t = spawn().await;
    let pi = paid_gift(&t, 3000).await;
    assert_eq!(
        t.refund_on_dashboard(&pi, "10").await.status(),
        StatusCode::SEE_OTHER
    );
    let emitted = t.received().await.len();

    let over = t.refund_on_dashboard(&pi, "20,01").await;
    assert_eq!(over.status(), StatusCode::BAD_REQUEST);
    let html = page_text(over).await;
    assert!(
        html.contains(
            "Le montant demandé (20,01\u{a0}€) dépasse ce qui reste à rembourser sur ce \
             paiement (20\u{a0}€) : rien n'a été remboursé."
        ),
        "{html}"
    );
    assert!(
        html.contains("placeholder=\"20\""),
        "the dashboard, unchanged"
    );

    let unreadable = t.refund_on_dashboard(&pi, "dix euros").await;
    assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
    assert!(
        page_text(unreadable)
            .await
            .contains("Indiquez un montant en euros")
    );
    assert_eq!(
        t.refund_on_dashboard("pi_unknown", "").await.status(),
        StatusCode::NOT_FOUND
    );

    assert_eq!(t.received().await.len(), emitted, "nothing emitted");
    assert_eq!(t.sandbox.events().len(), emitted);
    let html = t.dashboard().await;
    assert!(html.contains("placeholder=\"20\""), "still 20 € to refund");
}

/// A monthly gift paid with `outcome` on the hosted page; returns its subscription's id.
async fn monthly_gift(t: &TestSandbox, amount: i64, outcome: &str) -> String {
    let before = t.received().await.len();
    paid_session(t, amount, true, outcome).await;
    let created = &t.received_after(before).await[0];
    assert_eq!(created["type"], "customer.subscription.created");
    created["data"]["object"]["id"].as_str().unwrap().to_owned()
}

impl TestSandbox {
    /// Calls the API with a form, as any Stripe client may (for what the typed client cannot
    /// send: an empty `pause_collection`, a value Stripe refuses); returns the status and
    /// the JSON answer.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, format!("{}v1/{path}", self.sandbox.api_base()))
            .bearer_auth("sk_test_sandbox")
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// The subscription as `GET /v1/subscriptions/{id}` answers it.
    async fn subscription(&self, id: &str) -> Value {
        let (status, json) = self
            .call(reqwest::Method::GET, &format!("subscriptions/{id}"), &[])
            .await;
        assert_eq!(status, StatusCode::OK);
        json
    }
}

/// Pauses collection (`void`) until `resumes_at` through the typed client, as Obole does.
async fn pause_until(
    t: &TestSandbox,
    sub_id: &str,
    resumes_at: i64,
) -> stripe_billing::Subscription {
    let mut pause =
        UpdateSubscriptionPauseCollection::new(UpdateSubscriptionPauseCollectionBehavior::Void);
    pause.resumes_at = Some(resumes_at);
    UpdateSubscription::new(sub_id)
        .pause_collection(pause)
        .send(&t.stripe)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pause_until_a_date_voids_the_renewals_before_it_and_charges_those_after() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    let resumes_at = t.sandbox.now() + 45 * DAY;
    let paused = pause_until(&t, &sub_id, resumes_at).await;
    let collection = paused.pause_collection.expect("paused");
    assert_eq!(collection.behavior.as_str(), "void");
    assert_eq!(collection.resumes_at, Some(resumes_at));
    assert_eq!(
        t.subscription(&sub_id).await["pause_collection"],
        serde_json::json!({ "behavior": "void", "resumes_at": resumes_at })
    );
    let pausing = t.received_after(3).await;
    assert_eq!(types(&pausing), ["customer.subscription.updated"]);
    assert_eq!(
        pausing[0]["data"]["previous_attributes"],
        serde_json::json!({ "pause_collection": null })
    );
    let first_period_end = paused.items.data[0].current_period_end;

    // One advance crosses a renewal inside the pause (about day 30), the resume (day 45)
    // and a renewal after it (about day 60): they come in that order.
    t.sandbox.advance_clock(70 * DAY).await;
    let events = t.received_after(4).await;
    assert_eq!(
        types(&events),
        [
            "customer.subscription.updated",
            "customer.subscription.updated",
            "invoice.paid",
            "customer.subscription.updated",
        ]
    );
    let voided = &events[0]["data"];
    assert_eq!(
        voided["previous_attributes"]["items"]["data"][0]["current_period_end"], first_period_end,
        "the period inside the pause passed without a bill"
    );
    assert_eq!(
        voided["object"]["pause_collection"]["resumes_at"],
        resumes_at
    );

    let resumed = &events[1]["data"];
    assert_eq!(
        resumed["previous_attributes"],
        serde_json::json!({ "pause_collection": { "behavior": "void", "resumes_at": resumes_at } })
    );
    assert!(resumed["object"]["pause_collection"].is_null());

    let invoice = &events[2]["data"]["object"];
    assert_eq!(invoice["billing_reason"], "subscription_cycle");
    assert_eq!(invoice["amount_paid"], 1500);
    // It bills the period that starts after the resume (its own `period_*` is the one that
    // ended, as at Stripe).
    assert!(
        invoice["lines"]["data"][0]["period"]["start"]
            .as_i64()
            .unwrap()
            > resumes_at
    );
    assert_eq!(
        events[3]["data"]["object"]["latest_invoice"], invoice["id"],
        "the new period, billed"
    );
    assert!(t.subscription(&sub_id).await["pause_collection"].is_null());
}

#[tokio::test]
async fn a_resume_time_that_is_not_ahead_of_the_sandbox_clock_is_refused_like_stripe() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    // The sandbox clock, not the wall clock, decides: tomorrow by the wall is past for it.
    t.sandbox.advance_clock(10 * DAY).await;
    let now = t.sandbox.now();
    let wall_tomorrow = time::OffsetDateTime::now_utc().unix_timestamp() + DAY;
    let path = format!("subscriptions/{sub_id}");
    for resumes_at in [
        (now - 60).to_string(),
        now.to_string(),
        wall_tomorrow.to_string(),
        "demain".to_owned(),
        "1.5".to_owned(),
    ] {
        let (status, body) = t
            .call(
                reqwest::Method::POST,
                &path,
                &[
                    ("pause_collection[behavior]", "void"),
                    ("pause_collection[resumes_at]", &resumes_at),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{resumes_at}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["param"], "pause_collection[resumes_at]");
    }
    let past = UpdateSubscription::new(sub_id.as_str()).pause_collection({
        let mut pause =
            UpdateSubscriptionPauseCollection::new(UpdateSubscriptionPauseCollectionBehavior::Void);
        pause.resumes_at = Some(now - DAY);
        pause
    });
    let (status, kind, param) = stripe_error(past.send(&t.stripe).await);
    assert_eq!((status, kind.as_str()), (400, "invalid_request_error"));
    assert_eq!(param.as_deref(), Some("pause_collection[resumes_at]"));

    assert!(t.subscription(&sub_id).await["pause_collection"].is_null());
    assert!(t.received_after(3).await.is_empty(), "nothing changed");
}

#[tokio::test]
async fn resuming_by_hand_clears_the_resume_time() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    let first = t.sandbox.now() + 5 * DAY;
    pause_until(&t, &sub_id, first).await;
    // Paused again with another date: only the date changed.
    let later = first + 5 * DAY;
    pause_until(&t, &sub_id, later).await;
    let (status, resumed) = t
        .call(
            reqwest::Method::POST,
            &format!("subscriptions/{sub_id}"),
            &[("pause_collection", "")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(resumed["pause_collection"].is_null());

    let events = t.received_after(3).await;
    assert_eq!(types(&events), ["customer.subscription.updated"; 3]);
    assert_eq!(
        events[1]["data"]["previous_attributes"],
        serde_json::json!({ "pause_collection": { "resumes_at": first } })
    );
    assert_eq!(
        events[2]["data"]["previous_attributes"],
        serde_json::json!({ "pause_collection": { "behavior": "void", "resumes_at": later } })
    );

    t.sandbox.advance_clock(12 * DAY).await;
    assert!(
        t.received_after(6).await.is_empty(),
        "no second resume when the forgotten date passes"
    );
}

#[tokio::test]
async fn a_pause_until_a_date_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stripe-sandbox.json");
    let before = spawn_keeping(Some(file.clone()), true).await;
    let sub_id = monthly_gift(&before, 1500, "card").await;
    let resumes_at = before.sandbox.now() + 5 * DAY;
    pause_until(&before, &sub_id, resumes_at).await;
    assert_eq!(
        before.received().await.len(),
        4,
        "all delivered before the restart"
    );
    drop(before);

    let after = spawn_keeping(Some(file), true).await;
    assert_eq!(
        after.subscription(&sub_id).await["pause_collection"]["resumes_at"],
        resumes_at
    );
    after.sandbox.advance_clock(6 * DAY).await;
    let events = after.received().await;
    assert_eq!(types(&events), ["customer.subscription.updated"]);
    assert_eq!(
        events[0]["data"]["previous_attributes"]["pause_collection"]["resumes_at"],
        resumes_at
    );
    assert!(after.subscription(&sub_id).await["pause_collection"].is_null());
}

/// Asks for a new price on the gift's one item through the typed client, as Obole does
/// (inline price, `proration_behavior=none`).
async fn change_price(
    t: &TestSandbox,
    sub_id: &str,
    amount: i64,
    interval: UpdateSubscriptionItemsPriceDataRecurringInterval,
) -> stripe_billing::Subscription {
    let sub = RetrieveSubscription::new(sub_id)
        .send(&t.stripe)
        .await
        .unwrap();
    let item = &sub.items.data[0];
    let mut price = UpdateSubscriptionItemsPriceData::new(
        Currency::EUR,
        item.price.product.id().as_str(),
        UpdateSubscriptionItemsPriceDataRecurring::new(interval),
    );
    price.unit_amount = Some(amount);
    let mut items = UpdateSubscriptionItems::new();
    items.id = Some(item.id.as_str().to_owned());
    items.price_data = Some(price);
    UpdateSubscription::new(sub_id)
        .items(vec![items])
        .proration_behavior(UpdateSubscriptionProrationBehavior::None)
        .send(&t.stripe)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_interval_restarts_the_cycle_now_and_charges_the_new_price_at_once() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    t.sandbox.advance_clock(10 * DAY).await;
    let before = t.subscription(&sub_id).await;
    let old_item = &before["items"]["data"][0];

    let changed = change_price(
        &t,
        &sub_id,
        15_000,
        UpdateSubscriptionItemsPriceDataRecurringInterval::Year,
    )
    .await;
    let now = t.sandbox.now();
    let item = &changed.items.data[0];
    assert_eq!(item.id.as_str(), old_item["id"].as_str().unwrap());
    assert_eq!(item.price.unit_amount, Some(15_000));
    assert_eq!(
        item.price.recurring.as_ref().map(|r| r.interval.as_str()),
        Some("year")
    );
    assert!((now - 2..=now).contains(&item.current_period_start));
    assert_eq!(changed.billing_cycle_anchor, item.current_period_start);
    let year = item.current_period_end - item.current_period_start;
    assert!([365 * DAY, 366 * DAY].contains(&year), "{year}");

    let events = t.received_after(3).await;
    assert_eq!(
        types(&events),
        ["invoice.paid", "customer.subscription.updated"],
        "billed at once, like a renewal, then the update"
    );
    let invoice = &events[0]["data"]["object"];
    assert_eq!(invoice["billing_reason"], "subscription_update");
    assert_eq!(
        invoice["amount_paid"], 15_000,
        "the full new price, no proration"
    );
    let lines = invoice["lines"]["data"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["parent"]["subscription_item_details"]["proration"],
        false
    );
    assert_eq!(
        lines[0]["period"],
        serde_json::json!({ "start": item.current_period_start, "end": item.current_period_end })
    );
    assert_eq!(
        invoice["parent"]["subscription_details"]["metadata"]["donation_id"],
        "42"
    );

    let updated = &events[1]["data"];
    assert_eq!(updated["object"]["latest_invoice"], invoice["id"]);
    let previous = &updated["previous_attributes"];
    assert_eq!(
        previous["billing_cycle_anchor"],
        before["billing_cycle_anchor"]
    );
    assert_eq!(previous["latest_invoice"], before["latest_invoice"]);
    let previous_item = &previous["items"]["data"][0];
    assert_eq!(previous_item["price"]["recurring"]["interval"], "month");
    assert_eq!(previous_item["price"]["unit_amount"], 1500);
    assert_eq!(
        previous_item["current_period_start"],
        old_item["current_period_start"]
    );
    assert_eq!(
        previous_item["current_period_end"],
        old_item["current_period_end"]
    );
    assert!(previous.get("status").is_none(), "still active");

    // No monthly renewal any more: the next bill comes a year after the change.
    t.sandbox.advance_clock(40 * DAY).await;
    assert!(t.received_after(5).await.is_empty());
    t.sandbox.advance_clock(330 * DAY).await;
    let renewal = t.received_after(5).await;
    assert_eq!(
        types(&renewal),
        ["invoice.paid", "customer.subscription.updated"]
    );
    assert_eq!(renewal[0]["data"]["object"]["amount_paid"], 15_000);
    assert_eq!(
        renewal[0]["data"]["object"]["billing_reason"],
        "subscription_cycle"
    );
}

#[tokio::test]
async fn a_new_interval_on_a_failing_card_fails_like_a_renewal() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1000, "card_renewal_fails").await;
    let changed = change_price(
        &t,
        &sub_id,
        10_000,
        UpdateSubscriptionItemsPriceDataRecurringInterval::Year,
    )
    .await;
    // Stripe's default `payment_behavior=allow_incomplete`: the update stands, unpaid.
    assert_eq!(changed.status.as_str(), "past_due");
    let events = t.received_after(3).await;
    assert_eq!(
        types(&events),
        ["invoice.payment_failed", "customer.subscription.updated"]
    );
    let invoice = &events[0]["data"]["object"];
    assert_eq!(invoice["billing_reason"], "subscription_update");
    assert_eq!(invoice["status"], "open");
    assert_eq!(invoice["amount_due"], 10_000);
    assert_eq!(
        invoice["next_payment_attempt"].as_i64(),
        Some(invoice["created"].as_i64().unwrap() + 3 * DAY),
        "retried on the renewals' schedule"
    );
    let updated = &events[1]["data"];
    assert_eq!(updated["object"]["status"], "past_due");
    assert_eq!(updated["previous_attributes"]["status"], "active");
    assert_eq!(
        updated["object"]["items"]["data"][0]["price"]["recurring"]["interval"],
        "year"
    );

    t.sandbox.advance_clock(16 * DAY).await;
    let retries = t.received_after(5).await;
    assert_eq!(
        types(&retries),
        [
            "invoice.payment_failed",
            "invoice.payment_failed",
            "invoice.payment_failed",
            "customer.subscription.deleted",
        ]
    );
    assert_eq!(
        retries[3]["data"]["object"]["cancellation_details"]["reason"],
        "payment_failed"
    );
}

#[tokio::test]
async fn a_new_amount_alone_keeps_the_cycle_and_is_billed_from_the_next_renewal() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    t.sandbox.advance_clock(5 * DAY).await;
    let before = t.subscription(&sub_id).await;
    change_price(
        &t,
        &sub_id,
        2500,
        UpdateSubscriptionItemsPriceDataRecurringInterval::Month,
    )
    .await;
    let after = t.subscription(&sub_id).await;
    for unchanged in ["billing_cycle_anchor", "latest_invoice", "status"] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged}");
    }
    for unchanged in ["current_period_start", "current_period_end"] {
        assert_eq!(
            after["items"]["data"][0][unchanged], before["items"]["data"][0][unchanged],
            "{unchanged}"
        );
    }
    let events = t.received_after(3).await;
    assert_eq!(types(&events), ["customer.subscription.updated"]);
    let previous = events[0]["data"]["previous_attributes"]
        .as_object()
        .unwrap();
    assert_eq!(previous.keys().collect::<Vec<_>>(), ["items"]);

    t.sandbox.advance_clock(30 * DAY).await;
    let renewal = t.received_after(4).await;
    assert_eq!(
        types(&renewal),
        ["invoice.paid", "customer.subscription.updated"]
    );
    assert_eq!(renewal[0]["data"]["object"]["amount_paid"], 2500);
}

#[tokio::test]
async fn cancellation_details_come_with_a_cancellation_now_and_can_be_corrected_after() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    let mut details = CancelSubscriptionCancellationDetails::new();
    details.comment = Some("Je soutiens une autre association".to_owned());
    details.feedback = Some(CancelSubscriptionCancellationDetailsFeedback::SwitchedService);
    let canceled = CancelSubscription::new(sub_id.as_str())
        .cancellation_details(details)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(canceled.status.as_str(), "canceled");
    assert_eq!(canceled.canceled_at, canceled.ended_at);
    let events = t.received_after(3).await;
    assert_eq!(types(&events), ["customer.subscription.deleted"]);
    assert_eq!(
        events[0]["data"]["object"]["cancellation_details"],
        serde_json::json!({
            "comment": "Je soutiens une autre association",
            "feedback": "switched_service",
            "reason": "cancellation_requested",
        })
    );

    // As at Stripe, a canceled subscription's details can still be updated, not its billing.
    let mut correction = UpdateSubscriptionCancellationDetails::new();
    correction.feedback = Some(UpdateSubscriptionCancellationDetailsFeedback::TooExpensive);
    let corrected = UpdateSubscription::new(sub_id.as_str())
        .cancellation_details(correction)
        .send(&t.stripe)
        .await
        .unwrap();
    let details = corrected.cancellation_details.expect("details");
    assert_eq!(
        details.feedback.map(|f| f.as_str().to_owned()).as_deref(),
        Some("too_expensive")
    );
    assert_eq!(
        details.comment.as_deref(),
        Some("Je soutiens une autre association")
    );
    let events = t.received_after(4).await;
    assert_eq!(types(&events), ["customer.subscription.updated"]);
    assert_eq!(
        events[0]["data"]["previous_attributes"],
        serde_json::json!({ "cancellation_details": { "feedback": "switched_service" } })
    );

    // Any client may send a DELETE's parameters in the query string instead.
    let other = monthly_gift(&t, 900, "card").await;
    let response = t
        .http
        .delete(format!(
            "{}v1/subscriptions/{other}?cancellation_details[feedback]=unused",
            t.sandbox.api_base()
        ))
        .bearer_auth("sk_test_sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["cancellation_details"]["feedback"], "unused");
    assert_eq!(
        body["cancellation_details"]["reason"],
        "cancellation_requested"
    );
}

#[tokio::test]
async fn a_cancellation_at_period_end_is_recorded_when_asked_and_ends_with_its_details() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    t.sandbox.advance_clock(3 * DAY).await;
    let period_end = t.subscription(&sub_id).await["items"]["data"][0]["current_period_end"]
        .as_i64()
        .unwrap();
    let asked_at = t.sandbox.now();
    let mut details = UpdateSubscriptionCancellationDetails::new();
    details.comment = Some("Fin de mon soutien".to_owned());
    details.feedback = Some(UpdateSubscriptionCancellationDetailsFeedback::Unused);
    let ending = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .cancellation_details(details)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(ending.status.as_str(), "active");
    assert_eq!(ending.cancel_at, Some(period_end));
    let canceled_at = ending.canceled_at.expect("the request is recorded at once");
    assert!((asked_at..=asked_at + 2).contains(&canceled_at));
    let events = t.received_after(3).await;
    assert_eq!(types(&events), ["customer.subscription.updated"]);
    assert_eq!(
        events[0]["data"]["object"]["cancellation_details"],
        serde_json::json!({
            "comment": "Fin de mon soutien",
            "feedback": "unused",
            "reason": "cancellation_requested",
        })
    );
    assert_eq!(
        events[0]["data"]["previous_attributes"],
        serde_json::json!({
            "cancel_at": null,
            "cancel_at_period_end": false,
            "canceled_at": null,
            "cancellation_details": { "comment": null, "feedback": null, "reason": null },
        })
    );

    // Withdrawn, the request's time and reason go; what the donor wrote stays.
    let kept = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(false)
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(kept.canceled_at, None);
    let details = kept.cancellation_details.expect("details");
    assert!(details.reason.is_none());
    assert_eq!(details.comment.as_deref(), Some("Fin de mon soutien"));
    let withdrawn = &t.received_after(4).await[0]["data"]["previous_attributes"];
    assert_eq!(withdrawn["canceled_at"], canceled_at);
    assert_eq!(
        withdrawn["cancellation_details"],
        serde_json::json!({ "reason": "cancellation_requested" })
    );

    t.sandbox.advance_clock(DAY).await;
    let again = UpdateSubscription::new(sub_id.as_str())
        .cancel_at_period_end(true)
        .send(&t.stripe)
        .await
        .unwrap();
    let asked_again_at = again.canceled_at.expect("recorded");
    assert!(asked_again_at > canceled_at);

    t.sandbox.advance_clock(40 * DAY).await;
    let ended = t.received_after(6).await;
    assert_eq!(types(&ended), ["customer.subscription.deleted"]);
    let sub = &ended[0]["data"]["object"];
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["ended_at"], period_end);
    assert_eq!(
        sub["canceled_at"], asked_again_at,
        "when it was asked for, not when it ended"
    );
    assert_eq!(
        sub["cancellation_details"],
        serde_json::json!({
            "comment": "Fin de mon soutien",
            "feedback": "unused",
            "reason": "cancellation_requested",
        })
    );
}

#[tokio::test]
async fn bad_cancellation_details_are_refused_and_change_nothing() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    let path = format!("subscriptions/{sub_id}");
    let too_long = "a".repeat(5001);
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        for (field, value, param) in [
            (
                "cancellation_details[feedback]",
                "bored",
                "cancellation_details[feedback]",
            ),
            (
                "cancellation_details[comment]",
                too_long.as_str(),
                "cancellation_details[comment]",
            ),
        ] {
            let mut form = vec![(field, value)];
            if method == reqwest::Method::POST {
                form.push(("cancel_at_period_end", "true"));
            }
            let (status, body) = t.call(method.clone(), &path, &form).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {field}");
            assert_eq!(body["error"]["type"], "invalid_request_error");
            assert_eq!(body["error"]["param"], param);
        }
    }
    let sub = t.subscription(&sub_id).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["cancel_at_period_end"], false);
    assert_eq!(
        sub["cancellation_details"],
        serde_json::json!({ "comment": null, "feedback": null, "reason": null })
    );
    assert!(t.received_after(3).await.is_empty());
}

#[tokio::test]
async fn the_portal_shows_when_a_pause_ends_and_its_cancellations_are_requested() {
    let t = spawn().await;
    let sub_id = monthly_gift(&t, 1500, "card").await;
    let customer = t.subscription(&sub_id).await["customer"]
        .as_str()
        .unwrap()
        .to_owned();
    // 2 January of next year by the sandbox clock, at noon: a date whose French is known.
    let today = time::OffsetDateTime::from_unix_timestamp(t.sandbox.now()).unwrap();
    let next_year = today.year() + 1;
    let resumes_at = time::Date::from_calendar_date(next_year, time::Month::January, 2)
        .unwrap()
        .with_hms(12, 0, 0)
        .unwrap()
        .assume_utc()
        .unix_timestamp();
    pause_until(&t, &sub_id, resumes_at).await;

    let portal = CreateBillingPortalSession::new()
        .customer(customer)
        .send(&t.stripe)
        .await
        .unwrap();
    let html = page_text(t.http.get(&portal.url).send().await.unwrap()).await;
    assert!(
        html.contains(&format!(
            "Prélèvements suspendus jusqu'au 2 janvier {next_year}."
        )),
        "{html}"
    );

    let asked = t
        .http
        .post(format!(
            "{}/subscriptions/{sub_id}/cancel_at_period_end",
            portal.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let sub = t.subscription(&sub_id).await;
    assert_eq!(sub["cancel_at_period_end"], true);
    assert_eq!(
        sub["cancellation_details"]["reason"],
        "cancellation_requested"
    );
    let canceled = t
        .http
        .post(format!("{}/subscriptions/{sub_id}/cancel", portal.url))
        .send()
        .await
        .unwrap();
    assert_eq!(canceled.status(), StatusCode::SEE_OTHER);
    let events = t.received_after(5).await;
    assert_eq!(types(&events), ["customer.subscription.deleted"]);
    assert_eq!(
        events[0]["data"]["object"]["cancellation_details"]["reason"],
        "cancellation_requested"
    );
}

impl TestSandbox {
    /// A form post to one of the dashboard's control endpoints.
    async fn control(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}/sandbox/control/{path}", self.origin))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A raw call to the sandbox's Stripe API, with a form body.
    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, format!("{}/sandbox/stripe/v1/{path}", self.origin))
            .bearer_auth("sk_test_sandbox")
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

#[tokio::test]
async fn a_dispute_opened_on_the_dashboard_withdraws_the_money_until_it_is_won() {
    let t = spawn().await;
    let pi = paid_gift(&t, 3000).await;
    let before = t.received().await.len();

    let opened = t
        .control(
            &format!("payments/{pi}/dispute"),
            &[("amount", "12,50"), ("reason", "")],
        )
        .await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let events = t.received_after(before).await;
    assert_eq!(
        types(&events),
        ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    );
    let dispute = &events[0]["data"]["object"];
    let id = dispute["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("dp_"), "{id}");
    assert_eq!(dispute["object"], "dispute");
    assert_eq!(dispute["amount"], 1250);
    assert_eq!(dispute["currency"], "eur");
    assert_eq!(dispute["payment_intent"], pi.as_str());
    assert!(dispute["charge"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(dispute["reason"], "fraudulent");
    assert_eq!(dispute["status"], "needs_response");
    let due_by = dispute["evidence_details"]["due_by"].as_i64().unwrap();
    assert_eq!(due_by - dispute["created"].as_i64().unwrap(), 7 * DAY);
    assert_eq!(
        t.receiver.rejected.load(Ordering::SeqCst),
        0,
        "signed, and read by the typed parser"
    );

    let html = t.dashboard().await;
    assert!(html.contains("Litige ouvert : 12,50\u{a0}€"), "{html}");
    assert!(html.contains("Contesté : plus de remboursement"));
    assert!(html.contains(&format!("action=\"/sandbox/control/disputes/{id}/close\"")));
    let (status, error) = t
        .api(reqwest::Method::POST, "refunds", &[("payment_intent", &pi)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], "charge_disputed");
    let refused = t.refund_on_dashboard(&pi, "").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(page_text(refused).await.contains("contesté par la banque"));
    let again = t.control(&format!("payments/{pi}/dispute"), &[]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "one per charge");

    let won = t
        .control(&format!("disputes/{id}/close"), &[("outcome", "won")])
        .await;
    assert_eq!(won.status(), StatusCode::SEE_OTHER);
    let events = t.received_after(before + 2).await;
    assert_eq!(
        types(&events),
        [
            "charge.dispute.updated",
            "charge.dispute.closed",
            "charge.dispute.funds_reinstated"
        ]
    );
    assert_eq!(events[0]["data"]["object"]["status"], "under_review");
    assert_eq!(
        events[0]["data"]["previous_attributes"]["status"],
        "needs_response"
    );
    assert_eq!(events[1]["data"]["object"]["status"], "won");
    assert_eq!(
        events[1]["data"]["object"]["evidence_details"]["submission_count"],
        1
    );
    assert!(t.dashboard().await.contains("Litige gagné : 12,50\u{a0}€"));
    let decided = t
        .control(&format!("disputes/{id}/close"), &[("outcome", "lost")])
        .await;
    assert_eq!(decided.status(), StatusCode::BAD_REQUEST, "decided once");
    let refund = CreateRefund::new()
        .payment_intent(pi.as_str())
        .send(&t.stripe)
        .await
        .unwrap();
    assert_eq!(refund.amount, 3000, "won: the money can be given back");
    assert_eq!(t.receiver.rejected.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_dispute_accepted_through_the_api_is_lost() {
    let t = spawn().await;
    let pi = paid_gift(&t, 4000).await;
    let before = t.received().await.len();
    let id = t
        .sandbox
        .open_dispute(&pi, None, Some("subscription_canceled"))
        .unwrap();
    assert!(t.sandbox.open_dispute(&pi, None, None).is_err());

    let (status, closed) = t
        .api(reqwest::Method::POST, &format!("disputes/{id}/close"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(closed["status"], "lost");
    let (_, read) = t
        .api(reqwest::Method::GET, &format!("disputes/{id}"), &[])
        .await;
    assert_eq!(read, closed);
    assert_eq!(read["amount"], 4000, "the whole charge by default");
    assert_eq!(read["reason"], "subscription_canceled");
    let events = t.received_after(before).await;
    assert_eq!(
        types(&events),
        [
            "charge.dispute.created",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.closed"
        ]
    );
    assert_eq!(
        events[2]["data"]["previous_attributes"]["status"],
        "needs_response"
    );
    let (status, _) = t
        .api(reqwest::Method::POST, &format!("disputes/{id}/close"), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already closed");
    let (status, _) = t
        .api(reqwest::Method::GET, "disputes/dp_unknown", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        t.sandbox
            .close_dispute(&id, stripe_sandbox::DisputeOutcome::Won)
            .is_err()
    );
    assert!(t.dashboard().await.contains("Litige perdu : 40\u{a0}€"));
}
