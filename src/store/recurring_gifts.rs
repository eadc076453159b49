//! Recurring gifts: one per Stripe subscription. Their instalments are donations.

use sqlx::AnyConnection;

use super::{WriteError, flag, guarded};
use crate::db::Backend;
use crate::domain::donation::DonationStatus;
use crate::domain::frequency::Frequency;
use crate::domain::money::{Currency, Money};
use crate::domain::recurring_gift::{GiftState, RecurringGiftStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecurringGift {
    pub id: i64,
    pub supporter_id: i64,
    pub campaign_id: i64,
    pub pledge_id: Option<i64>,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    #[sqlx(try_from = "String")]
    pub status: RecurringGiftStatus,
    pub stripe_subscription_id: Option<String>,
    pub cancel_at_period_end: i64,
    pub current_period_end: Option<i64>,
    pub stripe_event_at: i64,
}

impl RecurringGift {
    fn state(&self) -> GiftState {
        GiftState {
            status: self.status,
            stripe_event_at: self.stripe_event_at,
        }
    }
}

const COLUMNS: &str = "id, supporter_id, campaign_id, pledge_id, amount_cents, currency, frequency, status, \
    stripe_subscription_id, cancel_at_period_end, current_period_end, stripe_event_at";

pub struct NewRecurringGift<'a> {
    pub supporter_id: i64,
    pub campaign_id: i64,
    pub pledge_id: i64,
    pub amount: Money,
    pub frequency: Frequency,
    pub stripe_subscription_id: &'a str,
    pub stripe_customer_id: Option<&'a str>,
}

/// Creates the gift of a subscription unless it exists; returns it either way, locked as
/// [`find_by_subscription`] does. A new gift is `incomplete`, whatever the event creating it:
/// the subscription's own events decide the status (Stripe may still retry a failed first
/// debit).
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
    .bind(new.amount.cents)
    .bind(new.amount.currency.as_str())
    .bind(new.frequency.as_str())
    .bind(RecurringGiftStatus::Incomplete.as_str())
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

/// The pledge of a subscription's gift, read without a lock (a gift's pledge never changes):
/// `None` when there is no gift yet, `Some(None)` for a gift that no pledge started. Lets
/// the caller lock the pledge before the gift, in the order a checkout takes them.
pub async fn pledge_of_subscription(
    conn: &mut AnyConnection,
    subscription_id: &str,
) -> sqlx::Result<Option<Option<i64>>> {
    sqlx::query_scalar("SELECT pledge_id FROM recurring_gifts WHERE stripe_subscription_id = $1")
        .bind(subscription_id)
        .fetch_optional(conn)
        .await
}

/// The subscription's state as of a Stripe event created at `event_at`.
pub struct SubscriptionState {
    pub status: RecurringGiftStatus,
    pub amount_cents: Option<i64>,
    pub frequency: Option<Frequency>,
    pub cancel_at_period_end: bool,
    pub current_period_end: Option<i64>,
    /// Until when a pause lasts, when it ends by itself.
    pub paused_until: Option<i64>,
    pub event_at: i64,
    /// From `customer.subscription.created`: loses ties ([`GiftState::takes_update`]).
    pub creation: bool,
}

/// Applies the state unless the gift does not take it ([`GiftState::takes_update`]: an older
/// event, or a canceled gift); returns whether it did. The gift was read locked
/// ([`find_by_subscription`]); the `WHERE` makes sure it did not move since, and
/// [`WriteError::Stale`] says it did.
pub async fn apply_state(
    conn: &mut AnyConnection,
    gift: &RecurringGift,
    state: &SubscriptionState,
    now: i64,
) -> Result<bool, WriteError> {
    if !gift.state().takes_update(state.event_at, state.creation) {
        return Ok(false);
    }
    let updated = sqlx::query(
        "UPDATE recurring_gifts SET status = $1, amount_cents = COALESCE($2, amount_cents), \
             cancel_at_period_end = $3, current_period_end = COALESCE($4, current_period_end), \
             paused_until = $11, frequency = COALESCE($12, frequency), \
             canceled_at = CASE WHEN $8 = 1 THEN COALESCE(canceled_at, $5) ELSE canceled_at END, \
             stripe_event_at = $5, updated_at = $6 \
         WHERE id = $7 AND status = $9 AND stripe_event_at = $10",
    )
    .bind(state.status.as_str())
    .bind(state.amount_cents)
    .bind(flag(state.cancel_at_period_end))
    .bind(state.current_period_end)
    .bind(state.event_at)
    .bind(now)
    .bind(gift.id)
    .bind(flag(state.status == RecurringGiftStatus::Canceled))
    .bind(gift.status.as_str())
    .bind(gift.stripe_event_at)
    .bind(state.paused_until)
    .bind(state.frequency.map(|f| f.as_str()))
    .execute(conn)
    .await?;
    guarded(updated.rows_affected(), "recurring gift")?;
    Ok(true)
}

