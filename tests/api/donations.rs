//! Giving through Stripe Checkout (the sandbox), end to end: every gift is recorded exactly
//! once and the counters always equal a full recount.

use obole::store::counters;
use serde_json::Value;

use crate::helpers::fixtures;
use crate::helpers::{Backend, Content, TestApp, plain, spawn_app};

dual_backend_tests!(
    one_off_gift_by_card_end_to_end,
    monthly_gift_with_two_renewals,
    failed_renewal_marks_the_gift_past_due_then_retries_cancel_it,
    sepa_debit_pending_then_succeeded,
    sepa_debit_pending_then_failed,
    monthly_sepa_gift_whose_first_debit_fails,
    declined_card_records_nothing,
    refunds_partial_then_full_reduce_the_totals,
    refund_of_an_instalment_is_found_through_its_invoice,
    the_same_event_delivered_five_times_counts_once,
    recurring_sequence_delivered_in_reverse_order_converges,
    concurrent_duplicate_deliveries_count_once,
    an_event_that_cannot_apply_yet_does_not_sink_those_beside_it,
    events_applied_together_fall_back_one_by_one_when_one_fails,
    cancelled_checkout_returns_to_the_form_with_entries_kept,
    thank_you_page_waits_for_the_webhook,
);

const SLUG: &str = "le-sport-pour-grandir";

/// Counters and the back-office's summaries equal a full recount, for every campaign, the
/// organisation, each day and each supporter's year.
pub(crate) async fn assert_counters_match_ledger(app: &TestApp) {
    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.all_exact(), "drifted: {report:?}");
}

async fn campaign_totals(app: &TestApp) -> counters::Totals {
    let id = fixtures::campaign_id(&app.db, SLUG).await;
    counters::campaign(app.db.pool(), id).await.unwrap()
}

async fn one_off_gift_by_card_end_to_end(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let organisation_before = counters::organisation(app.db.pool()).await.unwrap();

    let (session_id, paid) = app
        .give(
            SLUG,
            &[("email", "claire@example.org"), ("first_name", "Claire")],
            "card",
        )
        .await;
    assert_eq!(paid.status(), 303, "back to the site after paying");
    let success = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        success.ends_with(&format!("/merci?session_id={session_id}")),
        "{success}"
    );
    app.settle_webhooks().await;

    assert_eq!(
        app.donations_of("claire@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    let (address, city): (String, String) = sqlx::query_as(
        "SELECT address_line1, city FROM supporters WHERE email = 'claire@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (address.as_str(), city.as_str()),
        ("3 rue des Lilas", "Lyon"),
        "identity kept for the tax receipt"
    );
    let pledge_status: String =
        sqlx::query_scalar("SELECT status FROM pledges WHERE stripe_checkout_session_id = $1")
            .bind(&session_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(pledge_status, "completed");

    let after = campaign_totals(&app).await;
    assert_eq!(after.raised_cents, before.raised_cents + 3000);
    assert_eq!(after.donations, before.donations + 1);
    assert_eq!(after.donors, before.donors + 1);
    let organisation = counters::organisation(app.db.pool()).await.unwrap();
    assert_eq!(
        organisation.raised_cents,
        organisation_before.raised_cents + 3000
    );

    let thanks = plain(&app.page(&format!("/merci?session_id={session_id}")).await);
    assert!(
        thanks.contains("Merci Claire !") && thanks.contains("Don confirmé"),
        "{thanks}"
    );
    assert!(
        thanks.contains("10,20 €"),
        "cost after the 66 % tax reduction"
    );
    assert!(
        thanks.contains("un mois de sport encadré pour un enfant"),
        "what the gift makes possible"
    );
    let campaign_page = app.page(&format!("/campagnes/{SLUG}")).await;
    assert!(
        campaign_page.contains("Claire D."),
        "shown publicly, as agreed"
    );
    assert_counters_match_ledger(&app).await;
}

async fn monthly_gift_with_two_renewals(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "paul@example.org"),
    ];
    let (session_id, paid) = app.give(SLUG, &fields, "card").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("paul@example.org").await.len(),
        1,
        "the first instalment"
    );

    for renewal in 2..=3 {
        app.sandbox().advance_clock(32 * 24 * 3600).await;
        app.settle_webhooks().await;
        let donations = app.donations_of("paul@example.org").await;
        assert_eq!(donations.len(), renewal, "one donation per paid invoice");
        assert!(donations.iter().all(|d| d == &("paid".to_owned(), 2500, 0)));
    }
    let (status, frequency, amount): (String, String, i64) =
        sqlx::query_as("SELECT status, frequency, amount_cents FROM recurring_gifts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), frequency.as_str(), amount),
        ("active", "monthly", 2500)
    );
    let recurring: i64 = app.count("SELECT COUNT(*) FROM donations WHERE frequency = 'monthly' AND recurring_gift_id IS NOT NULL").await;
    assert_eq!(recurring, 3);

    let after = campaign_totals(&app).await;
    assert_eq!(after.raised_cents, before.raised_cents + 7500);
    assert_eq!(
        after.donors,
        before.donors + 1,
        "one donor, however many instalments"
    );
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(thanks.contains("par mois"));
    assert_counters_match_ledger(&app).await;
}

