//! Demonstration mode across a restart: the sandbox keeps its state under `DATA_DIR`, so a
//! monthly gift given before Obole restarts still renews, is refunded and changes after it;
//! but only for the same database: a new ledger starts with a new sandbox.

use serde_json::Value;

use crate::helpers::{Backend, Content, TestApp, TestDatabase, spawn_app};

dual_backend_tests!(
    a_monthly_gift_renews_is_refunded_and_changes_after_a_restart,
    a_new_database_with_the_same_data_dir_starts_with_an_empty_sandbox,
    the_sandbox_api_answers_only_obole_s_own_random_key,
);

const SLUG: &str = "le-sport-pour-grandir";
const EMAIL: &str = "rene@example.org";
const MONTH: i64 = 32 * 24 * 3600;

fn paid(cents: i64) -> (String, i64, i64) {
    ("paid".to_owned(), cents, 0)
}

/// Calls the sandbox's Stripe API as Obole's client does, with its key.
async fn stripe(app: &TestApp, request: reqwest::RequestBuilder) -> Value {
    let response = request
        .bearer_auth(app.sandbox().secret_key())
        .send()
        .await
        .expect("sandbox API answers");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.expect("JSON")
}

async fn a_monthly_gift_renews_is_refunded_and_changes_after_a_restart(backend: Backend) {
    let mut app = spawn_app(backend, Content::Demo).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", EMAIL),
    ];
    let (_, response) = app.give(SLUG, &fields, "card").await;
    assert_eq!(
        response.status(),
        303,
        "paid on the sandbox's checkout page"
    );
    app.settle_webhooks().await;
    assert_eq!(app.donations_of(EMAIL).await, [paid(2500)]);

    let first = app.address.clone();
    app.restart().await;
    assert_ne!(app.address, first, "a new instance, on a new port");

    // A month later (the new instance's clock), the subscription renews.
    app.sandbox().advance_clock(MONTH).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of(EMAIL).await,
        [paid(2500), paid(2500)],
        "the renewal is a second paid donation"
    );

    // The renewal is refunded through the API, as the back-office will.
    let invoice: String = sqlx::query_scalar(
        "SELECT stripe_invoice_id FROM donations WHERE stripe_invoice_id IS NOT NULL \
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let payment_intent = app.payment_intent_of_invoice(&invoice).await;
    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of(EMAIL).await,
        [paid(2500), ("refunded".to_owned(), 2500, 2500)]
    );

    // The donor raises the amount; the next instalment is the new one.
    let subscription: String =
        sqlx::query_scalar("SELECT stripe_subscription_id FROM recurring_gifts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let path = format!("/sandbox/stripe/v1/subscriptions/{subscription}");
    let current = stripe(&app, app.client.get(app.url(&path))).await;
    let item = &current["items"]["data"][0];
    let form = [
        ("items[0][id]", item["id"].as_str().expect("item id")),
        ("items[0][price_data][currency]", "eur"),
        (
            "items[0][price_data][product]",
            item["price"]["product"].as_str().expect("product"),
        ),
        ("items[0][price_data][recurring][interval]", "month"),
        ("items[0][price_data][unit_amount]", "4000"),
        ("proration_behavior", "none"),
    ];
    stripe(&app, app.client.post(app.url(&path)).form(&form)).await;
    app.settle_webhooks().await;
    let amount: i64 = sqlx::query_scalar("SELECT amount_cents FROM recurring_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(amount, 4000, "customer.subscription.updated applied");

    app.sandbox().advance_clock(MONTH).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of(EMAIL).await,
        [paid(2500), ("refunded".to_owned(), 2500, 2500), paid(4000)]
    );
}