/// A payment outcome of Stripe's time `event_at` ([`GiftState::after_payment`]), unless it is
/// a failure delivered after an instalment paid since (old news). The gift was read locked, as
/// for [`apply_state`] (which also says why [`WriteError::Stale`]); so are its instalments,
/// which are only written by events holding that lock.
pub async fn payment_outcome(
    conn: &mut AnyConnection,
    gift: &RecurringGift,
    paid: bool,
    event_at: i64,
    now: i64,
) -> Result<(), WriteError> {
    let Some(status) = gift.state().after_payment(paid, event_at) else {
        return Ok(()); // The usual case: an instalment of an active gift changes nothing here.
    };
    if !paid && paid_since(conn, gift.id, event_at).await? {
        return Ok(());
    }
    let updated = sqlx::query(
        "UPDATE recurring_gifts SET status = $1, updated_at = $2 \
         WHERE id = $3 AND status = $4 AND stripe_event_at = $5",
    )
    .bind(status.as_str())
    .bind(now)
    .bind(gift.id)
    .bind(gift.status.as_str())
    .bind(gift.stripe_event_at)
    .execute(conn)
    .await?;
    guarded(updated.rows_affected(), "recurring gift")
}

/// A renewal of the gift failed at `at` (Stripe's time): a run of failures begins, unless one
/// is open. When a payment arrived after it already (events come in any order), the run is
/// recorded as recovered by the first such payment.
pub async fn failure_began(
    conn: &mut AnyConnection,
    gift_id: i64,
    at: i64,
    now: i64,
) -> sqlx::Result<()> {
    let recovered_at: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(donated_at) FROM donations WHERE recurring_gift_id = $1 \
             AND status IN ($2, $3) AND donated_at >= $4",
    )
    .bind(gift_id)
    .bind(DonationStatus::Paid.as_str())
    .bind(DonationStatus::Refunded.as_str())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    // Either unique index (one open run per gift, one run per recovering payment) makes a
    // repeated or late failure add nothing.
    sqlx::query(
        "INSERT INTO payment_failures (recurring_gift_id, failed_at, recovered_at, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(gift_id)
    .bind(at)
    .bind(recovered_at)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A payment of the gift went through at `at`: the open run of failures before it, if any,
/// is recovered.
pub async fn failure_ended(conn: &mut AnyConnection, gift_id: i64, at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_failures SET recovered_at = $2 \
         WHERE recurring_gift_id = $1 AND recovered_at IS NULL AND failed_at <= $2",
    )
    .bind(gift_id)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether an instalment of the gift donated at `at` or later was received (paid, even if
/// refunded since).
async fn paid_since(conn: &mut AnyConnection, gift_id: i64, at: i64) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM donations WHERE recurring_gift_id = $1 \
             AND status IN ($2, $3) AND donated_at >= $4",
    )
    .bind(gift_id)
    .bind(DonationStatus::Paid.as_str())
    .bind(DonationStatus::Refunded.as_str())
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(count > 0)
}

/// What the link of a failed-payment email needs: the gift's status, and the Stripe customer
/// whose portal it opens (the gift's, else its supporter's).
pub async fn portal_customer(
    pool: &sqlx::AnyPool,
    gift_id: i64,
) -> sqlx::Result<Option<(RecurringGiftStatus, Option<String>)>> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT g.status, COALESCE(g.stripe_customer_id, s.stripe_customer_id) \
         FROM recurring_gifts g JOIN supporters s ON s.id = g.supporter_id WHERE g.id = $1",
    )
    .bind(gift_id)
    .fetch_optional(pool)
    .await?;
    row.map(|(status, customer)| {
        let status = status
            .parse()
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok((status, customer))
    })
    .transpose()
}
