//! Pledges: checkouts that were started. Not money yet; the donor's identity waits here for
//! Stripe's confirmation.

use sqlx::{AnyConnection, AnyPool};

use super::{WriteError, flag, guarded};
use crate::db::{Backend, Db};
use crate::domain::dedication::DedicationKind;
use crate::domain::frequency::Frequency;
use crate::domain::gift::Gift;
use crate::domain::identity::DonorIdentity;
use crate::domain::money::{Currency, Money};
use crate::domain::pledge::PledgeStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pledge {
    pub id: i64,
    pub campaign_id: i64,
    pub supporter_id: Option<i64>,
    pub amount_cents: i64,
    #[sqlx(try_from = "String")]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    /// The donor as they filled in the form: what the supporter and the receipt will say.
    #[sqlx(flatten)]
    pub donor: DonorIdentity,
    pub dedication_kind: Option<DedicationKind>,
    pub dedication_name: Option<String>,
    pub show_publicly: i64,
    pub news_consent: i64,
    pub stripe_checkout_session_id: Option<String>,
    pub checkout_url: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: PledgeStatus,
    pub created_at: i64,
}

impl Pledge {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_cents, self.currency)
    }
}

const COLUMNS: &str = "id, campaign_id, supporter_id, amount_cents, currency, frequency, email, first_name, \
    last_name, address_line1, address_line2, postal_code, city, country, dedication_kind, dedication_name, \
    show_publicly, news_consent, stripe_checkout_session_id, checkout_url, status, created_at";

/// Records a pledge; `restarts_gift_id` names the cancelled recurring gift it takes up again.
pub async fn insert(
    pool: &AnyPool,
    campaign_id: i64,
    currency: Currency,
    gift: &Gift,
    restarts_gift_id: Option<i64>,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO pledges (campaign_id, amount_cents, currency, frequency, email, first_name, last_name, \
             address_line1, address_line2, postal_code, city, country, dedication_kind, dedication_name, \
             show_publicly, news_consent, status, created_at, updated_at, restarts_gift_id, \
             utm_source, utm_campaign, referrer) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $17, $17, $19, \
             $20, $21, $22) \
         RETURNING id",
    )
    .bind(campaign_id)
    .bind(gift.amount_cents)
    .bind(currency.as_str())
    .bind(gift.frequency.as_str())
    .bind(gift.donor.email.as_str())
    .bind(&gift.donor.first_name)
    .bind(&gift.donor.last_name)
    .bind(&gift.donor.address_line1)
    .bind(&gift.donor.address_line2)
    .bind(&gift.donor.postal_code)
    .bind(&gift.donor.city)
    .bind(&gift.donor.country)
    .bind(gift.dedication.as_ref().map(|(kind, _)| kind.as_str()))
    .bind(gift.dedication.as_ref().map(|(_, name)| name.as_str()))
    .bind(flag(gift.show_publicly))
    .bind(flag(gift.news_consent))
    .bind(now)
    .bind(PledgeStatus::Open.as_str())
    .bind(restarts_gift_id)
    .bind(&gift.attribution.source)
    .bind(&gift.attribution.campaign)
    .bind(&gift.attribution.referrer)
    .fetch_one(pool)
    .await
}

pub async fn set_checkout(
    pool: &AnyPool,
    id: i64,
    session_id: &str,
    url: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE pledges SET stripe_checkout_session_id = $1, checkout_url = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(session_id)
    .bind(url)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn find(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Pledge>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM pledges WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Like [`find`], and on PostgreSQL the row stays locked until the transaction ends, so that
/// concurrent events of one pledge apply one after the other. `NO KEY UPDATE`, the lock an
/// update takes: it does not block the key-share lock of a donation's foreign key, which
/// another event holding its gift's lock may need (that wait would close a deadlock).
pub async fn find_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
) -> sqlx::Result<Option<Pledge>> {
    let lock = backend.lock_for_no_key_update();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM pledges WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn find_by_session(pool: &AnyPool, session_id: &str) -> sqlx::Result<Option<Pledge>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM pledges WHERE stripe_checkout_session_id = $1"
    ))
    .bind(session_id)
    .fetch_optional(pool)
    .await
}

/// A pledge whose checkout could not be opened (Stripe unreachable): failed, so that no
/// `open` pledge without a checkout stays behind (the donor got the form back, their
/// entries kept, and gives again from it).
pub async fn fail_without_checkout(pool: &AnyPool, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE pledges SET status = $1, updated_at = $2 \
         WHERE id = $3 AND status = $4 AND stripe_checkout_session_id IS NULL",
    )
    .bind(PledgeStatus::Failed.as_str())
    .bind(now)
    .bind(id)
    .bind(PledgeStatus::Open.as_str())
    .execute(pool)
    .await
    .map(|_| ())
}

/// Pledges still open that were made before `opened_before`: their checkout has closed
/// unpaid (housekeeping). How many.
pub async fn expire_abandoned(db: &Db, opened_before: i64, now: i64) -> sqlx::Result<u64> {
    let mut tx = db.begin_write().await?;
    let expired = sqlx::query(
        "UPDATE pledges SET status = $1, updated_at = $2 WHERE status = $3 AND created_at < $4",
    )
    .bind(PledgeStatus::Expired.as_str())
    .bind(now)
    .bind(PledgeStatus::Open.as_str())
    .bind(opened_before)
    .execute(&mut *tx)
    .await?;
    tx.commit_unseen().await?;
    Ok(expired.rows_affected())
}

/// Records the outcome of the checkout ([`PledgeStatus::settle`]: only forward) and the
/// supporter it became. Nothing is written when nothing changes. The pledge must have been
/// read locked ([`find_locked`]); the update still checks that its status is the one read,
/// and answers [`WriteError::Stale`] when it is not, rather than write over what it did not
/// see.
pub async fn settle(
    conn: &mut AnyConnection,
    pledge: &Pledge,
    outcome: PledgeStatus,
    supporter_id: Option<i64>,
    now: i64,
) -> Result<(), WriteError> {
    let status = pledge.status.settle(outcome);
    if status == pledge.status && (supporter_id.is_none() || pledge.supporter_id == supporter_id) {
        return Ok(());
    }
    let updated = sqlx::query(
        "UPDATE pledges SET status = $1, supporter_id = COALESCE($2, supporter_id), updated_at = $3 \
         WHERE id = $4 AND status = $5",
    )
    .bind(status.as_str())
    .bind(supporter_id)
    .bind(now)
    .bind(pledge.id)
    .bind(pledge.status.as_str())
    .execute(conn)
    .await?;
    guarded(updated.rows_affected(), "pledge")
}
