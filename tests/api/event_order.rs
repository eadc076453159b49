//! Stripe's events arrive late, twice and out of order: each sequence here is delivered in an
//! order Stripe can produce, and must end in the same state as Stripe's own order.

use std::sync::Arc;

use obole::store::{counters, figures};
use serde_json::{Value, json};

use crate::helpers::fixtures;
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    a_failure_delivered_after_its_recovery_leaves_the_gift_active,
    a_renewal_recovered_after_failures_is_counted_once_in_any_order,
    a_refund_delivered_before_the_sepa_success_is_not_counted,
    a_late_creation_notice_does_not_undo_the_update_of_the_same_second,
    a_failed_first_debit_delivered_first_does_not_end_the_gift,
    an_instalment_paid_by_credit_balance_is_acknowledged_without_a_donation,
    a_late_event_of_an_older_gift_keeps_the_newer_address,
    a_payment_that_failed_grants_no_news_consent,
    a_late_failure_after_a_paid_instalment_leaves_the_gift_active,
    recount_during_webhooks_leaves_the_counters_equal_to_the_ledger,
    a_new_gift_s_invoice_and_checkout_delivered_together_both_apply,
    a_sepa_success_beside_the_same_donor_s_new_gift_both_apply,
    news_consent_is_granted_once_per_gift_not_at_each_instalment,
);

const SLUG: &str = "le-sport-pour-grandir";

/// The events of a gift made through the sandbox, kept for delivery by hand.
pub async fn events_of_gift(app: &TestApp, fields: &[(&str, &str)], outcome: &str) -> Vec<Value> {
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    app.give(SLUG, fields, outcome).await;
    app.sandbox().events().split_off(already)
}

/// Delivers each event, which must be acknowledged.
pub async fn deliver_all(app: &TestApp, events: &[Value]) {
    for event in events {
        assert_eq!(app.deliver(event).await, 200, "{}", event["type"]);
    }
}

pub fn first_of(events: &[Value], kind: &str) -> Value {
    events
        .iter()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("a {kind} event"))
        .clone()
}

/// `event` as another event: a new id, type and creation time.
fn variant(event: &Value, id: &str, kind: &str, created: i64) -> Value {
    let mut event = event.clone();
    event["id"] = json!(id);
    event["type"] = json!(kind);
    event["created"] = json!(created);
    event
}

/// The status of the recurring gift of [`DONOR`].
async fn gift_status(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT g.status FROM recurring_gifts g JOIN supporters s ON s.id = g.supporter_id \
         WHERE s.email = $1",
    )
    .bind(DONOR)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

const DONOR: &str = "ordre@example.org";
const MONTHLY: [(&str, &str); 3] = [
    ("frequency", "monthly"),
    ("amount", "2500"),
    ("email", DONOR),
];

async fn a_failure_delivered_after_its_recovery_leaves_the_gift_active(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &MONTHLY, "card").await;
    deliver_all(&app, &events).await;
    assert_eq!(gift_status(&app).await, "active");

    // Stripe's order: the renewal fails, the subscription is past due, the retry pays, the
    // subscription is active again.
    let paid = first_of(&events, "invoice.paid");
    let subscription = first_of(&events, "customer.subscription.created");
    let t = paid["created"].as_i64().unwrap();
    let mut failed = variant(&paid, "evt_failed", "invoice.payment_failed", t + 100);
    failed["data"]["object"]["id"] = json!("in_second");
    failed["data"]["object"]["status"] = json!("open");
    failed["data"]["object"]["amount_paid"] = json!(0);
    let mut past_due = variant(
        &subscription,
        "evt_past_due",
        "customer.subscription.updated",
        t + 100,
    );
    past_due["data"]["object"]["status"] = json!("past_due");
    let mut recovered = variant(&paid, "evt_recovered", "invoice.paid", t + 200);
    recovered["data"]["object"]["id"] = json!("in_second");
    recovered["data"]["object"]["status_transitions"]["paid_at"] = json!(t + 200);
    let mut active = variant(
        &subscription,
        "evt_active",
        "customer.subscription.updated",
        t + 200,
    );
    active["data"]["object"]["status"] = json!("active");

    deliver_all(&app, &[active, recovered, past_due, failed]).await;
    assert_eq!(gift_status(&app).await, "active");
    assert_eq!(app.donations_of(DONOR).await.len(), 2, "both instalments");
}

/// The back-office's count of renewals that failed, and of those a later payment recovered.
async fn recoveries(app: &TestApp) -> (i64, i64, i64) {
    let r = figures::recoveries(app.db.pool(), 0).await.unwrap();
    (r.failed, r.recovered, r.recovered_monthly_cents)
}

