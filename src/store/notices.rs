//! What an email about a gift reads: the gift, its campaign and the person it goes to, as
//! they are when the email is written (not when its job was queued).

use sqlx::AnyPool;

use crate::domain::donation::DonationStatus;
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
    /// The donation's, the recurring gift's or the pledge's status, as stored.
    pub status: String,
    /// When the gift was made (a donation's date, a recurring gift's or pledge's creation).
    pub at: i64,
    pub campaign_id: i64,
    pub project_id: i64,
    pub campaign_title: String,
    pub campaign_slug: String,
    pub supporter_id: i64,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// Whether the supporter asked for an email at each instalment.
    pub instalment_emails: i64,
}

/// What surrounds a gift: its campaign (`c`) and its supporter (`s`).
const AROUND: &str = "c.id AS campaign_id, c.project_id, c.title AS campaign_title, \
     c.slug AS campaign_slug, s.id AS supporter_id, s.email, s.first_name, s.last_name, \
     s.instalment_emails";

/// A donation (a one-off gift or one instalment).
pub async fn of_donation(pool: &AnyPool, donation_id: i64) -> sqlx::Result<Option<GiftNotice>> {
    sqlx::query_as(&format!(
        "SELECT d.amount_cents, d.refunded_cents, d.currency, d.frequency, d.status, \
             d.donated_at AS at, {AROUND} \
         FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
             JOIN supporters s ON s.id = d.supporter_id \
         WHERE d.id = $1 AND s.erased_at IS NULL"
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
             g.status, g.created_at AS at, {AROUND} \
         FROM recurring_gifts g JOIN campaigns c ON c.id = g.campaign_id \
             JOIN supporters s ON s.id = g.supporter_id \
         WHERE g.id = $1 AND s.erased_at IS NULL"
    ))
    .bind(recurring_gift_id)
    .fetch_optional(pool)
    .await
}

/// A pledge: what a donor asked for, paid or not.
pub async fn of_pledge(pool: &AnyPool, pledge_id: i64) -> sqlx::Result<Option<GiftNotice>> {
    sqlx::query_as(&format!(
        "SELECT p.amount_cents, CAST(0 AS BIGINT) AS refunded_cents, p.currency, p.frequency, \
             p.status, p.created_at AS at, {AROUND} \
         FROM pledges p JOIN campaigns c ON c.id = p.campaign_id \
             JOIN supporters s ON s.id = p.supporter_id \
         WHERE p.id = $1 AND s.erased_at IS NULL"
    ))
    .bind(pledge_id)
    .fetch_optional(pool)
    .await
}

/// Whether the donation is the first instalment its recurring gift received (the one the
/// welcome email is for).
pub async fn is_first_instalment(pool: &AnyPool, donation_id: i64) -> sqlx::Result<bool> {
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(o.id) FROM donations d JOIN donations o \
             ON o.recurring_gift_id = d.recurring_gift_id \
         WHERE d.id = $1",
    )
    .bind(donation_id)
    .fetch_one(pool)
    .await?;
    Ok(first == Some(donation_id))
}

/// Whether a recurring gift ever received money (a gift whose first debit was rejected never
/// started: that rejection is all there is to tell).
pub async fn gift_started(pool: &AnyPool, recurring_gift_id: i64) -> sqlx::Result<bool> {
    let received: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM donations WHERE recurring_gift_id = $1 AND status IN ($2, $3)",
    )
    .bind(recurring_gift_id)
    .bind(DonationStatus::Paid.as_str())
    .bind(DonationStatus::Refunded.as_str())
    .fetch_one(pool)
    .await?;
    Ok(received > 0)
}

/// Whom a supporter's emails go to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
}

pub async fn recipient(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Option<Recipient>> {
    sqlx::query_as(
        "SELECT email, first_name, last_name FROM supporters WHERE id = $1 AND erased_at IS NULL",
    )
    .bind(supporter_id)
    .fetch_optional(pool)
    .await
}
