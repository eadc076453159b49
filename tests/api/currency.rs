//! Money is recorded only in the currency it was paid in: an event Stripe reports in another
//! currency than its pledge's is acknowledged and changes nothing, whatever its family; an
//! event that names no currency (older API shapes) is in its pledge's.

use obole::store::counters::{self, Totals};
use serde_json::{Value, json};

use crate::event_order::{deliver_all, events_of_gift, first_of};
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    a_checkout_paid_in_another_currency_is_acknowledged_and_not_recorded,
    an_instalment_paid_in_another_currency_is_acknowledged_and_not_recorded,
    a_refund_in_another_currency_is_acknowledged_and_changes_nothing,
    a_subscription_in_another_currency_is_acknowledged_and_not_followed,
    a_payment_whose_event_names_no_currency_is_recorded_in_its_pledge_s,
);

/// The events of `kind`, their currency changed to US dollars.
fn in_dollars(events: &[Value], kind: &str) -> Vec<Value> {
    let changed: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| {
            let mut e = e.clone();
            e["data"]["object"]["currency"] = json!("usd");
            e
        })
        .collect();
    assert!(!changed.is_empty(), "a {kind} event");
    changed
}

/// Delivered, each is acknowledged, and neither a donation nor the totals moved.
async fn assert_acknowledged_not_recorded(
    app: &TestApp,
    events: &[Value],
    donor: &str,
    before: Totals,
) {
    for event in events {
        assert_eq!(app.deliver(event).await, 200, "acknowledged");
    }
    assert!(app.donations_of(donor).await.is_empty(), "no donation");
    assert_eq!(
        counters::organisation(app.db.pool()).await.unwrap(),
        before,
        "the totals do not move"
    );
}

async fn a_checkout_paid_in_another_currency_is_acknowledged_and_not_recorded(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = counters::organisation(app.db.pool()).await.unwrap();
    let donor = "dollars@example.org";
    let events = events_of_gift(&app, &[("email", donor)], "card").await;
    let completed = in_dollars(&events, "checkout.session.completed");
    assert_acknowledged_not_recorded(&app, &completed, donor, before).await;
}

async fn an_instalment_paid_in_another_currency_is_acknowledged_and_not_recorded(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = counters::organisation(app.db.pool()).await.unwrap();
    let donor = "dollars-mensuels@example.org";
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", donor),
    ];
    let events = events_of_gift(&app, &fields, "card").await;
    let paid = in_dollars(&events, "invoice.paid");
    assert_acknowledged_not_recorded(&app, &paid, donor, before).await;
}

const MONTHLY: &str = "2500";

/// A monthly gift of `donor`, its events kept undelivered.
async fn monthly_events(app: &TestApp, donor: &str) -> Vec<Value> {
    let fields = [
        ("frequency", "monthly"),
        ("amount", MONTHLY),
        ("email", donor),
    ];
    events_of_gift(app, &fields, "card").await
}

/// An instalment's refund names its PaymentIntent only, which the ledger learns from it: a
/// refund in another currency must not even teach it that.
async fn a_refund_in_another_currency_is_acknowledged_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let donor = "remboursement-dollars@example.org";
    let events = monthly_events(&app, donor).await;
    deliver_all(&app, &events).await;
    let paid = first_of(&events, "invoice.paid");
    let invoice = paid["data"]["object"]["id"].as_str().unwrap().to_owned();
    let payment_intent = app.payment_intent_of_invoice(&invoice).await;
    let before = counters::organisation(app.db.pool()).await.unwrap();

    let refunded = json!({
        "id": "evt_refund_usd", "object": "event", "type": "charge.refunded",
        "created": paid["created"].as_i64().unwrap() + 100,
        "data": { "object": { "id": "ch_usd", "object": "charge",
            "payment_intent": payment_intent, "amount": 2500,
            "amount_refunded": 2500, "currency": "usd" } }
    });
    assert_eq!(app.deliver(&refunded).await, 200, "acknowledged");
    assert_eq!(
        app.donations_of(donor).await,
        [("paid".to_owned(), 2500, 0)],
        "not refunded"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM donations WHERE stripe_payment_intent_id IS NOT NULL")
            .await,
        0,
        "the PaymentIntent is not recorded either"
    );
    assert_eq!(counters::organisation(app.db.pool()).await.unwrap(), before);
}