async fn a_renewal_recovered_after_failures_is_counted_once_in_any_order(backend: Backend) {
    for stripe_order in [true, false] {
        let app = spawn_app(backend, Content::Demo).await;
        let events = events_of_gift(&app, &MONTHLY, "card").await;
        deliver_all(&app, &events).await;
        let paid = first_of(&events, "invoice.paid");
        let t = paid["created"].as_i64().unwrap();
        // The renewal fails, Stripe retries and fails again, then a retry pays.
        let failure = |id: &str, at: i64| {
            let mut failed = variant(&paid, id, "invoice.payment_failed", at);
            failed["data"]["object"]["id"] = json!("in_second");
            failed["data"]["object"]["status"] = json!("open");
            failed["data"]["object"]["amount_paid"] = json!(0);
            failed
        };
        let mut recovered = variant(&paid, "evt_recovered", "invoice.paid", t + 300);
        recovered["data"]["object"]["id"] = json!("in_second");
        recovered["data"]["object"]["status_transitions"]["paid_at"] = json!(t + 300);
        let mut sequence = vec![
            failure("evt_failed", t + 100),
            failure("evt_retry_failed", t + 200),
            recovered,
        ];
        if !stripe_order {
            sequence.reverse();
        }
        deliver_all(&app, &sequence).await;
        deliver_all(&app, &sequence).await; // Delivered again: acknowledged, nothing added.
        assert_eq!(
            recoveries(&app).await,
            (1, 1, 2_500),
            "one run of failures, recovered (Stripe's order: {stripe_order})"
        );
        // A later renewal fails and is not recovered yet: a failure, no recovery.
        let mut later = failure("evt_third_failed", t + 400);
        later["data"]["object"]["id"] = json!("in_third");
        deliver_all(&app, &[later]).await;
        assert_eq!(recoveries(&app).await, (2, 1, 2_500));
        assert_eq!(gift_status(&app).await, "past_due");
    }
}

async fn a_refund_delivered_before_the_sepa_success_is_not_counted(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = counters::organisation(app.db.pool()).await.unwrap();
    let events = events_of_gift(&app, &[("email", DONOR)], "sepa").await;
    deliver_all(&app, &events).await;
    assert_eq!(
        app.donations_of(DONOR).await,
        [("pending".to_owned(), 3000, 0)]
    );

    let completed = first_of(&events, "checkout.session.completed");
    let session = &completed["data"]["object"];
    let t = completed["created"].as_i64().unwrap();
    let mut succeeded = variant(
        &completed,
        "evt_succeeded",
        "checkout.session.async_payment_succeeded",
        t + 100,
    );
    succeeded["data"]["object"]["payment_status"] = json!("paid");
    let refunded = json!({
        "id": "evt_refunded", "object": "event", "type": "charge.refunded", "created": t + 200,
        "data": { "object": { "id": "ch_sepa", "object": "charge",
            "payment_intent": session["payment_intent"], "amount": 3000,
            "amount_refunded": 3000, "currency": "eur" } }
    });

    deliver_all(&app, &[refunded, succeeded]).await;
    assert_eq!(
        app.donations_of(DONOR).await,
        [("refunded".to_owned(), 3000, 3000)]
    );
    assert_eq!(
        counters::organisation(app.db.pool()).await.unwrap(),
        before,
        "a gift given back counts for nothing"
    );
}

async fn a_late_creation_notice_does_not_undo_the_update_of_the_same_second(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &MONTHLY, "card").await;
    let mut created = first_of(&events, "customer.subscription.created");
    created["data"]["object"]["status"] = json!("incomplete");
    let t = created["created"].as_i64().unwrap();
    let mut updated = variant(&created, "evt_updated", "customer.subscription.updated", t);
    updated["data"]["object"]["status"] = json!("active");

    let others: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] != "customer.subscription.created")
        .cloned()
        .collect();
    deliver_all(&app, &others).await;
    deliver_all(&app, &[updated, created]).await;
    assert_eq!(gift_status(&app).await, "active");
}

async fn a_failed_first_debit_delivered_first_does_not_end_the_gift(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &MONTHLY, "sepa").await;
    let completed = first_of(&events, "checkout.session.completed");
    let t = completed["created"].as_i64().unwrap();
    let failed = variant(
        &completed,
        "evt_first_debit_failed",
        "checkout.session.async_payment_failed",
        t + 100,
    );
    deliver_all(&app, &[failed]).await;
    deliver_all(&app, &events).await;
    assert_ne!(gift_status(&app).await, "canceled");

    // Stripe retried the debit and it went through.
    let mut active = variant(
        &first_of(&events, "customer.subscription.created"),
        "evt_active",
        "customer.subscription.updated",
        t + 200,
    );
    active["data"]["object"]["status"] = json!("active");
    deliver_all(&app, &[active]).await;
    assert_eq!(gift_status(&app).await, "active");
}