/// Every donation of the ledger: how many, how much.
async fn ledger_totals(app: &crate::helpers::TestApp) -> (i64, i64) {
    sqlx::query_as("SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM donations")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The sandbox's subscriptions name the old ledger's pledges in their metadata: renewed into
/// a new database, they would settle whatever pledge has the same id there.
async fn a_new_database_with_the_same_data_dir_starts_with_an_empty_sandbox(backend: Backend) {
    let mut app = spawn_app(backend, Content::Demo).await;
    let (_, response) = app
        .give(
            SLUG,
            &[
                ("frequency", "monthly"),
                ("amount", "2500"),
                ("email", EMAIL),
            ],
            "card",
        )
        .await;
    assert_eq!(response.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(app.donations_of(EMAIL).await, [paid(2500)]);
    assert!(!app.sandbox().events().is_empty());
    let state_file = app.data_dir().join("stripe-sandbox.json");
    assert!(state_file.exists(), "the sandbox saved its state");
    let old_ledger: String = sqlx::query_scalar("SELECT ledger_id FROM ledger_identity")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    app.restart_on(TestDatabase::create(backend).await).await;
    let new_ledger: String = sqlx::query_scalar("SELECT ledger_id FROM ledger_identity")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(new_ledger, old_ledger, "each database has its own identity");
    assert!(
        app.sandbox().events().is_empty(),
        "the sandbox starts afresh"
    );
    assert!(
        app.data_dir()
            .join("stripe-sandbox.json.other-owner")
            .exists(),
        "the old ledger's sandbox state is set aside, not deleted"
    );

    let before = ledger_totals(&app).await;
    app.sandbox().advance_clock(MONTH).await;
    app.settle_webhooks().await;
    assert!(
        app.sandbox().events().is_empty(),
        "no subscription to renew"
    );
    assert_eq!(
        ledger_totals(&app).await,
        before,
        "nothing renewed into the new ledger"
    );
    assert_eq!(app.donations_of(EMAIL).await, []);
}

/// The sandbox is mounted on the public site and its API hands out donors' emails and
/// addresses: it answers only Obole's own secret key, random for each database and kept
/// across restarts. Any other key (the one once built into Obole included) gets Stripe's
/// 401 JSON and nothing of the donor's.
async fn the_sandbox_api_answers_only_obole_s_own_random_key(backend: Backend) {
    let mut app = spawn_app(backend, Content::Demo).await;
    let (session_id, _) = app.give(SLUG, &[("email", EMAIL)], "card").await;
    app.settle_webhooks().await;
    let key = app.sandbox().secret_key().to_owned();
    assert!(key.starts_with("sk_test_") && key.len() >= 64, "{key}");
    let path = format!("/sandbox/stripe/v1/checkout/sessions/{session_id}");
    let own = stripe(&app, app.client.get(app.url(&path))).await;
    assert_eq!(own["customer_email"], EMAIL, "Obole's own key opens it");

    let longer = format!("{key}0");
    for other in [
        "sk_test_obole_sandbox",
        "sk_live_anything",
        "sk_",
        "",
        &key[..key.len() - 1],
        longer.as_str(),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(other)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{other}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains(EMAIL) && !text.contains(&session_id),
            "{text}"
        );
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["type"], "invalid_request_error", "{text}");
    }
    let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let refunds = app
        .client
        .post(app.url("/sandbox/stripe/v1/refunds"))
        .bearer_auth("sk_test_obole_sandbox")
        .form(&[("payment_intent", "pi_anything")])
        .send()
        .await
        .unwrap();
    assert_eq!(refunds.status(), 401, "no refund either");

    let other_database = spawn_app(backend, Content::Empty).await;
    assert_ne!(other_database.sandbox().secret_key(), key, "random");
    drop(other_database);

    app.restart().await;
    assert_eq!(app.sandbox().secret_key(), key, "kept across a restart");
    let (_, paid) = app.give(SLUG, &[("email", EMAIL)], "card").await;
    assert_eq!(paid.status(), 303, "Obole still pays through its sandbox");
    app.settle_webhooks().await;
    assert_eq!(app.donations_of(EMAIL).await.len(), 2);
}
