//! Disputes of donations' payments: one row per Stripe dispute, as its latest event said it,
//! and the list the team follows up. What they hold of a donation's money is written on the
//! donation ([`super::donations::record_dispute`]), where every total reads it.

use sqlx::{AnyConnection, AnyPool};

use super::{WriteError, guarded};
use crate::db::Backend;
use crate::domain::dispute::{DisputeOutcome, DisputeStage};
use crate::domain::money::Currency;

/// A dispute as Stripe last told it, to record against a donation.
#[derive(Debug, Clone)]
pub struct DisputeReading<'a> {
    pub stripe_dispute_id: &'a str,
    pub donation_id: i64,
    pub amount_cents: i64,
    pub currency: Currency,
    pub reason: &'a str,
    /// Stripe's `status`, as it spells it.
    pub status: &'a str,
    pub opened_at: i64,
    pub due_by: Option<i64>,
    /// When the event that says it was created.
    pub stripe_event_at: i64,
}

/// A dispute as kept.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Dispute {
    pub id: i64,
    pub stripe_dispute_id: String,
    pub donation_id: i64,
    pub amount_cents: i64,
    pub status: String,
    pub stripe_event_at: i64,
}

/// What a newer reading did to the kept dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The first reading of it.
    New,
    /// It replaced an older one.
    Updated,
    /// An older or repeated reading: nothing written.
    Kept,
}

/// Records the reading unless the kept one is as new or further on
/// ([`DisputeStage::replaces`]). The donation it is about was read locked first, so two
/// events of one dispute apply one after the other on PostgreSQL too.
pub async fn record(
    conn: &mut AnyConnection,
    backend: Backend,
    reading: &DisputeReading<'_>,
    now: i64,
) -> Result<Recorded, WriteError> {
    let outcome = DisputeStage::of(reading.status).outcome;
    let inserted = sqlx::query(
        "INSERT INTO disputes (stripe_dispute_id, donation_id, amount_cents, currency, reason, \
             status, outcome, opened_at, due_by, stripe_event_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (stripe_dispute_id) DO NOTHING",
    )
    .bind(reading.stripe_dispute_id)
    .bind(reading.donation_id)
    .bind(reading.amount_cents)
    .bind(reading.currency.as_str())
    .bind(reading.reason)
    .bind(reading.status)
    .bind(outcome.as_str())
    .bind(reading.opened_at)
    .bind(reading.due_by)
    .bind(reading.stripe_event_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Recorded::New);
    }
    let kept: Dispute = sqlx::query_as(&format!(
        "SELECT id, stripe_dispute_id, donation_id, amount_cents, status, stripe_event_at \
         FROM disputes WHERE stripe_dispute_id = $1{}",
        backend.lock_for_update()
    ))
    .bind(reading.stripe_dispute_id)
    .fetch_one(&mut *conn)
    .await?;
    let stage = DisputeStage::of(reading.status);
    if !stage.replaces(
        reading.stripe_event_at,
        DisputeStage::of(&kept.status),
        kept.stripe_event_at,
    ) {
        return Ok(Recorded::Kept);
    }
    let updated = sqlx::query(
        "UPDATE disputes SET amount_cents = $1, reason = $2, status = $3, outcome = $4, \
             due_by = $5, stripe_event_at = $6, updated_at = $7 \
         WHERE id = $8 AND status = $9 AND stripe_event_at = $10",
    )
    .bind(reading.amount_cents)
    .bind(reading.reason)
    .bind(reading.status)
    .bind(outcome.as_str())
    .bind(reading.due_by)
    .bind(reading.stripe_event_at)
    .bind(now)
    .bind(kept.id)
    .bind(&kept.status)
    .bind(kept.stripe_event_at)
    .execute(&mut *conn)
    .await?;
    guarded(updated.rows_affected(), "dispute")?;
    Ok(Recorded::Updated)
}

/// What the donation's disputes hold of its money, from all of them (a charge has one
/// dispute at Stripe, but nothing here needs to count on it).
pub async fn held_of_donation(conn: &mut AnyConnection, donation_id: i64) -> sqlx::Result<i64> {
    let disputes: Vec<(i64, String)> =
        sqlx::query_as("SELECT amount_cents, status FROM disputes WHERE donation_id = $1")
            .bind(donation_id)
            .fetch_all(conn)
            .await?;
    Ok(crate::domain::dispute::held_cents(
        disputes
            .iter()
            .map(|(amount, status)| (*amount, status.as_str())),
    ))
}

/// A dispute to follow up, with whom and what it is about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DisputeToFollow {
    pub id: i64,
    pub stripe_dispute_id: String,
    pub donation_id: i64,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    pub reason: String,
    /// Stripe's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    #[sqlx(try_from = "String")]
    pub outcome: DisputeOutcome,
    pub opened_at: i64,
    /// When evidence is due, if the bank allows a response.
    pub due_by: Option<i64>,
    pub updated_at: i64,
    /// What the donation was for, when it was given.
    pub donation_amount_cents: i64,
    pub donated_at: i64,
    pub supporter_id: i64,
    /// The supporter's address (an erased supporter's is a placeholder).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub campaign_slug: String,
}

/// Disputes for the team, at most `limit`: open ones first, the soonest evidence due first
/// (those without a due date after), then the decided ones, the latest first.
pub async fn for_follow_up(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<DisputeToFollow>> {
    sqlx::query_as(
        "SELECT x.id, x.stripe_dispute_id, x.donation_id, x.amount_cents, x.currency, x.reason, \
             x.status, x.outcome, x.opened_at, x.due_by, x.updated_at, \
             d.amount_cents AS donation_amount_cents, d.donated_at, s.id AS supporter_id, \
             s.email, s.first_name, s.last_name, c.id AS campaign_id, \
             c.title AS campaign_title, c.slug AS campaign_slug \
         FROM disputes x JOIN donations d ON d.id = x.donation_id \
             JOIN supporters s ON s.id = d.supporter_id \
             JOIN campaigns c ON c.id = d.campaign_id \
         ORDER BY CASE WHEN x.outcome = $1 THEN 0 ELSE 1 END, \
             CASE WHEN x.outcome = $1 AND x.due_by IS NULL THEN 1 ELSE 0 END, \
             CASE WHEN x.outcome = $1 THEN COALESCE(x.due_by, 0) ELSE 0 END, \
             x.updated_at DESC, x.id DESC \
         LIMIT $2",
    )
    .bind(DisputeOutcome::Open.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many disputes are open (for a badge or a dashboard line).
pub async fn count_open(pool: &AnyPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM disputes WHERE outcome = $1")
        .bind(DisputeOutcome::Open.as_str())
        .fetch_one(pool)
        .await
}