async fn an_instalment_paid_by_credit_balance_is_acknowledged_without_a_donation(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &MONTHLY, "card").await;
    deliver_all(&app, &events).await;
    let paid = first_of(&events, "invoice.paid");
    let mut free = variant(
        &paid,
        "evt_free",
        "invoice.paid",
        paid["created"].as_i64().unwrap() + 100,
    );
    free["data"]["object"]["id"] = json!("in_free");
    free["data"]["object"]["amount_paid"] = json!(0);
    deliver_all(&app, &[free]).await;
    assert_eq!(
        app.donations_of(DONOR).await,
        [("paid".to_owned(), 2500, 0)]
    );
}

async fn a_late_event_of_an_older_gift_keeps_the_newer_address(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let older = [("email", DONOR), ("address_line1", "1 rue Ancienne")];
    let older = events_of_gift(&app, &older, "card").await;
    let newer = [("email", DONOR), ("address_line1", "2 rue Nouvelle")];
    let newer = events_of_gift(&app, &newer, "card").await;
    // The first gift was made a minute before the second.
    sqlx::query(
        "UPDATE pledges SET created_at = created_at - 60 WHERE address_line1 = '1 rue Ancienne'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();

    deliver_all(&app, &newer).await;
    deliver_all(&app, &older).await;
    let address: String =
        sqlx::query_scalar("SELECT address_line1 FROM supporters WHERE email = $1")
            .bind(DONOR)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        address, "2 rue Nouvelle",
        "the tax receipt's address is the latest"
    );
    assert_eq!(app.donations_of(DONOR).await.len(), 2);
}

async fn news_consent(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT news_consent FROM supporters WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Consent to news is asked on the form and granted once the money is there: not while a
/// debit is pending, never for one that failed, whatever order the events come in.
async fn a_payment_that_failed_grants_no_news_consent(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let rejected = |email| [("email", email), ("news_consent", "on")];

    // Stripe's order: completed (debit pending), then rejected days later.
    app.give(SLUG, &rejected("rejet@example.org"), "sepa_fails")
        .await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, "rejet@example.org").await, 0, "pending");
    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, "rejet@example.org").await, 0, "rejected");

    // A monthly gift whose first debit is rejected.
    let monthly = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "rejet-mensuel@example.org"),
        ("news_consent", "on"),
    ];
    app.give(SLUG, &monthly, "sepa_fails").await;
    app.settle_webhooks().await;
    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, "rejet-mensuel@example.org").await, 0);

    // The rare order: the failure first.
    let events = events_of_gift(&app, &[("email", DONOR), ("news_consent", "on")], "sepa").await;
    let completed = first_of(&events, "checkout.session.completed");
    let failed = variant(
        &completed,
        "evt_debit_failed",
        "checkout.session.async_payment_failed",
        completed["created"].as_i64().unwrap() + 100,
    );
    deliver_all(&app, &[failed]).await;
    deliver_all(&app, &events).await;
    assert_eq!(
        app.donations_of(DONOR).await,
        [("failed".to_owned(), 3000, 0)]
    );
    assert_eq!(news_consent(&app, DONOR).await, 0, "no gift, no newsletter");

    // A debit that goes through: the consent asked for is granted.
    app.sandbox().set_auto_deliver(true);
    app.give(SLUG, &rejected("accord@example.org"), "sepa")
        .await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, "accord@example.org").await, 0, "pending");
    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, "accord@example.org").await, 1, "paid");
}

/// Without any subscription event: the recovery's `invoice.paid`, then the older failure.
async fn a_late_failure_after_a_paid_instalment_leaves_the_gift_active(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &MONTHLY, "card").await;
    deliver_all(&app, &events).await;
    let paid = first_of(&events, "invoice.paid");
    let t = paid["created"].as_i64().unwrap();
    let mut recovered = variant(&paid, "evt_recovered", "invoice.paid", t + 200);
    recovered["data"]["object"]["id"] = json!("in_second");
    recovered["data"]["object"]["status_transitions"]["paid_at"] = json!(t + 200);
    let mut failed = variant(&paid, "evt_failed", "invoice.payment_failed", t + 100);
    failed["data"]["object"]["id"] = json!("in_second");
    failed["data"]["object"]["status"] = json!("open");
    failed["data"]["object"]["amount_paid"] = json!(0);

    deliver_all(&app, &[recovered, failed]).await;
    assert_eq!(gift_status(&app).await, "active", "the failure is old news");
}

