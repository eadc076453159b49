//! Donations: the ledger of confirmed money. Writing one moves the counters in the same
//! transaction.

use sqlx::AnyConnection;

use super::counters::{self, CounterChange};
use super::{WriteError, flag, guarded};
use crate::db::Backend;
use crate::domain::dedication::DedicationKind;
use crate::domain::donation::{DonationStatus, PaymentMethod, Refundable};
use crate::domain::frequency::Frequency;
use crate::domain::money::{Currency, Money};

/// A confirmed gift to record.
#[derive(Debug, Clone)]
pub struct NewDonation {
    pub campaign_id: i64,
    pub supporter_id: i64,
    pub pledge_id: Option<i64>,
    pub recurring_gift_id: Option<i64>,
    pub amount: Money,
    pub frequency: Frequency,
    pub payment_method: PaymentMethod,
    pub show_publicly: bool,
    pub public_name: Option<String>,
    pub dedication_kind: Option<DedicationKind>,
    pub dedication_name: Option<String>,
    pub stripe_checkout_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub stripe_invoice_id: Option<String>,
    pub donated_at: i64,
}

/// Records a paid donation and adds it to the counters; returns its id. Call inside a write
/// transaction ([`crate::db::Db::begin_write`]).
pub async fn insert_paid(
    conn: &mut AnyConnection,
    backend: Backend,
    d: &NewDonation,
    now: i64,
) -> sqlx::Result<i64> {
    insert(conn, backend, d, DonationStatus::Paid, now)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Inserts a donation unless one with the same Stripe ids exists (then `None`: the caller
/// reads the existing row). A paid one moves the counters in the same transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    d: &NewDonation,
    status: DonationStatus,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO donations (campaign_id, supporter_id, pledge_id, recurring_gift_id, amount_cents, \
             refunded_cents, currency, frequency, payment_method, status, show_publicly, public_name, \
             dedication_kind, dedication_name, stripe_checkout_session_id, stripe_payment_intent_id, \
             stripe_invoice_id, donated_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(d.campaign_id)
    .bind(d.supporter_id)
    .bind(d.pledge_id)
    .bind(d.recurring_gift_id)
    .bind(d.amount.cents)
    .bind(d.amount.currency.as_str())
    .bind(d.frequency.as_str())
    .bind(d.payment_method.as_str())
    .bind(status.as_str())
    .bind(flag(d.show_publicly))
    .bind(&d.public_name)
    .bind(d.dedication_kind.map(|kind| kind.as_str()))
    .bind(&d.dedication_name)
    .bind(&d.stripe_checkout_session_id)
    .bind(&d.stripe_payment_intent_id)
    .bind(&d.stripe_invoice_id)
    .bind(d.donated_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let (Some(id), DonationStatus::Paid) = (id, status) {
        let change = CounterChange {
            campaign_id: d.campaign_id,
            supporter_id: d.supporter_id,
            donation_id: id,
            raised_delta: d.amount.cents,
            paid_delta: 1,
            donated_at: d.donated_at,
            recurring: d.frequency != Frequency::Once,
        };
        counters::apply(conn, backend, change).await?;
    }
    Ok(id)
}

/// A donation as the payment flow needs to see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DonationRow {
    pub id: i64,
    pub campaign_id: i64,
    pub supporter_id: i64,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    /// What disputes hold ([`Refundable::dispute`]).
    pub disputed_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub status: DonationStatus,
    pub stripe_payment_intent_id: Option<String>,
    pub donated_at: i64,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
}

impl DonationRow {
    fn refundable(&self) -> Refundable {
        Refundable {
            status: self.status,
            amount_cents: self.amount_cents,
            refunded_cents: self.refunded_cents,
            disputed_cents: self.disputed_cents,
        }
    }

    /// How the totals move when the donation becomes `after`.
    fn change(&self, after: Refundable) -> CounterChange {
        let moved = after.counted().minus(self.refundable().counted());
        CounterChange {
            campaign_id: self.campaign_id,
            supporter_id: self.supporter_id,
            donation_id: self.id,
            raised_delta: moved.raised_cents,
            paid_delta: moved.paid,
            donated_at: self.donated_at,
            recurring: self.frequency != Frequency::Once,
        }
    }
}

/// Looks a donation up by one of its Stripe ids.
#[derive(Debug, Clone, Copy)]
pub enum StripeRef<'a> {
    CheckoutSession(&'a str),
    Invoice(&'a str),
    PaymentIntent(&'a str),
}

/// Notes the reference of a gift entered by hand (a cheque's number, a transfer's label).
pub async fn set_reference(conn: &mut AnyConnection, id: i64, reference: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE donations SET reference = $1 WHERE id = $2")
        .bind(reference)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// A donation by its own id, locked like [`find_locked`] (a refund from the back-office).
pub async fn find_by_id_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> sqlx::Result<Option<DonationRow>> {
    sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM donations WHERE id = $1{}",
        backend.lock_for_update()
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

const ROW_COLUMNS: &str = "id, campaign_id, supporter_id, amount_cents, refunded_cents, \
     disputed_cents, currency, status, stripe_payment_intent_id, donated_at, frequency";

pub async fn find(
    conn: &mut AnyConnection,
    by: StripeRef<'_>,
) -> sqlx::Result<Option<DonationRow>> {
    select(conn, by, "").await
}

/// Like [`find`], and on PostgreSQL the row stays locked until the transaction ends, so
/// concurrent events touching one donation apply one after the other (SQLite's write
/// transactions already do).
pub async fn find_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    by: StripeRef<'_>,
) -> sqlx::Result<Option<DonationRow>> {
    select(conn, by, backend.lock_for_update()).await
}

async fn select(
    conn: &mut AnyConnection,
    by: StripeRef<'_>,
    lock: &str,
) -> sqlx::Result<Option<DonationRow>> {
    let (column, id) = match by {
        StripeRef::CheckoutSession(id) => ("stripe_checkout_session_id", id),
        StripeRef::Invoice(id) => ("stripe_invoice_id", id),
        StripeRef::PaymentIntent(id) => ("stripe_payment_intent_id", id),
    };
    sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM donations WHERE {column} = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// How many instalments of a recurring pledge were received (paid, even if refunded since).
pub async fn count_received_of_pledge(
    conn: &mut AnyConnection,
    pledge_id: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM donations WHERE pledge_id = $1 AND status IN ($2, $3)")
        .bind(pledge_id)
        .bind(DonationStatus::Paid.as_str())
        .bind(DonationStatus::Refunded.as_str())
        .fetch_one(conn)
        .await
}

/// The instalments of a recurring pledge: (paid, refunded in full).
pub async fn instalments_of_pledge(
    conn: &mut AnyConnection,
    pledge_id: i64,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN status = $3 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM donations WHERE pledge_id = $1",
    )
    .bind(pledge_id)
    .bind(DonationStatus::Paid.as_str())
    .bind(DonationStatus::Refunded.as_str())
    .fetch_one(conn)
    .await
}

/// Fills in the payment intent of a donation recorded before it was known.
pub async fn set_payment_intent(
    conn: &mut AnyConnection,
    donation_id: i64,
    payment_intent: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE donations SET stripe_payment_intent_id = $1 WHERE id = $2 AND stripe_payment_intent_id IS NULL")
        .bind(payment_intent)
        .bind(donation_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Settles a pending donation with a payment's outcome (pending → paid or failed) and moves
/// the counters with it; nothing when it is not pending any more. Returns the status it moved
/// to, if it moved. The donation was read locked ([`find_locked`]); [`WriteError::Stale`] if
/// it moved since all the same.
pub async fn settle(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    outcome: DonationStatus,
    now: i64,
) -> Result<Option<DonationStatus>, WriteError> {
    let Some(status) = donation.status.settle(outcome) else {
        return Ok(None);
    };
    let updated = sqlx::query(
        "UPDATE donations SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(status.as_str())
    .bind(now)
    .bind(donation.id)
    .bind(donation.status.as_str())
    .execute(&mut *conn)
    .await?;
    guarded(updated.rows_affected(), "donation")?;
    let change = donation.change(Refundable {
        status,
        ..donation.refundable()
    });
    if change.paid_delta != 0 {
        counters::apply(conn, backend, change).await?;
    }
    Ok(Some(status))
}

/// Sets what Stripe says was refunded in total ([`Refundable::refund`]), and the counters with
/// it; returns the new total when it moved. The donation was read locked, as for [`settle`].
pub async fn record_refund(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    total_refunded: i64,
    now: i64,
) -> Result<Option<i64>, WriteError> {
    let Some(after) = donation.refundable().refund(total_refunded) else {
        return Ok(None);
    };
    write_money(conn, backend, donation, after, now).await?;
    Ok(Some(after.refunded_cents))
}

/// Sets what the donation's disputes hold in all ([`Refundable::dispute`]), and the counters
/// with it; returns the new amount held when it moved. The donation was read locked, as for
/// [`settle`].
pub async fn record_dispute(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    held_cents: i64,
    now: i64,
) -> Result<Option<i64>, WriteError> {
    let Some(after) = donation.refundable().dispute(held_cents) else {
        return Ok(None);
    };
    write_money(conn, backend, donation, after, now).await?;
    Ok(Some(after.disputed_cents))
}

/// Writes what refunds and disputes left of the donation, guarded by what was read, and
/// moves the counters by the difference.
async fn write_money(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    after: Refundable,
    now: i64,
) -> Result<(), WriteError> {
    let updated = sqlx::query(
        "UPDATE donations SET refunded_cents = $1, disputed_cents = $2, status = $3, updated_at = $4 \
         WHERE id = $5 AND refunded_cents = $6 AND disputed_cents = $7 AND status = $8",
    )
    .bind(after.refunded_cents)
    .bind(after.disputed_cents)
    .bind(after.status.as_str())
    .bind(now)
    .bind(donation.id)
    .bind(donation.refunded_cents)
    .bind(donation.disputed_cents)
    .bind(donation.status.as_str())
    .execute(&mut *conn)
    .await?;
    guarded(updated.rows_affected(), "donation")?;
    let change = donation.change(after);
    if (change.raised_delta, change.paid_delta) != (0, 0) {
        counters::apply(conn, backend, change).await?;
    }
    Ok(())
}
