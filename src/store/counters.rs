//! Campaign and organisation totals, moved in the same transaction as the donations they
//! count, and rebuilt from the ledger by [`recount`].
//!
//! What counts: a donation whose status is `paid`, for its amount less what was refunded;
//! a donor is a supporter with at least one such donation.

use sqlx::{AnyConnection, AnyPool};

use crate::db::{Backend, Db};
use crate::domain::dates;

/// How one donation's change of state moves the totals.
#[derive(Debug, Clone, Copy)]
pub struct CounterChange {
    pub campaign_id: i64,
    pub supporter_id: i64,
    pub donation_id: i64,
    /// Cents added to (or taken from) the amount raised.
    pub raised_delta: i64,
    /// +1 when the donation became paid, -1 when it stopped counting, 0 otherwise.
    pub paid_delta: i64,
}

/// Applies a change inside the caller's transaction, after the donation row was written.
pub async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    change: CounterChange,
) -> sqlx::Result<()> {
    let (mut campaign_donors, mut organisation_donors) = (0, 0);
    if change.paid_delta != 0 {
        if backend == Backend::Postgres {
            // Serialises concurrent first gifts of one supporter, so each is counted once.
            sqlx::query("SELECT id FROM supporters WHERE id = $1 FOR UPDATE")
                .bind(change.supporter_id)
                .fetch_optional(&mut *conn)
                .await?;
        }
        let others_in_campaign: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM donations WHERE campaign_id = $1 AND supporter_id = $2 \
             AND status = 'paid' AND id <> $3 LIMIT 1) AS other",
        )
        .bind(change.campaign_id)
        .bind(change.supporter_id)
        .bind(change.donation_id)
        .fetch_one(&mut *conn)
        .await?;
        let others_anywhere: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM donations WHERE supporter_id = $1 \
             AND status = 'paid' AND id <> $2 LIMIT 1) AS other",
        )
        .bind(change.supporter_id)
        .bind(change.donation_id)
        .fetch_one(&mut *conn)
        .await?;
        if others_in_campaign == 0 {
            campaign_donors = change.paid_delta;
        }
        if others_anywhere == 0 {
            organisation_donors = change.paid_delta;
        }
    }
    let now = dates::now();
    sqlx::query(
        "UPDATE campaign_counters SET raised_cents = raised_cents + $1, donations = donations + $2, \
         donors = donors + $3, updated_at = $4 WHERE campaign_id = $5",
    )
    .bind(change.raised_delta)
    .bind(change.paid_delta)
    .bind(campaign_donors)
    .bind(now)
    .bind(change.campaign_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE organisation_counters SET raised_cents = raised_cents + $1, donations = donations + $2, \
         donors = donors + $3, updated_at = $4 WHERE id = 1",
    )
    .bind(change.raised_delta)
    .bind(change.paid_delta)
    .bind(organisation_donors)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates the counters row of a new campaign.
pub async fn create_for_campaign(
    conn: &mut AnyConnection,
    campaign_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaign_counters (campaign_id, raised_cents, donors, donations, updated_at) \
         VALUES ($1, 0, 0, 0, $2)",
    )
    .bind(campaign_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Totals {
    pub raised_cents: i64,
    pub donors: i64,
    pub donations: i64,
}

/// Organisation-wide totals, from the counters.
pub async fn organisation(pool: &AnyPool) -> sqlx::Result<Totals> {
    sqlx::query_as("SELECT raised_cents, donors, donations FROM organisation_counters WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// A campaign's counters as stored.
pub async fn campaign(pool: &AnyPool, campaign_id: i64) -> sqlx::Result<Totals> {
    sqlx::query_as(
        "SELECT raised_cents, donors, donations FROM campaign_counters WHERE campaign_id = $1",
    )
    .bind(campaign_id)
    .fetch_one(pool)
    .await
}

/// A campaign's totals recomputed from the ledger (a full scan: for checks and repairs only).
pub async fn campaign_from_ledger(
    conn: &mut AnyConnection,
    campaign_id: i64,
) -> sqlx::Result<Totals> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount_cents - refunded_cents), 0) AS BIGINT) AS raised_cents, \
                COUNT(DISTINCT supporter_id) AS donors, COUNT(*) AS donations \
         FROM donations WHERE campaign_id = $1 AND status = 'paid'",
    )
    .bind(campaign_id)
    .fetch_one(conn)
    .await
}

/// Organisation totals recomputed from the ledger.
pub async fn organisation_from_ledger(conn: &mut AnyConnection) -> sqlx::Result<Totals> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount_cents - refunded_cents), 0) AS BIGINT) AS raised_cents, \
                COUNT(DISTINCT supporter_id) AS donors, COUNT(*) AS donations \
         FROM donations WHERE status = 'paid'",
    )
    .fetch_one(conn)
    .await
}

/// What a recount found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecountReport {
    pub campaigns_checked: usize,
    /// Slugs of the campaigns whose counters were wrong and are now repaired.
    pub campaigns_repaired: Vec<String>,
    pub organisation_repaired: bool,
}

/// Recomputes every counter from the ledger and repairs those that drifted, in one write
/// transaction so that no donation lands between the count and the repair.
pub async fn recount(db: &Db) -> sqlx::Result<RecountReport> {
    let mut tx = db.begin_write().await?;
    let campaigns: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, slug FROM campaigns ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    let mut report = RecountReport {
        campaigns_checked: campaigns.len(),
        ..Default::default()
    };
    let now = dates::now();
    for (campaign_id, slug) in campaigns {
        let truth = campaign_from_ledger(&mut tx, campaign_id).await?;
        let stored: Option<Totals> = sqlx::query_as(
            "SELECT raised_cents, donors, donations FROM campaign_counters WHERE campaign_id = $1",
        )
        .bind(campaign_id)
        .fetch_optional(&mut *tx)
        .await?;
        if stored == Some(truth) {
            continue;
        }
        if stored.is_none() {
            create_for_campaign(&mut tx, campaign_id, now).await?;
        }
        sqlx::query(
            "UPDATE campaign_counters SET raised_cents = $1, donors = $2, donations = $3, updated_at = $4 \
             WHERE campaign_id = $5",
        )
        .bind(truth.raised_cents)
        .bind(truth.donors)
        .bind(truth.donations)
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
        report.campaigns_repaired.push(slug);
    }
    let truth = organisation_from_ledger(&mut tx).await?;
    let stored: Totals = sqlx::query_as(
        "SELECT raised_cents, donors, donations FROM organisation_counters WHERE id = 1",
    )
    .fetch_one(&mut *tx)
    .await?;
    if stored != truth {
        sqlx::query(
            "UPDATE organisation_counters SET raised_cents = $1, donors = $2, donations = $3, updated_at = $4 \
             WHERE id = 1",
        )
        .bind(truth.raised_cents)
        .bind(truth.donors)
        .bind(truth.donations)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        report.organisation_repaired = true;
    }
    tx.commit().await?;
    Ok(report)
}
