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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO donations (campaign_id, supporter_id, pledge_id, recurring_gift_id, amount_cents, \
             refunded_cents, currency, frequency, payment_method, status, show_publicly, public_name, \
             dedication_kind, dedication_name, stripe_checkout_session_id, stripe_payment_intent_id, \
             stripe_invoice_id, donated_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, 'paid', $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
         RETURNING id",
    )
    .bind(d.campaign_id)
    .bind(d.supporter_id)
    .bind(d.pledge_id)
    .bind(d.recurring_gift_id)
    .bind(d.amount_cents)
    .bind(&d.currency)
    .bind(&d.frequency)
    .bind(&d.payment_method)
    .bind(flag(d.show_publicly))
    .bind(&d.public_name)
    .bind(&d.dedication_kind)
    .bind(&d.dedication_name)
    .bind(&d.stripe_checkout_session_id)
    .bind(&d.stripe_payment_intent_id)
    .bind(&d.stripe_invoice_id)
    .bind(d.donated_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    counters::apply(
        conn,
        backend,
        CounterChange {
            campaign_id: d.campaign_id,
            supporter_id: d.supporter_id,
            donation_id: id,
            raised_delta: d.amount_cents,
            paid_delta: 1,
        },
    )
    .await?;
    Ok(id)
}