/// The status of the only recurring gift.
pub(crate) async fn recurring_gift_status(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT status FROM recurring_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn failed_renewal_marks_the_gift_past_due_then_retries_cancel_it(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "1500"),
        ("email", "lea@example.org"),
    ];
    let (_, paid) = app.give(SLUG, &fields, "card_renewal_fails").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(recurring_gift_status(&app).await, "active");
    let after_first = campaign_totals(&app).await;

    app.sandbox().advance_clock(32 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(recurring_gift_status(&app).await, "past_due");
    assert_eq!(
        app.donations_of("lea@example.org").await,
        [("paid".to_owned(), 1500, 0)],
        "a failed renewal is no donation"
    );

    // Stripe retries 3, 5 and 7 days apart, then cancels the subscription.
    app.sandbox().advance_clock(20 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(recurring_gift_status(&app).await, "canceled");
    assert_eq!(app.donations_of("lea@example.org").await.len(), 1);
    assert_eq!(campaign_totals(&app).await, after_first);
    assert_counters_match_ledger(&app).await;
}

async fn sepa_debit_pending_then_succeeded(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let (session_id, _) = app
        .give(SLUG, &[("email", "sepa@example.org")], "sepa")
        .await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("sepa@example.org").await,
        vec![("pending".to_owned(), 3000, 0)]
    );
    assert_eq!(
        campaign_totals(&app).await,
        before,
        "pending money is not counted"
    );
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(thanks.contains("Prélèvement SEPA en cours"));

    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("sepa@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    assert_eq!(
        campaign_totals(&app).await.raised_cents,
        before.raised_cents + 3000
    );
    assert!(
        app.page(&format!("/merci?session_id={session_id}"))
            .await
            .contains("Don confirmé")
    );
    assert_counters_match_ledger(&app).await;
}

async fn sepa_debit_pending_then_failed(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let (session_id, _) = app
        .give(SLUG, &[("email", "rejet@example.org")], "sepa_fails")
        .await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("rejet@example.org").await,
        vec![("pending".to_owned(), 3000, 0)]
    );

    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("rejet@example.org").await,
        vec![("failed".to_owned(), 3000, 0)]
    );
    assert_eq!(campaign_totals(&app).await, before);
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(thanks.contains("pas pu être prélevé"), "{thanks}");
    assert_counters_match_ledger(&app).await;
}

async fn monthly_sepa_gift_whose_first_debit_fails(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2000"),
        ("email", "rejet-mensuel@example.org"),
    ];
    let (session_id, _) = app.give(SLUG, &fields, "sepa_fails").await;
    app.settle_webhooks().await;
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(thanks.contains("prélèvement"), "{thanks}");

    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    assert!(
        app.donations_of("rejet-mensuel@example.org")
            .await
            .is_empty()
    );
    let status: String = sqlx::query_scalar(
        "SELECT g.status FROM recurring_gifts g JOIN supporters s ON s.id = g.supporter_id \
         WHERE s.email = 'rejet-mensuel@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(status, "canceled", "Stripe ended the subscription");
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(thanks.contains("pas pu être prélevé"), "{thanks}");
    assert_eq!(campaign_totals(&app).await, before);
    assert_counters_match_ledger(&app).await;
}

