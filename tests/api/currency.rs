//! Money is recorded only in the currency it was paid in: a payment Stripe reports in another
//! currency than its pledge's is acknowledged and recorded nowhere.

use obole::store::counters::{self, Totals};
use serde_json::{Value, json};

use crate::event_order::events_of_gift;
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    a_checkout_paid_in_another_currency_is_acknowledged_and_not_recorded,
    an_instalment_paid_in_another_currency_is_acknowledged_and_not_recorded,
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
