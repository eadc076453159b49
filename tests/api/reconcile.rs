//! `obole reconcile`: what missed or dropped webhooks left out, repaired from Stripe's objects
//! (the sandbox's, through its list endpoints), by the real binary beside a running server.

use std::process::Command;

use obole::store::counters;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::Value;

use crate::back_office::{signed_in_staff, words};
use crate::helpers::{Backend, Content, TestApp, plain, spawn_app};
use obole::domain::staff::Role;

dual_backend_tests!(
    one_reconcile_restores_what_a_fifth_of_the_webhooks_dropped_and_a_second_changes_nothing,
    a_refund_dropped_before_its_payment_was_known_is_applied_by_reconcile,
);

const SLUG: &str = "le-sport-pour-grandir";
const MONTH: i64 = 32 * 24 * 3600;

/// Runs `obole reconcile` against the app's database and its sandbox (in the app's server,
/// on its port); the lines it printed, spaces made plain. It must succeed.
async fn reconcile(app: &TestApp) -> Vec<String> {
    let port = app.address.rsplit(':').next().expect("a port").to_owned();
    let mut command = Command::new(env!("CARGO_BIN_EXE_obole"));
    command
        .arg("reconcile")
        .env("DATABASE_URL", app.database_url())
        .env("DATA_DIR", app.data_dir())
        .env("PORT", port)
        .env("RUST_LOG", "off")
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_API_BASE");
    // Off the runtime's threads: the server it talks to runs on them.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("obole runs");
    let stdout = plain(&String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "obole reconcile failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// The last line's counts: (read, repaired, waiting).
fn counts(lines: &[String]) -> (usize, usize, usize) {
    let last = lines.last().expect("a summary");
    let numbers: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    // « N objet(s) … lu(s) depuis le D mois YYYY, R réparé(s), W en attente »
    assert_eq!(numbers.len(), 5, "{last}");
    (numbers[0], numbers[3], numbers[4])
}

/// Session, invoice, status, amount, refunded, disputed, frequency, payment method.
type DonationRow = (
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    String,
    String,
);

/// Everything the ledger holds of Stripe's objects, one line per row, in a stable order.
async fn ledger(app: &TestApp) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let donations: Vec<DonationRow> = sqlx::query_as(
        "SELECT stripe_checkout_session_id, stripe_invoice_id, status, amount_cents, \
             refunded_cents, disputed_cents, frequency, payment_method FROM donations",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.extend(donations.into_iter().map(|d| format!("don {d:?}")));
    let gifts: Vec<(Option<String>, String, i64, String, i64)> = sqlx::query_as(
        "SELECT stripe_subscription_id, status, amount_cents, frequency, cancel_at_period_end \
         FROM recurring_gifts",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.extend(gifts.into_iter().map(|g| format!("régulier {g:?}")));
    let pledges: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT stripe_checkout_session_id, status FROM pledges")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    rows.extend(pledges.into_iter().map(|p| format!("promesse {p:?}")));
    let disputes: Vec<(String, String, String, i64)> =
        sqlx::query_as("SELECT stripe_dispute_id, status, outcome, amount_cents FROM disputes")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    rows.extend(disputes.into_iter().map(|d| format!("contestation {d:?}")));
    rows.sort();
    rows
}

async fn organisation(app: &TestApp) -> counters::Totals {
    counters::organisation(app.db.pool()).await.unwrap()
}

/// The PaymentIntent of a checkout session, as its completion event tells it.
fn payment_intent_of(events: &[Value], session: &str) -> String {
    events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed" && e["data"]["object"]["id"] == session)
        .and_then(|e| e["data"]["object"]["payment_intent"].as_str())
        .unwrap_or_else(|| panic!("the completion of {session}"))
        .to_owned()
}

/// A one-off gift of `euros`, paid with `outcome`; its Checkout Session.
async fn one_off(app: &TestApp, email: &str, euros: &str, outcome: &str) -> String {
    let fields = [
        ("email", email),
        ("amount", "other"),
        ("other_amount", euros),
    ];
    app.give(SLUG, &fields, outcome).await.0
}

async fn monthly(app: &TestApp, email: &str, euros: &str, outcome: &str) -> String {
    let fields = [
        ("email", email),
        ("frequency", "monthly"),
        ("amount", "other"),
        ("other_amount", euros),
    ];
    app.give(SLUG, &fields, outcome).await.0
}

/// Delivers each event; those the app could not apply yet (a 503: Stripe would try again,
/// and give up after three days) are returned.
async fn deliver(app: &TestApp, events: &[Value]) -> Vec<Value> {
    let mut refused = Vec::new();
    for event in events {
        match app.deliver(event).await {
            200 => {}
            503 => refused.push(event.clone()),
            other => panic!("{} answered {other}", event["type"]),
        }
    }
    refused
}

async fn one_reconcile_restores_what_a_fifth_of_the_webhooks_dropped_and_a_second_changes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend, Content::Demo).await;
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    // A month of giving: one-off gifts by card and by SEPA debit (one bounces), monthly gifts
    // renewed (one card declined at renewal), a checkout abandoned; then refunds and a dispute.
    let mut cards = Vec::new();
    for (i, euros) in ["20", "35", "50", "75", "100", "150"].iter().enumerate() {
        cards.push(one_off(&app, &format!("carte{i}@example.org"), euros, "card").await);
    }
    one_off(&app, "sepa@example.org", "60", "sepa").await;
    one_off(&app, "sepa-rejete@example.org", "45", "sepa_fails").await;
    for i in 0..3 {
        monthly(&app, &format!("mensuel{i}@example.org"), "25", "card").await;
    }
    monthly(
        &app,
        "carte-expiree@example.org",
        "15",
        "card_renewal_fails",
    )
    .await;
    let abandoned = app
        .submit_gift(SLUG, &[("email", "abandon@example.org")])
        .await;
    assert_eq!(abandoned.status(), 303);
    app.sandbox().advance_clock(MONTH).await;
    let events = app.sandbox().events().split_off(already);
    app.refund(&payment_intent_of(&events, &cards[0]), Some(500))
        .await;
    app.refund(&payment_intent_of(&events, &cards[1]), None)
        .await;
    app.sandbox()
        .open_dispute(&payment_intent_of(&events, &cards[2]), None, None)
        .expect("a dispute");
    let mut events = app.sandbox().events().split_off(already);
    assert!(events.len() > 30, "{} events", events.len());

    // A fifth of them never arrive; the rest arrive shuffled, and some cannot apply.
    let seed = rand::random::<u64>();
    println!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    events.shuffle(&mut rng);
    let dropped = events.split_off(events.len() * 4 / 5);
    let refused = deliver(&app, &events).await;

    let lines = reconcile(&app).await;
    eprintln!("{}", lines.join("\n"));
    let (read, repaired, waiting) = counts(&lines);
    assert!(read >= 15, "{lines:#?}");
    assert!(repaired > 0, "something was missing: {lines:#?}");
    assert_eq!(waiting, 0, "{lines:#?}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("réparé : ")).count(),
        repaired,
        "each change printed"
    );
    let reconciled = ledger(&app).await;
    let totals = organisation(&app).await;
    let recount = counters::recount(&app.db).await.unwrap();
    assert!(
        recount.all_exact(),
        "counters and summaries equal the ledger"
    );

    // What the full stream would have made: every event delivered now changes nothing.
    let late: Vec<Value> = dropped.into_iter().chain(refused).collect();
    let still_refused = deliver(&app, &late).await;
    assert!(still_refused.is_empty(), "{still_refused:#?}");
    assert_eq!(ledger(&app).await, reconciled, "seed {seed}");
    assert_eq!(organisation(&app).await, totals, "seed {seed}");

    // And what Stripe says of the money: 20 − 5 + 0 (refunded) + 50 disputed (out) + 75 +
    // 100 + 150 + 60 (SEPA) + 3 × 2 × 25 (monthly, renewed) + 15 (first payment only).
    let kept: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_cents - refunded_cents - disputed_cents) AS BIGINT) \
         FROM donations WHERE status IN ('paid', 'refunded') \
         AND (stripe_checkout_session_id IS NOT NULL OR stripe_invoice_id IS NOT NULL)",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        kept,
        (1500 + 7500 + 10000 + 15000 + 6000 + 15000 + 1500),
        "seed {seed}"
    );
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM recurring_gifts ORDER BY status")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(statuses, ["active", "active", "active", "past_due"]);

    // A second run finds nothing to repair.
    let again = reconcile(&app).await;
    assert_eq!(counts(&again).1, 0, "{again:#?}");
    assert_eq!(ledger(&app).await, reconciled);

    // Staff see the last run in the back-office.
    let admin = signed_in_staff(&app, "tresorier@example.org", Role::Viewer).await;
    let (status, page) = admin.get("/admin").await;
    assert_eq!(status, 200);
    let text = words(&page);
    assert!(text.contains("Rapprochement avec Stripe"), "{text}");
    assert!(text.contains("rien à réparer"), "{text}");
}