async fn declined_card_records_nothing(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let (session_id, declined) = app
        .give(SLUG, &[("email", "refus@example.org")], "card_declined")
        .await;
    assert_eq!(declined.status(), 402);
    assert!(declined.text().await.unwrap().contains("refusée"));
    app.settle_webhooks().await;
    assert!(app.donations_of("refus@example.org").await.is_empty());
    assert_eq!(campaign_totals(&app).await, before);
    let thanks = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(
        thanks.contains("Reprendre le paiement"),
        "the donor can try again"
    );

    // The same session then paid with a working card.
    let checkout = format!("{}/sandbox/checkout/{session_id}", app.address);
    let paid = app
        .client
        .post(&checkout)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("refus@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    assert_counters_match_ledger(&app).await;
}

async fn refunds_partial_then_full_reduce_the_totals(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    app.give(
        SLUG,
        &[
            ("email", "rembourse@example.org"),
            ("amount", "other"),
            ("other_amount", "100"),
        ],
        "card",
    )
    .await;
    app.settle_webhooks().await;
    let payment_intent: String = sqlx::query_scalar(
        "SELECT d.stripe_payment_intent_id FROM donations d JOIN supporters s ON s.id = d.supporter_id \
         WHERE s.email = 'rembourse@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();

    app.refund(&payment_intent, Some(3000)).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("rembourse@example.org").await,
        vec![("paid".to_owned(), 10_000, 3000)]
    );
    let partial = campaign_totals(&app).await;
    assert_eq!(partial.raised_cents, before.raised_cents + 7000);
    assert_eq!(
        partial.donors,
        before.donors + 1,
        "still a donor after a partial refund"
    );
    assert_counters_match_ledger(&app).await;

    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;
    assert_eq!(
        app.donations_of("rembourse@example.org").await,
        vec![("refunded".to_owned(), 10_000, 10_000)]
    );
    assert_eq!(
        campaign_totals(&app).await,
        before,
        "a full refund takes the gift out entirely"
    );
    assert_counters_match_ledger(&app).await;
}

async fn refund_of_an_instalment_is_found_through_its_invoice(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "marc@example.org"),
    ];
    app.give(SLUG, &fields, "card").await;
    app.settle_webhooks().await;
    let invoice: String = sqlx::query_scalar(
        "SELECT stripe_invoice_id FROM donations WHERE stripe_invoice_id IS NOT NULL",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM donations WHERE stripe_payment_intent_id IS NOT NULL")
            .await,
        0,
        "as at Stripe, invoice.paid does not name its PaymentIntent"
    );

    // Staff refund the instalment's payment; the refund names only the PaymentIntent.
    let payment_intent = app.payment_intent_of_invoice(&invoice).await;
    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;

    assert_eq!(
        app.donations_of("marc@example.org").await,
        [("refunded".to_owned(), 2500, 2500)]
    );
    assert_eq!(campaign_totals(&app).await, before);
    assert_counters_match_ledger(&app).await;
}

/// Events the sandbox generated, without delivering them.
async fn undelivered_events_of_a_gift(
    app: &TestApp,
    fields: &[(&str, &str)],
    renewals: usize,
) -> Vec<Value> {
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    app.give(SLUG, fields, "card").await;
    for _ in 0..renewals {
        app.sandbox().advance_clock(32 * 24 * 3600).await;
    }
    app.sandbox().events().split_off(already)
}

