//! Disputes through the sandbox: a donor's bank questions a payment. While open, and once
//! lost, its amount is out of the campaign's and the organisation's totals; won, it counts
//! again. The counters always equal a full recount, whatever the order the events come in.

use obole::domain::dispute::DisputeOutcome as Outcome;
use obole::sandbox::DisputeOutcome;
use obole::store::{counters, disputes};
use serde_json::{Value, json};

use crate::donations::assert_counters_match_ledger;
use crate::helpers::fixtures;
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    an_open_dispute_takes_its_amount_out_of_the_totals_until_it_is_won,
    a_lost_dispute_stays_out_and_open_ones_are_followed_up_first,
    dispute_events_twice_or_in_reverse_order_leave_the_same_ledger,
    a_partial_refund_and_a_dispute_of_the_rest_never_count_below_zero,
    a_dispute_of_an_unknown_payment_is_retried_then_acknowledged,
    a_dispute_in_another_currency_is_acknowledged_and_changes_nothing,
);

const SLUG: &str = "le-sport-pour-grandir";

async fn campaign_totals(app: &TestApp) -> counters::Totals {
    let id = fixtures::campaign_id(&app.db, SLUG).await;
    counters::campaign(app.db.pool(), id).await.unwrap()
}

async fn organisation_totals(app: &TestApp) -> counters::Totals {
    counters::organisation(app.db.pool()).await.unwrap()
}

/// A one-off gift of `euros` from `email`, paid by card and recorded; returns its
/// PaymentIntent.
async fn paid_gift(app: &TestApp, email: &str, euros: &str) -> String {
    let fields = [
        ("email", email),
        ("amount", "other"),
        ("other_amount", euros),
    ];
    app.give(SLUG, &fields, "card").await;
    app.settle_webhooks().await;
    payment_intent_of(app, email).await
}

