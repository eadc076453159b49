//! Recurring gifts: one per Stripe subscription. Their instalments are donations.

use sqlx::AnyConnection;

use super::flag;
use crate::db::Backend;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecurringGift {
    pub id: i64,
    pub supporter_id: i64,
    pub campaign_id: i64,
    pub pledge_id: Option<i64>,
    pub amount_cents: i64,
    pub currency: String,
    pub frequency: String,
    pub status: String,
    pub stripe_subscription_id: Option<String>,
    pub cancel_at_period_end: i64,
    pub current_period_end: Option<i64>,
    pub stripe_event_at: i64,
}

const COLUMNS: &str = "id, supporter_id, campaign_id, pledge_id, amount_cents, currency, frequency, status, \
    stripe_subscription_id, cancel_at_period_end, current_period_end, stripe_event_at";

pub struct NewRecurringGift<'a> {
    pub supporter_id: i64,
    pub campaign_id: i64,
    pub pledge_id: i64,
    pub amount_cents: i64,
    pub currency: &'a str,
    pub frequency: &'a str,
    pub status: &'a str,
    pub stripe_subscription_id: &'a str,
    pub stripe_customer_id: Option<&'a str>,
}

/// Creates the gift of a subscription unless it exists; returns it either way, locked as
/// [`find_by_subscription`] does.
pub async fn ensure(
    conn: &mut AnyConnection,
    backend: Backend,
    new: &NewRecurringGift<'_>,
    now: i64,
) -> sqlx::Result<RecurringGift> {
    sqlx::query(
        "INSERT INTO recurring_gifts (supporter_id, campaign_id, pledge_id, amount_cents, currency, frequency, \
             status, stripe_subscription_id, stripe_customer_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (stripe_subscription_id) DO NOTHING",
    )
    .bind(new.supporter_id)
    .bind(new.campaign_id)
    .bind(new.pledge_id)
    .bind(new.amount_cents)
    .bind(new.currency)
    .bind(new.frequency)
    .bind(new.status)
    .bind(new.stripe_subscription_id)
    .bind(new.stripe_customer_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    find_by_subscription(conn, backend, new.stripe_subscription_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The gift of a subscription. On PostgreSQL the row stays locked until the transaction ends,
/// so that the events of one subscription apply one after the other: each then sees what the
/// previous one wrote (SQLite's write transactions already take turns). `NO KEY UPDATE`, as
/// for pledges: donations' foreign keys must not wait on it.
pub async fn find_by_subscription(
    conn: &mut AnyConnection,
    backend: Backend,
    subscription_id: &str,
) -> sqlx::Result<Option<RecurringGift>> {
    let lock = backend.lock_for_no_key_update();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recurring_gifts WHERE stripe_subscription_id = $1{lock}"
    ))
    .bind(subscription_id)
    .fetch_optional(conn)
    .await
}

/// The subscription's state as of a Stripe event created at `event_at`; ignored when a newer
/// event was already applied, and a canceled gift stays canceled. Stripe's times are whole
/// seconds: on a tie the later-applied event wins, except `customer.subscription.created`,
/// which Stripe sends before any update of the same second.
pub struct SubscriptionState<'a> {
    pub status: &'a str,
    pub amount_cents: Option<i64>,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<i64>,
    pub event_at: i64,
    /// From `customer.subscription.created`: loses ties.
    pub creation: bool,
}

pub async fn apply_state(
    conn: &mut AnyConnection,
    gift_id: i64,
    state: &SubscriptionState<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE recurring_gifts SET status = $1, amount_cents = COALESCE($2, amount_cents), \
             cancel_at_period_end = $3, current_period_end = COALESCE($4, current_period_end), \
             canceled_at = CASE WHEN $1 = 'canceled' THEN COALESCE(canceled_at, $5) ELSE canceled_at END, \
             stripe_event_at = $5, updated_at = $6 \
         WHERE id = $7 AND status <> 'canceled' \
           AND (stripe_event_at < $5 OR (stripe_event_at = $5 AND $8 = 0))",
    )
    .bind(state.status)
    .bind(state.amount_cents)
    .bind(flag(state.cancel_at_period_end))
    .bind(state.current_period_end)
    .bind(state.event_at)
    .bind(now)
    .bind(gift_id)
    .bind(flag(state.creation))
    .execute(conn)
    .await
    .map(|_| ())
}

/// A payment outcome of Stripe's time `event_at` moves the status, as long as no subscription
/// event newer than it was applied (that one knows better): paid → `active` (from
/// `incomplete` or `past_due`), failed → `past_due` (from `active`, unless an instalment was
/// paid since: a failure delivered after its recovery is old news).
pub async fn payment_outcome(
    conn: &mut AnyConnection,
    gift: &RecurringGift,
    paid: bool,
    event_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    let (to, from): (&str, &[&str]) = if paid {
        ("active", &["incomplete", "past_due"])
    } else {
        ("past_due", &["active"])
    };
    if !from.contains(&gift.status.as_str()) || gift.stripe_event_at > event_at {
        return Ok(()); // The usual case: an instalment of an active gift changes nothing here.
    }
    sqlx::query(
        "UPDATE recurring_gifts SET status = $1, updated_at = $2 \
         WHERE id = $3 AND status = $4 AND stripe_event_at <= $5 \
           AND ($6 = 1 OR NOT EXISTS (SELECT 1 FROM donations WHERE recurring_gift_id = $3 \
                AND status IN ('paid', 'refunded') AND donated_at >= $5))",
    )
    .bind(to)
    .bind(now)
    .bind(gift.id)
    .bind(&gift.status)
    .bind(event_at)
    .bind(flag(paid))
    .execute(conn)
    .await
    .map(|_| ())
}