async fn the_same_event_delivered_five_times_counts_once(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let events = undelivered_events_of_a_gift(&app, &[("email", "cinq@example.org")], 0).await;
    assert!(!events.is_empty());
    for event in &events {
        for _ in 0..5 {
            assert_eq!(app.deliver(event).await, 200, "{}", event["type"]);
        }
    }
    assert_eq!(
        app.donations_of("cinq@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    assert_eq!(
        campaign_totals(&app).await.raised_cents,
        before.raised_cents + 3000
    );
    let recorded = app.count("SELECT COUNT(*) FROM stripe_events").await;
    assert_eq!(recorded, events.len() as i64, "each event recorded once");
    assert_counters_match_ledger(&app).await;
}

async fn recurring_sequence_delivered_in_reverse_order_converges(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "envers@example.org"),
    ];
    let mut events = undelivered_events_of_a_gift(&app, &fields, 2).await;
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "invoice.paid").count(),
        3,
        "{types:?}"
    );
    events.reverse();

    // Stripe retries what was refused; so do we, a bounded number of rounds.
    let mut pending = events;
    for _ in 0..5 {
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
            break;
        }
    }
    assert!(pending.is_empty(), "every event applied in the end");

    let donations = app.donations_of("envers@example.org").await;
    assert_eq!(donations, vec![("paid".to_owned(), 2500, 0); 3]);
    let (status, period_end): (String, Option<i64>) =
        sqlx::query_as("SELECT status, current_period_end FROM recurring_gifts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "active");
    assert!(
        period_end.unwrap() > app.sandbox().now(),
        "the latest period, not an older one"
    );
    assert_eq!(
        campaign_totals(&app).await.raised_cents,
        before.raised_cents + 7500
    );
    assert_counters_match_ledger(&app).await;
}

async fn concurrent_duplicate_deliveries_count_once(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend, Content::Demo).await);
    let before = campaign_totals(&app).await;
    let events = undelivered_events_of_a_gift(&app, &[("email", "course@example.org")], 0).await;
    let completed = events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .expect("checkout.session.completed")
        .clone();
    let deliveries: Vec<_> = (0..8)
        .map(|_| {
            let (app, event) = (app.clone(), completed.clone());
            tokio::spawn(async move { app.deliver(&event).await })
        })
        .collect();
    for delivery in deliveries {
        let status = delivery.await.unwrap();
        assert!(status == 200 || status >= 500, "{status}");
    }
    // Whatever was refused under contention is retried, as Stripe would.
    assert_eq!(app.deliver(&completed).await, 200);
    assert_eq!(
        app.donations_of("course@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    let after = campaign_totals(&app).await;
    assert_eq!(
        (after.raised_cents, after.donations),
        (before.raised_cents + 3000, before.donations + 1)
    );
    assert_counters_match_ledger(&app).await;
}

async fn cancelled_checkout_returns_to_the_form_with_entries_kept(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [
        ("first_name", "Bérénice"),
        ("email", "berenice@example.org"),
        ("amount", "other"),
        ("other_amount", "42"),
    ];
    let submitted = app.submit_gift(SLUG, &fields).await;
    assert_eq!(submitted.status(), 303);
    let checkout = app
        .client
        .get(submitted.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    let page = checkout.text().await.unwrap();
    let cancel = page
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|href| href.contains("reprendre=1"))
        .expect("the checkout page links back to the form")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let cancel_path = &cancel[cancel.find("/campagnes").unwrap()..];
    let form = app.page(cancel_path).await;
    assert!(form.contains("value=\"Bérénice\""), "first name kept");
    assert!(
        form.contains("value=\"berenice@example.org\""),
        "email kept"
    );
    assert!(form.contains("value=\"42\""), "free amount kept");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM donations WHERE pledge_id IS NOT NULL")
            .await,
        0
    );
}

async fn thank_you_page_waits_for_the_webhook(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = undelivered_events_of_a_gift(&app, &[("email", "patience@example.org")], 0).await;
    let session_id = events
        .iter()
        .find_map(|e| {
            (e["type"] == "checkout.session.completed")
                .then(|| e["data"]["object"]["id"].as_str().unwrap().to_owned())
        })
        .unwrap();
    let waiting = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(
        waiting.contains("Paiement en cours de confirmation"),
        "{waiting}"
    );
    // It asks again by itself (thanks.js), or by a link without JavaScript; never by a
    // `<meta http-equiv="refresh">`, which reloads the page under a screen reader.
    assert!(
        waiting.contains("data-poll") && waiting.contains("/static/thanks.js?v="),
        "the page asks again: {waiting}"
    );
    assert!(!waiting.contains("http-equiv"), "{waiting}");
    for event in &events {
        assert_eq!(app.deliver(event).await, 200);
    }
    let confirmed = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(confirmed.contains("Don confirmé"));
    // A Checkout Session this browser did not start, ours or not: the page says nothing.
    let unknown = app.get("/merci?session_id=cs_inconnu").await;
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.unwrap();
    assert!(
        unknown.contains("Si vous venez de faire un don"),
        "{unknown}"
    );
    assert!(!unknown.contains("Don confirmé") && !unknown.contains("Paiement non"));
    assert_eq!(app.get("/merci").await.status(), 404);
}