async fn payment_intent_of(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar(
        "SELECT d.stripe_payment_intent_id FROM donations d \
         JOIN supporters s ON s.id = d.supporter_id WHERE s.email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// (status, amount, refunded, disputed) of the supporter's only donation.
async fn donation_of(app: &TestApp, email: &str) -> (String, i64, i64, i64) {
    sqlx::query_as(
        "SELECT d.status, d.amount_cents, d.refunded_cents, d.disputed_cents FROM donations d \
         JOIN supporters s ON s.id = d.supporter_id WHERE s.email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// (Stripe's status, outcome, amount) of the disputes of the supporter's donations.
async fn disputes_of(app: &TestApp, email: &str) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT x.status, x.outcome, x.amount_cents FROM disputes x \
         JOIN donations d ON d.id = x.donation_id JOIN supporters s ON s.id = d.supporter_id \
         WHERE s.email = $1 ORDER BY x.id",
    )
    .bind(email)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn an_open_dispute_takes_its_amount_out_of_the_totals_until_it_is_won(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let pi = paid_gift(&app, "conteste@example.org", "30").await;
    let (before, organisation_before) =
        (campaign_totals(&app).await, organisation_totals(&app).await);

    let dispute = app.sandbox().open_dispute(&pi, None, None).unwrap();
    app.settle_webhooks().await;
    let open = campaign_totals(&app).await;
    assert_eq!(open.raised_cents, before.raised_cents - 3000);
    assert_eq!(
        (open.donations, open.donors),
        (before.donations, before.donors),
        "a disputed gift is still a gift given: only its money is held"
    );
    assert_eq!(
        organisation_totals(&app).await.raised_cents,
        organisation_before.raised_cents - 3000
    );
    assert_eq!(
        donation_of(&app, "conteste@example.org").await,
        ("paid".to_owned(), 3000, 0, 3000)
    );
    assert_eq!(
        disputes_of(&app, "conteste@example.org").await,
        [("needs_response".to_owned(), "open".to_owned(), 3000)]
    );
    assert_counters_match_ledger(&app).await;

    app.sandbox()
        .close_dispute(&dispute, DisputeOutcome::Won)
        .unwrap();
    app.settle_webhooks().await;
    assert_eq!(campaign_totals(&app).await, before, "won: it counts again");
    assert_eq!(organisation_totals(&app).await, organisation_before);
    assert_eq!(
        donation_of(&app, "conteste@example.org").await,
        ("paid".to_owned(), 3000, 0, 0)
    );
    assert_eq!(
        disputes_of(&app, "conteste@example.org").await,
        [("won".to_owned(), "won".to_owned(), 3000)]
    );
    assert_eq!(disputes::count_open(app.db.pool()).await.unwrap(), 0);
    assert_counters_match_ledger(&app).await;
}

async fn a_lost_dispute_stays_out_and_open_ones_are_followed_up_first(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let lost = paid_gift(&app, "perdu@example.org", "40").await;
    let open = paid_gift(&app, "ouvert@example.org", "25").await;
    let dispute = app
        .sandbox()
        .open_dispute(&lost, None, Some("product_not_received"))
        .unwrap();
    app.sandbox()
        .close_dispute(&dispute, DisputeOutcome::Lost)
        .unwrap();
    app.sandbox().open_dispute(&open, Some(1000), None).unwrap();
    app.settle_webhooks().await;

    let after = campaign_totals(&app).await;
    assert_eq!(
        after.raised_cents,
        before.raised_cents + 1500,
        "the lost 40 € and the 10 € disputed of 25 € are out"
    );
    assert_eq!(after.donations, before.donations + 2);
    assert_eq!(
        donation_of(&app, "perdu@example.org").await,
        ("paid".to_owned(), 4000, 0, 4000)
    );
    assert_counters_match_ledger(&app).await;

    let follow_up = disputes::for_follow_up(app.db.pool(), 50).await.unwrap();
    assert_eq!(follow_up.len(), 2);
    let first = &follow_up[0];
    assert_eq!(first.outcome, Outcome::Open, "open ones first");
    assert_eq!(
        (first.amount_cents, first.donation_amount_cents),
        (1000, 2500)
    );
    assert_eq!(first.email, "ouvert@example.org");
    assert_eq!(first.first_name, "Marie");
    assert_eq!(first.campaign_slug, SLUG);
    assert_eq!(first.reason, "fraudulent");
    assert_eq!(first.status, "needs_response");
    let due_by = first.due_by.expect("evidence due by");
    assert!(
        due_by > first.opened_at,
        "{due_by} after {}",
        first.opened_at
    );
    let second = &follow_up[1];
    assert_eq!(
        (
            second.outcome,
            second.status.as_str(),
            second.reason.as_str()
        ),
        (Outcome::Lost, "lost", "product_not_received")
    );
    assert_eq!(second.email, "perdu@example.org");
    assert_eq!(disputes::count_open(app.db.pool()).await.unwrap(), 1);
}

/// The events of a paid gift and of a dispute of it decided `outcome`, kept undelivered.
async fn events_of_disputed_gift(
    app: &TestApp,
    email: &str,
    outcome: DisputeOutcome,
) -> Vec<Value> {
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    app.give(SLUG, &[("email", email)], "card").await;
    let events = app.sandbox().events();
    let pi = events[already..]
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .and_then(|e| e["data"]["object"]["payment_intent"].as_str())
        .expect("the gift's PaymentIntent")
        .to_owned();
    let dispute = app.sandbox().open_dispute(&pi, None, None).unwrap();
    app.sandbox().close_dispute(&dispute, outcome).unwrap();
    app.sandbox().events().split_off(already)
}

/// Delivers every event, again and again, as Stripe retries what was refused.
async fn deliver_until_applied(app: &TestApp, events: Vec<Value>) {
    let mut pending = events;
    for _ in 0..6 {
        let mut refused = Vec::new();
        for event in pending {
            let status = app.deliver(&event).await;
            assert!(
                status == 200 || status >= 500,
                "{status} for {}",
                event["type"]
            );
            if status != 200 {
                refused.push(event);
            }
        }
        pending = refused;
        if pending.is_empty() {
            return;
        }
    }
    panic!("never applied: {pending:?}");
}

async fn dispute_events_twice_or_in_reverse_order_leave_the_same_ledger(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    for outcome in [DisputeOutcome::Lost, DisputeOutcome::Won] {
        let name = format!("{outcome:?}").to_lowercase();
        let in_order = format!("ordre-{name}@example.org");
        let reversed = format!("envers-{name}@example.org");
        let events = events_of_disputed_gift(&app, &in_order, outcome).await;
        assert!(events.iter().any(|e| e["type"] == "charge.dispute.closed"));
        for event in &events {
            for _ in 0..2 {
                assert_eq!(app.deliver(event).await, 200, "{}", event["type"]);
            }
        }
        let mut events = events_of_disputed_gift(&app, &reversed, outcome).await;
        events.reverse();
        deliver_until_applied(&app, events.clone()).await;
        deliver_until_applied(&app, events).await;

        let ledger = donation_of(&app, &in_order).await;
        assert_eq!(ledger, donation_of(&app, &reversed).await, "{name}");
        let disputed = if outcome == DisputeOutcome::Lost {
            3000
        } else {
            0
        };
        assert_eq!(ledger, ("paid".to_owned(), 3000, 0, disputed), "{name}");
        let kept = disputes_of(&app, &in_order).await;
        assert_eq!(kept, disputes_of(&app, &reversed).await, "{name}");
        assert_eq!(kept, [(name.clone(), name.clone(), 3000)]);
        assert_counters_match_ledger(&app).await;
    }
    let after = campaign_totals(&app).await;
    assert_eq!(
        after.raised_cents,
        before.raised_cents + 2 * 3000,
        "the two won count, the two lost do not"
    );
    assert_eq!(after.donations, before.donations + 4);
}

async fn a_partial_refund_and_a_dispute_of_the_rest_never_count_below_zero(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;

    // The bank disputes the whole charge after 30 € of 100 € were given back.
    let whole = paid_gift(&app, "tout@example.org", "100").await;
    app.refund(&whole, Some(3000)).await;
    app.settle_webhooks().await;
    let whole_dispute = app.sandbox().open_dispute(&whole, None, None).unwrap();
    app.settle_webhooks().await;
    assert_eq!(
        donation_of(&app, "tout@example.org").await,
        ("paid".to_owned(), 10_000, 3000, 7000),
        "what disputes hold is capped by what was not refunded"
    );
    let totals = campaign_totals(&app).await;
    assert_eq!(totals.raised_cents, before.raised_cents, "0 €, not -30 €");
    assert_counters_match_ledger(&app).await;

    // The rest disputed, its events delivered before the refund's.
    let rest = paid_gift(&app, "reste@example.org", "100").await;
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    app.refund(&rest, Some(3000)).await;
    let rest_dispute = app.sandbox().open_dispute(&rest, Some(7000), None).unwrap();
    let mut events = app.sandbox().events().split_off(already);
    events.reverse();
    deliver_until_applied(&app, events).await;
    assert_eq!(
        donation_of(&app, "reste@example.org").await,
        ("paid".to_owned(), 10_000, 3000, 7000)
    );
    assert_eq!(
        campaign_totals(&app).await.raised_cents,
        before.raised_cents
    );
    assert_counters_match_ledger(&app).await;

    // One lost, one won: 70 € back in the totals.
    let already = app.sandbox().events().len();
    app.sandbox()
        .close_dispute(&whole_dispute, DisputeOutcome::Lost)
        .unwrap();
    app.sandbox()
        .close_dispute(&rest_dispute, DisputeOutcome::Won)
        .unwrap();
    let events = app.sandbox().events().split_off(already);
    deliver_until_applied(&app, events).await;
    assert_eq!(
        donation_of(&app, "tout@example.org").await,
        ("paid".to_owned(), 10_000, 3000, 7000)
    );
    assert_eq!(
        donation_of(&app, "reste@example.org").await,
        ("paid".to_owned(), 10_000, 3000, 0)
    );
    let after = campaign_totals(&app).await;
    assert_eq!(after.raised_cents, before.raised_cents + 7000);
    assert_eq!(after.donations, before.donations + 2);
    assert_counters_match_ledger(&app).await;
}

async fn a_dispute_of_an_unknown_payment_is_retried_then_acknowledged(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let events = events_of_disputed_gift(&app, "inconnu@example.org", DisputeOutcome::Lost).await;
    let created = events
        .iter()
        .find(|e| e["type"] == "charge.dispute.created")
        .expect("charge.dispute.created")
        .clone();
    let mut unknown = created.clone();
    unknown["id"] = json!("evt_dispute_of_another_integration");
    unknown["data"]["object"]["payment_intent"] = json!("pi_not_ours");
    assert_eq!(
        app.deliver(&unknown).await,
        503,
        "maybe not recorded yet: Stripe will retry"
    );
    let created_at = unknown["created"].as_i64().unwrap();
    unknown["id"] = json!("evt_old_dispute_of_another_integration");
    unknown["created"] = json!(created_at - 4 * 24 * 3600);
    assert_eq!(
        app.deliver(&unknown).await,
        200,
        "past the retry window: not ours, acknowledged"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM disputes").await, 0);
    assert_eq!(campaign_totals(&app).await, before);
    assert_counters_match_ledger(&app).await;
}

async fn a_dispute_in_another_currency_is_acknowledged_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let email = "dollars@example.org";
    let events = events_of_disputed_gift(&app, email, DisputeOutcome::Lost).await;
    let (gift, dispute): (Vec<Value>, Vec<Value>) = events
        .into_iter()
        .partition(|e| !e["type"].as_str().unwrap().starts_with("charge.dispute."));
    deliver_until_applied(&app, gift).await;
    let before = campaign_totals(&app).await;
    let in_dollars: Vec<Value> = dispute
        .into_iter()
        .map(|mut event| {
            event["data"]["object"]["currency"] = json!("usd");
            event
        })
        .collect();
    deliver_until_applied(&app, in_dollars).await;
    assert_eq!(
        donation_of(&app, email).await,
        ("paid".to_owned(), 3000, 0, 0)
    );
    assert!(disputes_of(&app, email).await.is_empty());
    assert_eq!(campaign_totals(&app).await, before);
    assert_counters_match_ledger(&app).await;
}