/// PostgreSQL runs the recount beside the webhooks; it must neither miss nor erase a
/// donation that lands meanwhile. (SQLite's single writer makes this trivially true.)
async fn recount_during_webhooks_leaves_the_counters_equal_to_the_ledger(backend: Backend) {
    let app = Arc::new(spawn_app(backend, Content::Demo).await);
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    let before = counters::campaign(app.db.pool(), campaign).await.unwrap();
    let mut events = Vec::new();
    for donor in 0..12 {
        let email = format!("recount{donor}@example.org");
        events.extend(events_of_gift(&app, &[("email", email.as_str())], "card").await);
    }
    let deliveries = {
        let app = app.clone();
        tokio::spawn(async move { deliver_all(&app, &events).await })
    };
    while !deliveries.is_finished() {
        counters::recount(&app.db).await.unwrap();
    }
    deliveries.await.unwrap();

    let stored = counters::campaign(app.db.pool(), campaign).await.unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let ledger = counters::campaign_from_ledger(&mut conn, campaign)
        .await
        .unwrap();
    assert_eq!(stored, ledger);
    assert_eq!(ledger.donations, before.donations + 12);
}

/// Delivers the events all at once; returns those not acknowledged with 200.
async fn deliver_together(app: &Arc<TestApp>, events: Vec<Value>) -> Vec<(String, u16)> {
    let deliveries: Vec<_> = events
        .into_iter()
        .map(|event| {
            let app = app.clone();
            tokio::spawn(async move {
                let status = app.deliver(&event).await;
                (
                    event["type"].as_str().unwrap_or_default().to_owned(),
                    status,
                )
            })
        })
        .collect();
    let mut refused = Vec::new();
    for delivery in deliveries {
        let (kind, status) = delivery.await.unwrap();
        if status != 200 {
            refused.push((kind, status));
        }
    }
    refused
}

/// Stripe sends a new subscription's `invoice.paid` and `checkout.session.completed` at the
/// same moment: the first locks the gift and its donation's foreign key needs the pledge, the
/// second locks the pledge and then needs the gift. Neither may wait on the other (PostgreSQL
/// answered "deadlock detected", a 500, on some of them).
async fn a_new_gift_s_invoice_and_checkout_delivered_together_both_apply(backend: Backend) {
    let app = Arc::new(spawn_app(backend, Content::Demo).await);
    let mut together = Vec::new();
    for n in 0..30 {
        let email = format!("paire{n}@example.org");
        let fields = [
            ("frequency", "monthly"),
            ("amount", "2500"),
            ("email", email.as_str()),
        ];
        let events = events_of_gift(&app, &fields, "card").await;
        deliver_all(&app, &[first_of(&events, "customer.subscription.created")]).await;
        together.push(first_of(&events, "invoice.paid"));
        together.push(first_of(&events, "checkout.session.completed"));
    }
    let refused = deliver_together(&app, together).await;
    assert!(refused.is_empty(), "refused: {refused:?}");
    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.all_exact());
}

/// A donor's SEPA debit settles (its supporter's consent, then the counters' per-supporter
/// lock) while their new card gift completes (the supporter row, then the same lock).
async fn a_sepa_success_beside_the_same_donor_s_new_gift_both_apply(backend: Backend) {
    let app = Arc::new(spawn_app(backend, Content::Demo).await);
    let donors: Vec<String> = (0..30).map(|n| format!("sepa{n}@example.org")).collect();
    for email in &donors {
        let fields = [("email", email.as_str()), ("news_consent", "on")];
        deliver_all(&app, &events_of_gift(&app, &fields, "sepa").await).await;
    }
    let already = app.sandbox().events().len();
    app.sandbox().advance_clock(3 * 24 * 3600).await;
    let mut together: Vec<Value> = app
        .sandbox()
        .events()
        .split_off(already)
        .into_iter()
        .filter(|e| e["type"] == "checkout.session.async_payment_succeeded")
        .collect();
    assert_eq!(together.len(), donors.len());
    for email in &donors {
        let events = events_of_gift(&app, &[("email", email.as_str())], "card").await;
        together.push(first_of(&events, "checkout.session.completed"));
    }
    let refused = deliver_together(&app, together).await;
    assert!(refused.is_empty(), "refused: {refused:?}");
    for email in &donors {
        assert_eq!(news_consent(&app, email).await, 1, "{email}");
    }
}

/// A monthly donor who unsubscribed from the news is not subscribed again by the next
/// instalment of the gift they ticked it on.
async fn news_consent_is_granted_once_per_gift_not_at_each_instalment(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", DONOR),
        ("news_consent", "on"),
    ];
    app.give(SLUG, &fields, "card").await;
    app.settle_webhooks().await;
    assert_eq!(news_consent(&app, DONOR).await, 1);
    // The donor unsubscribes (the supporter space will do this).
    sqlx::query("UPDATE supporters SET news_consent = 0 WHERE email = $1")
        .bind(DONOR)
        .execute(app.db.pool())
        .await
        .unwrap();
    app.sandbox().advance_clock(32 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of(DONOR).await.len(),
        2,
        "the next instalment"
    );
    assert_eq!(news_consent(&app, DONOR).await, 0, "still unsubscribed");
}