async fn a_refund_dropped_before_its_payment_was_known_is_applied_by_reconcile(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    app.sandbox().set_auto_deliver(false);
    let session = one_off(&app, "tardif@example.org", "80", "card").await;
    let events = app.sandbox().events();
    app.refund(&payment_intent_of(&events, &session), Some(3000))
        .await;
    let mut refund = app
        .sandbox()
        .events()
        .into_iter()
        .find(|e| e["type"] == "charge.refunded")
        .expect("the refund's event");
    // The refund arrives first, and four days late: past the window in which the app asks
    // Stripe to try again, it is acknowledged and set aside.
    refund["created"] = (obole::domain::dates::now() - 4 * 24 * 3600).into();
    assert_eq!(app.deliver(&refund).await, 200);
    let payments: Vec<Value> = events
        .into_iter()
        .filter(|e| e["type"] != "charge.refunded")
        .collect();
    assert!(deliver(&app, &payments).await.is_empty());
    assert_eq!(
        app.donations_of("tardif@example.org").await,
        [("paid".to_owned(), 8000, 0)],
        "the payment counts in full until reconciled"
    );

    let lines = reconcile(&app).await;
    assert_eq!(counts(&lines).1, 1, "{lines:#?}");
    assert!(
        lines[0].contains("don payé 80 € → don payé 80 €, remboursé 30 €"),
        "{lines:#?}"
    );
    assert_eq!(
        app.donations_of("tardif@example.org").await,
        [("paid".to_owned(), 8000, 3000)]
    );
    assert!(counters::recount(&app.db).await.unwrap().all_exact());
    assert_eq!(
        counts(&reconcile(&app).await).1,
        0,
        "a second run changes nothing"
    );
}
