//! Donations: the ledger of confirmed money. Writing one moves the counters in the same
//! transaction.

use sqlx::AnyConnection;

use super::counters::{self, CounterChange};
use super::flag;
use crate::db::Backend;

/// A confirmed gift to record.
#[derive(Debug, Clone)]
pub struct NewDonation {
    pub campaign_id: i64,
    pub supporter_id: i64,
    pub pledge_id: Option<i64>,
    pub recurring_gift_id: Option<i64>,
    pub amount_cents: i64,
    pub currency: String,
    /// `once`, `monthly` or `yearly`.
    pub frequency: String,
    pub payment_method: String,
    pub show_publicly: bool,
    pub public_name: Option<String>,
    pub dedication_kind: Option<String>,
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
    insert(conn, backend, d, Status::Paid, now)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Where a donation stands. Only `Paid` counts in the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Confirmed but not settled yet (a SEPA debit).
    Pending,
    Paid,
    Failed,
    Refunded,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Failed => "failed",
            Status::Refunded => "refunded",
        }
    }
}

/// Inserts a donation unless one with the same Stripe ids exists (then `None`: the caller
/// reads the existing row). A paid one moves the counters in the same transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    d: &NewDonation,
    status: Status,
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
    .bind(d.amount_cents)
    .bind(&d.currency)
    .bind(&d.frequency)
    .bind(&d.payment_method)
    .bind(status.as_str())
    .bind(flag(d.show_publicly))
    .bind(&d.public_name)
    .bind(&d.dedication_kind)
    .bind(&d.dedication_name)
    .bind(&d.stripe_checkout_session_id)
    .bind(&d.stripe_payment_intent_id)
    .bind(&d.stripe_invoice_id)
    .bind(d.donated_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let (Some(id), Status::Paid) = (id, status) {
        let change = CounterChange {
            campaign_id: d.campaign_id,
            supporter_id: d.supporter_id,
            donation_id: id,
            raised_delta: d.amount_cents,
            paid_delta: 1,
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
    pub status: String,
    pub stripe_payment_intent_id: Option<String>,
}

/// Looks a donation up by one of its Stripe ids.
#[derive(Debug, Clone, Copy)]
pub enum StripeRef<'a> {
    CheckoutSession(&'a str),
    Invoice(&'a str),
    PaymentIntent(&'a str),
}

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
        "SELECT id, campaign_id, supporter_id, amount_cents, refunded_cents, status, stripe_payment_intent_id \
         FROM donations WHERE {column} = $1{lock}"
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
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM donations WHERE pledge_id = $1 AND status IN ('paid', 'refunded')",
    )
    .bind(pledge_id)
    .fetch_one(conn)
    .await
}

/// The instalments of a recurring pledge: (paid, refunded in full).
pub async fn instalments_of_pledge(
    conn: &mut AnyConnection,
    pledge_id: i64,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM donations WHERE pledge_id = $1",
    )
    .bind(pledge_id)
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

/// Moves a donation from `from` to `to` (e.g. pending → paid) and the counters with it.
/// Returns `false` when it was not in `from` any more: someone else moved it first.
pub async fn transition(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    from: Status,
    to: Status,
    now: i64,
) -> sqlx::Result<bool> {
    let moved = sqlx::query(
        "UPDATE donations SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(donation.id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let net = donation.amount_cents - donation.refunded_cents;
    let paid_delta = match (from, to) {
        (Status::Paid, Status::Paid) => 0,
        (_, Status::Paid) => 1,
        (Status::Paid, _) => -1,
        _ => 0,
    };
    if moved && paid_delta != 0 {
        let change = CounterChange {
            campaign_id: donation.campaign_id,
            supporter_id: donation.supporter_id,
            donation_id: donation.id,
            raised_delta: net * paid_delta,
            paid_delta,
        };
        counters::apply(conn, backend, change).await?;
    }
    Ok(moved)
}

/// Sets what Stripe says was refunded in total (refund events carry the running total, so the
/// largest one wins whatever the order). A refund proves the payment went through: a pending
/// donation (its success not delivered yet) becomes paid. A full refund takes the donation
/// out of the totals.
pub async fn record_refund(
    conn: &mut AnyConnection,
    backend: Backend,
    donation: &DonationRow,
    total_refunded: i64,
    now: i64,
) -> sqlx::Result<()> {
    let total = total_refunded.clamp(0, donation.amount_cents);
    let was = donation.status.as_str();
    if total <= donation.refunded_cents || !matches!(was, "paid" | "pending") {
        return Ok(());
    }
    let fully = total == donation.amount_cents;
    let now_status = if fully {
        Status::Refunded
    } else {
        Status::Paid
    };
    let updated = sqlx::query(
        "UPDATE donations SET refunded_cents = $1, status = $2, updated_at = $3 \
         WHERE id = $4 AND refunded_cents = $5 AND status = $6",
    )
    .bind(total)
    .bind(now_status.as_str())
    .bind(now)
    .bind(donation.id)
    .bind(donation.refunded_cents)
    .bind(was)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // What the donation counted for, before and after.
    let counted = |counts: bool, refunded: i64| {
        if counts {
            (donation.amount_cents - refunded, 1)
        } else {
            (0, 0)
        }
    };
    let (raised_before, paid_before) = counted(was == "paid", donation.refunded_cents);
    let (raised_after, paid_after) = counted(!fully, total);
    if updated == 1 && (raised_before, paid_before) != (raised_after, paid_after) {
        let change = CounterChange {
            campaign_id: donation.campaign_id,
            supporter_id: donation.supporter_id,
            donation_id: donation.id,
            raised_delta: raised_after - raised_before,
            paid_delta: paid_after - paid_before,
        };
        counters::apply(conn, backend, change).await?;
    }
    Ok(())
}