/// `event` with its subscription's price in US dollars.
fn subscription_in_dollars(event: &Value) -> Value {
    let mut event = event.clone();
    let item = &mut event["data"]["object"]["items"]["data"][0];
    item["price"]["currency"] = json!("usd");
    item["plan"]["currency"] = json!("usd");
    if event["data"]["object"].get("currency").is_some() {
        event["data"]["object"]["currency"] = json!("usd");
    }
    event
}

async fn a_subscription_in_another_currency_is_acknowledged_and_not_followed(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let donor = "abonnement-dollars@example.org";
    let events = monthly_events(&app, donor).await;
    let created = first_of(&events, "customer.subscription.created");

    // The first event of the gift: in another currency, it creates nothing.
    assert_eq!(app.deliver(&subscription_in_dollars(&created)).await, 200);
    assert_eq!(gift_of(&app, donor).await, None, "no gift");
    let pledge: (String, Option<i64>) =
        sqlx::query_as("SELECT status, supporter_id FROM pledges WHERE email = $1")
            .bind(donor)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        pledge,
        ("open".to_owned(), None),
        "the pledge is left as it was"
    );

    // A later update in another currency does not move the gift either.
    let others: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] != "customer.subscription.created")
        .cloned()
        .collect();
    deliver_all(&app, &others).await;
    let mut canceled = subscription_in_dollars(&created);
    canceled["id"] = json!("evt_canceled_usd");
    canceled["type"] = json!("customer.subscription.updated");
    canceled["created"] = json!(created["created"].as_i64().unwrap() + 100);
    canceled["data"]["object"]["status"] = json!("canceled");
    canceled["data"]["object"]["items"]["data"][0]["price"]["unit_amount"] = json!(100);
    assert_eq!(app.deliver(&canceled).await, 200);
    assert_eq!(
        gift_of(&app, donor).await,
        Some(("active".to_owned(), 2500))
    );
}

/// (status, amount) of the recurring gift of the donor's pledge, if there is one.
async fn gift_of(app: &TestApp, donor: &str) -> Option<(String, i64)> {
    sqlx::query_as(
        "SELECT g.status, g.amount_cents FROM recurring_gifts g \
         JOIN pledges p ON p.id = g.pledge_id WHERE p.email = $1",
    )
    .bind(donor)
    .fetch_optional(app.db.pool())
    .await
    .unwrap()
}

/// The events, those of `kind` without their `currency` field.
fn without_currency(events: Vec<Value>, kind: &str) -> Vec<Value> {
    events
        .into_iter()
        .map(|mut event| {
            if event["type"] == kind {
                let object = event["data"]["object"].as_object_mut().unwrap();
                assert!(
                    object.remove("currency").is_some(),
                    "{kind} names its currency"
                );
            }
            event
        })
        .collect()
}

/// Older API shapes may leave the currency out (the typed reading then fails, and the tolerant
/// one reads the rest): the money is the pledge's, as it was always recorded, never dropped.
async fn a_payment_whose_event_names_no_currency_is_recorded_in_its_pledge_s(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let once = "sans-devise@example.org";
    let events = events_of_gift(&app, &[("email", once)], "card").await;
    deliver_all(
        &app,
        &without_currency(events, "checkout.session.completed"),
    )
    .await;
    assert_eq!(app.donations_of(once).await, [("paid".to_owned(), 3000, 0)]);

    let monthly = "sans-devise-mensuel@example.org";
    let events = monthly_events(&app, monthly).await;
    deliver_all(&app, &without_currency(events, "invoice.paid")).await;
    assert_eq!(
        app.donations_of(monthly).await,
        [("paid".to_owned(), 2500, 0)]
    );
    let currencies: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT d.currency FROM donations d JOIN pledges p ON p.id = d.pledge_id \
         WHERE p.email IN ($1, $2)",
    )
    .bind(once)
    .bind(monthly)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(currencies, ["EUR"]);
}
