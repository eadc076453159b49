//! The rows the webhook rules read and write: a row stored once stays readable whatever
//! today's input rules, and an update made on a reading the row no longer matches is refused
//! (Stripe is then answered 5xx and delivers again), never dropped in silence.

use obole::domain::dates;
use obole::domain::donation::DonationStatus;
use obole::domain::pledge::PledgeStatus;
use obole::domain::recurring_gift::RecurringGiftStatus;
use obole::store::WriteError;
use obole::store::donations::StripeRef;
use obole::store::recurring_gifts::{self, SubscriptionState};
use obole::store::{donations, pledges};

use crate::event_order::{deliver_all, events_of_gift};
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    a_pledge_whose_stored_email_fails_today_s_parser_still_gets_its_payment,
    settling_a_pledge_on_a_stale_reading_is_refused,
    a_subscription_state_on_a_stale_reading_of_its_gift_is_refused,
    a_refund_on_a_stale_reading_of_its_donation_is_refused,
);

const SLUG: &str = "le-sport-pour-grandir";

async fn pledge_id_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM pledges WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// A validator tightened after the pledge was written must not stop its payment: rows are
/// read as stored, only input is validated.
async fn a_pledge_whose_stored_email_fails_today_s_parser_still_gets_its_payment(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let events = events_of_gift(&app, &[("email", "ancienne@example.org")], "card").await;
    // Accepted by yesterday's rules, refused by today's parser (a space, no dotted domain).
    let stored = "ancienne adresse@exemple";
    sqlx::query("UPDATE pledges SET email = $1 WHERE email = $2")
        .bind(stored)
        .bind("ancienne@example.org")
        .execute(app.db.pool())
        .await
        .unwrap();
    deliver_all(&app, &events).await;
    assert_eq!(
        app.donations_of(stored).await,
        [("paid".to_owned(), 3000, 0)]
    );
}

async fn settling_a_pledge_on_a_stale_reading_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let email = "perime@example.org";
    let submitted = app.submit_gift(SLUG, &[("email", email)]).await;
    assert_eq!(submitted.status(), 303);
    let id = pledge_id_of(&app, email).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let read = pledges::find(&mut conn, id)
        .await
        .unwrap()
        .expect("the pledge");
    assert_eq!(read.status, PledgeStatus::Open);
    // Meanwhile the checkout failed (another event, without the lock the reading needed).
    sqlx::query("UPDATE pledges SET status = $1 WHERE id = $2")
        .bind(PledgeStatus::Failed.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await
        .unwrap();

    let settled = pledges::settle(
        &mut conn,
        &read,
        PledgeStatus::Completed,
        None,
        dates::now(),
    )
    .await;
    assert!(matches!(settled, Err(WriteError::Stale(_))), "{settled:?}");
    let now = pledges::find(&mut conn, id)
        .await
        .unwrap()
        .expect("the pledge");
    assert_eq!(now.status, PledgeStatus::Failed, "not written over");
}

/// The subscription id of the donor's recurring gift, given and delivered in full.
async fn monthly_gift(app: &TestApp, email: &str) -> String {
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", email),
    ];
    deliver_all(app, &events_of_gift(app, &fields, "card").await).await;
    sqlx::query_scalar(
        "SELECT g.stripe_subscription_id FROM recurring_gifts g \
         JOIN supporters s ON s.id = g.supporter_id WHERE s.email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

async fn a_subscription_state_on_a_stale_reading_of_its_gift_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let subscription = monthly_gift(&app, "abonnement-perime@example.org").await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let read = recurring_gifts::find_by_subscription(&mut conn, app.db.backend(), &subscription)
        .await
        .unwrap()
        .expect("the gift");
    assert_eq!(read.status, RecurringGiftStatus::Active);
    // Meanwhile a newer subscription event paused it.
    sqlx::query("UPDATE recurring_gifts SET status = $1, stripe_event_at = stripe_event_at + 10 WHERE id = $2")
        .bind(RecurringGiftStatus::Paused.as_str())
        .bind(read.id)
        .execute(&mut *conn)
        .await
        .unwrap();

    let state = SubscriptionState {
        status: RecurringGiftStatus::Canceled,
        amount_cents: None,
        frequency: None,
        cancel_at_period_end: false,
        current_period_end: None,
        paused_until: None,
        event_at: read.stripe_event_at + 5,
        creation: false,
    };
    let applied = recurring_gifts::apply_state(&mut conn, &read, &state, dates::now()).await;
    assert!(matches!(applied, Err(WriteError::Stale(_))), "{applied:?}");
}

async fn a_refund_on_a_stale_reading_of_its_donation_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let email = "don-perime@example.org";
    deliver_all(
        &app,
        &events_of_gift(&app, &[("email", email)], "card").await,
    )
    .await;
    let session: String =
        sqlx::query_scalar("SELECT stripe_checkout_session_id FROM pledges WHERE email = $1")
            .bind(email)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let read = donations::find(&mut conn, StripeRef::CheckoutSession(&session))
        .await
        .unwrap()
        .expect("the donation");
    assert_eq!(read.status, DonationStatus::Paid);
    // Meanwhile a first partial refund was recorded.
    sqlx::query("UPDATE donations SET refunded_cents = 1000 WHERE id = $1")
        .bind(read.id)
        .execute(&mut *conn)
        .await
        .unwrap();

    let refunded =
        donations::record_refund(&mut conn, app.db.backend(), &read, 500, dates::now()).await;
    assert!(
        matches!(refunded, Err(WriteError::Stale(_))),
        "{refunded:?}"
    );
    assert_eq!(
        app.donations_of(email).await,
        [("paid".to_owned(), 3000, 1000)]
    );
}