async fn an_event_that_cannot_apply_yet_does_not_sink_those_beside_it(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend, Content::Demo).await);
    let events = undelivered_events_of_a_gift(&app, &[("email", "voisin@example.org")], 0).await;
    // A refund of a payment Obole has not recorded: refused (503) until Stripe retries.
    let orphan_refund = serde_json::json!({
        "id": "evt_orphan_refund", "object": "event", "type": "charge.refunded",
        "created": app.sandbox().now(), "livemode": false, "pending_webhooks": 1,
        "data": { "object": { "id": "ch_orphan", "object": "charge", "amount": 1000,
            "amount_refunded": 1000, "currency": "eur", "payment_intent": "pi_orphan" } }
    });
    let mut deliveries = vec![{
        let app = app.clone();
        tokio::spawn(async move { (true, app.deliver(&orphan_refund).await) })
    }];
    for event in events {
        let app = app.clone();
        deliveries.push(tokio::spawn(
            async move { (false, app.deliver(&event).await) },
        ));
    }
    for delivery in deliveries {
        let (orphan, status) = delivery.await.unwrap();
        if orphan {
            assert_eq!(status, 503, "refused, so that Stripe retries");
        } else {
            assert_eq!(status, 200, "applied whatever else was in flight");
        }
    }
    assert_eq!(
        app.donations_of("voisin@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    let orphan_recorded = app
        .count("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_orphan_refund'")
        .await;
    assert_eq!(
        orphan_recorded, 0,
        "a refused event is not recorded, so its retry applies"
    );
    assert_counters_match_ledger(&app).await;
}

/// The group commit used on SQLite, driven directly so the batch is certain.
async fn events_applied_together_fall_back_one_by_one_when_one_fails(backend: Backend) {
    use obole::payments::applier::{Applied, ApplyError, apply_together};
    use obole::payments::events::from_json;

    let app = spawn_app(backend, Content::Demo).await;
    let before = campaign_totals(&app).await;
    let events = undelivered_events_of_a_gift(&app, &[("email", "lot@example.org")], 0).await;
    let completed = events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .unwrap();
    let orphan_refund = serde_json::json!({
        "id": "evt_orphan_refund", "type": "charge.refunded", "created": app.sandbox().now(),
        "data": { "object": { "id": "ch_orphan", "amount": 1000, "amount_refunded": 1000,
            "currency": "eur", "payment_intent": "pi_orphan" } }
    });
    let batch: Vec<_> = [completed, &orphan_refund, completed]
        .into_iter()
        .map(|e| from_json(e).expect("a readable event"))
        .collect();

    let results = apply_together(&app.db, &batch).await;
    assert!(matches!(results[0], Ok(Applied::Done)), "{:?}", results[0]);
    assert!(
        matches!(results[1], Err(ApplyError::NotYet(_))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Ok(Applied::Duplicate)),
        "{:?}",
        results[2]
    );
    assert_eq!(
        app.donations_of("lot@example.org").await,
        vec![("paid".to_owned(), 3000, 0)]
    );
    assert_eq!(
        campaign_totals(&app).await.raised_cents,
        before.raised_cents + 3000
    );

    // Without a failure, one transaction holds them all, a redelivery included.
    let second = undelivered_events_of_a_gift(&app, &[("email", "lot2@example.org")], 0).await;
    let completed = second
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .unwrap();
    let twice = vec![from_json(completed).unwrap(), from_json(completed).unwrap()];
    let results = apply_together(&app.db, &twice).await;
    assert!(
        matches!(results[0], Ok(Applied::Done)) && matches!(results[1], Ok(Applied::Duplicate))
    );
    assert_eq!(app.donations_of("lot2@example.org").await.len(), 1);
    assert_counters_match_ledger(&app).await;
}
