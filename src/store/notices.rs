//! What an email about a gift reads: the gift, its campaign and the person it goes to, as
//! they are when the email is written (not when its job was queued).

use sqlx::AnyPool;

use crate::domain::email::Email;
use crate::domain::frequency::Frequency;
use crate::domain::money::Currency;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GiftNotice {
    pub amount_cents: i64,
    /// Refunded so far (0 for a recurring gift).
    pub refunded_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    /// The donation's or the recurring gift's status, as stored.
    pub status: String,
    pub campaign_id: i64,
    pub project_id: i64,
    pub campaign_title: String,
    pub campaign_slug: String,
    pub supporter_id: i64,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
}

/// What surrounds a gift: its campaign (`c`) and its supporter (`s`).
const AROUND: &str = "c.id AS campaign_id, c.project_id, c.title AS campaign_title, \
     c.slug AS campaign_slug, s.id AS supporter_id, s.email, s.first_name, s.last_name";

/// A donation (a one-off gift or one instalment).
pub async fn of_donation(pool: &AnyPool, donation_id: i64) -> sqlx::Result<Option<GiftNotice>> {
    sqlx::query_as(&format!(
        "SELECT d.amount_cents, d.refunded_cents, d.currency, d.frequency, d.status, {AROUND} \
         FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
             JOIN supporters s ON s.id = d.supporter_id \
         WHERE d.id = $1"
    ))
    .bind(donation_id)
    .fetch_optional(pool)
    .await
}

/// A recurring gift, at its current amount.
pub async fn of_recurring_gift(
    pool: &AnyPool,
    recurring_gift_id: i64,
) -> sqlx::Result<Option<GiftNotice>> {
    sqlx::query_as(&format!(
        "SELECT g.amount_cents, CAST(0 AS BIGINT) AS refunded_cents, g.currency, g.frequency, \
             g.status, {AROUND} \
         FROM recurring_gifts g JOIN campaigns c ON c.id = g.campaign_id \
             JOIN supporters s ON s.id = g.supporter_id \
         WHERE g.id = $1"
    ))
    .bind(recurring_gift_id)
    .fetch_optional(pool)
    .await
}
