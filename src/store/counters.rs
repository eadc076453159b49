//! Campaign and organisation totals, moved in the same transaction as the donations they
//! count, and rebuilt from the ledger by [`recount`].
//!
//! What counts: a donation whose status is `paid`, for its amount less what was refunded and
//! what disputes hold (open or lost: `disputed_cents`); a donor is a supporter with at least
//! one such donation. A dispute moves money only, not the number of gifts or donors: the gift
//! was given, its money is held by the bank. `disputed_cents` is kept on the donation rather
//! than summed from `disputes` so that every total, here and on other pages, reads one row
//! per donation; it is capped by what was not refunded (`domain::donation::Refundable`), so
//! `amount_cents - refunded_cents - disputed_cents` is never below zero.
//!
//! Each total is split into a few shards (rows), and a donation always moves the shard its
//! id picks: concurrent webhooks then rarely wait on the same row lock, and a total is still
//! read from a handful of rows, never from the donations.

use std::sync::LazyLock;

use sqlx::{AnyConnection, AnyPool};

use super::summaries::{self, Repaired};
use crate::db::{Backend, Db};
use crate::domain::dates;
use crate::domain::donation::DonationStatus;

/// How many rows each total is spread over.
pub const SHARDS: i64 = 8;

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
    /// When the gift was received, and whether it renews: where it counts in the
    /// back-office's summaries ([`super::summaries`]).
    pub donated_at: i64,
    pub recurring: bool,
}

/// Applies a change inside the caller's transaction, after the donation row was written.
pub async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    change: CounterChange,
) -> sqlx::Result<()> {
    let shard = change.donation_id.rem_euclid(SHARDS);
    let now = dates::now();
    if change.paid_delta != 0 {
        // Serialises concurrent first gifts of one supporter, so each is counted once.
        backend.lock_supporter(conn, change.supporter_id).await?;
    }
    if backend.has_writing_ctes() {
        // One round trip where SQLite needs three: webhooks are PostgreSQL's hot path.
        sqlx::query(&POSTGRES_APPLY)
            .bind(change.campaign_id)
            .bind(change.supporter_id)
            .bind(change.donation_id)
            .bind(shard)
            .bind(change.raised_delta)
            .bind(change.paid_delta)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        return summaries::apply(conn, change).await;
    }
    let (mut campaign_donors, mut organisation_donors) = (0, 0);
    if change.paid_delta != 0 {
        // Does the supporter have another paid donation, in this campaign and at all?
        let (in_campaign, anywhere): (i64, i64) = sqlx::query_as(&format!(
            "SELECT here, anywhere FROM ({OTHER_PAID}) AS other"
        ))
        .bind(change.campaign_id)
        .bind(change.supporter_id)
        .bind(change.donation_id)
        .fetch_one(&mut *conn)
        .await?;
        if in_campaign == 0 {
            campaign_donors = change.paid_delta;
        }
        if anywhere == 0 {
            organisation_donors = change.paid_delta;
        }
    }
    sqlx::query(
        "INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donations, donors, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (campaign_id, shard) DO UPDATE SET \
           raised_cents = campaign_counters.raised_cents + excluded.raised_cents, \
           donations = campaign_counters.donations + excluded.donations, \
           donors = campaign_counters.donors + excluded.donors, updated_at = excluded.updated_at",
    )
    .bind(change.campaign_id)
    .bind(shard)
    .bind(change.raised_delta)
    .bind(change.paid_delta)
    .bind(campaign_donors)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO organisation_counters (shard, raised_cents, donations, donors, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (shard) DO UPDATE SET \
           raised_cents = organisation_counters.raised_cents + excluded.raised_cents, \
           donations = organisation_counters.donations + excluded.donations, \
           donors = organisation_counters.donors + excluded.donors, updated_at = excluded.updated_at",
    )
    .bind(shard)
    .bind(change.raised_delta)
    .bind(change.paid_delta)
    .bind(organisation_donors)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    summaries::apply(conn, change).await
}

/// Whether the supporter ($2) has paid donations other than $3: in campaign $1 (`here`) and
/// at all (`anywhere`), each 0 or more. One scan of the supporter's own donations, never of
/// the campaign's: a campaign-wide index would read every gift of a popular campaign. The
/// paid status is spelled here rather than bound: this runs in every webhook, and binding it
/// cost about 10 % of the webhook throughput (the planners then choose with less to go on);
/// a unit test below checks the spelling against `DonationStatus::Paid`.
const OTHER_PAID: &str = "\
    SELECT CAST(COALESCE(SUM(CASE WHEN campaign_id = $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS here, \
      CAST(COUNT(*) AS BIGINT) AS anywhere \
    FROM donations WHERE supporter_id = $2 AND status = 'paid' AND id <> $3";

/// [`apply`] on PostgreSQL in one statement (data-modifying CTEs, which SQLite lacks): who is
/// a first-time donor, then both shard upserts. $1 campaign, $2 supporter, $3 donation,
/// $4 shard, $5 raised delta, $6 paid delta, $7 now.
static POSTGRES_APPLY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH other AS ({OTHER_PAID}), firsts AS ( \
      SELECT CASE WHEN $6 = 0 OR here > 0 THEN 0 ELSE $6 END AS campaign_donors, \
        CASE WHEN $6 = 0 OR anywhere > 0 THEN 0 ELSE $6 END AS organisation_donors FROM other \
    ), campaign AS ( \
      INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donations, donors, updated_at) \
      SELECT $1, $4, $5, $6, campaign_donors, $7 FROM firsts \
      ON CONFLICT (campaign_id, shard) DO UPDATE SET \
        raised_cents = campaign_counters.raised_cents + excluded.raised_cents, \
        donations = campaign_counters.donations + excluded.donations, \
        donors = campaign_counters.donors + excluded.donors, updated_at = excluded.updated_at \
    ) \
    INSERT INTO organisation_counters (shard, raised_cents, donations, donors, updated_at) \
    SELECT $4, $5, $6, organisation_donors, $7 FROM firsts \
    ON CONFLICT (shard) DO UPDATE SET \
      raised_cents = organisation_counters.raised_cents + excluded.raised_cents, \
      donations = organisation_counters.donations + excluded.donations, \
      donors = organisation_counters.donors + excluded.donors, updated_at = excluded.updated_at"
    )
});

/// Creates the counters of a new campaign (its first shard, at zero).
pub async fn create_for_campaign(
    conn: &mut AnyConnection,
    campaign_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donors, donations, updated_at) \
         VALUES ($1, 0, 0, 0, 0, $2)",
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

const SUMS: &str = "CAST(COALESCE(SUM(raised_cents), 0) AS BIGINT) AS raised_cents, \
    CAST(COALESCE(SUM(donors), 0) AS BIGINT) AS donors, \
    CAST(COALESCE(SUM(donations), 0) AS BIGINT) AS donations";

/// Organisation-wide totals, from the counters.
pub async fn organisation(pool: &AnyPool) -> sqlx::Result<Totals> {
    sqlx::query_as(&format!("SELECT {SUMS} FROM organisation_counters"))
        .fetch_one(pool)
        .await
}

/// A campaign's totals, from its counters.
pub async fn campaign(pool: &AnyPool, campaign_id: i64) -> sqlx::Result<Totals> {
    stored_campaign(&mut *pool.acquire().await?, campaign_id).await
}

async fn stored_campaign(conn: &mut AnyConnection, campaign_id: i64) -> sqlx::Result<Totals> {
    sqlx::query_as(&format!(
        "SELECT {SUMS} FROM campaign_counters WHERE campaign_id = $1"
    ))
    .bind(campaign_id)
    .fetch_one(conn)
    .await
}

/// A campaign's totals recomputed from the ledger (a full scan: for checks and repairs only).
pub async fn campaign_from_ledger(
    conn: &mut AnyConnection,
    campaign_id: i64,
) -> sqlx::Result<Totals> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount_cents - refunded_cents - disputed_cents), 0) AS BIGINT) AS raised_cents, \
                COUNT(DISTINCT supporter_id) AS donors, COUNT(*) AS donations \
         FROM donations WHERE campaign_id = $1 AND status = $2",
    )
    .bind(campaign_id)
    .bind(DonationStatus::Paid.as_str())
    .fetch_one(conn)
    .await
}

/// Organisation totals recomputed from the ledger.
pub async fn organisation_from_ledger(conn: &mut AnyConnection) -> sqlx::Result<Totals> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount_cents - refunded_cents - disputed_cents), 0) AS BIGINT) AS raised_cents, \
                COUNT(DISTINCT supporter_id) AS donors, COUNT(*) AS donations \
         FROM donations WHERE status = $1",
    )
    .bind(DonationStatus::Paid.as_str())
    .fetch_one(conn)
    .await
}

/// Sets a campaign's counters to `totals`, all in shard 0 (the other shards emptied).
pub async fn replace_campaign(
    conn: &mut AnyConnection,
    campaign_id: i64,
    totals: Totals,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM campaign_counters WHERE campaign_id = $1")
        .bind(campaign_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donors, donations, updated_at) \
         VALUES ($1, 0, $2, $3, $4, $5)",
    )
    .bind(campaign_id)
    .bind(totals.raised_cents)
    .bind(totals.donors)
    .bind(totals.donations)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What a recount found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecountReport {
    pub campaigns_checked: usize,
    /// Slugs of the campaigns whose counters were wrong and are now repaired.
    pub campaigns_repaired: Vec<String>,
    pub organisation_repaired: bool,
    /// The back-office's summaries rebuilt ([`summaries::repair`]).
    pub summaries_repaired: Repaired,
}

impl RecountReport {
    /// Whether every total and summary matched the ledger.
    pub fn all_exact(&self) -> bool {
        self.campaigns_repaired.is_empty()
            && !self.organisation_repaired
            && self.summaries_repaired == Repaired::default()
    }
}

/// Recomputes every counter from the ledger and repairs those that drifted (all in shard 0),
/// in one write transaction so that no donation lands between the count and the repair.
/// SQLite's write lock gives that; PostgreSQL's transactions run side by side, so the
/// counters are locked first: webhooks already moving them finish (their donations are then
/// in the count), later ones wait for the repair. Every change writes the organisation's
/// counters, so that one table is enough; locking both would deadlock, as PostgreSQL takes
/// the tables of [`POSTGRES_APPLY`] in an order that differs between its first and later
/// (prepared) runs.
pub async fn recount(db: &Db) -> sqlx::Result<RecountReport> {
    let mut tx = db.begin_write().await?;
    db.backend()
        .block_writers(&mut tx, "organisation_counters")
        .await?;
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
        let shards: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM campaign_counters WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_one(&mut *tx)
                .await?;
        if shards > 0 && stored_campaign(&mut tx, campaign_id).await? == truth {
            continue;
        }
        replace_campaign(&mut tx, campaign_id, truth, now).await?;
        report.campaigns_repaired.push(slug);
    }
    let truth = organisation_from_ledger(&mut tx).await?;
    let stored: Totals = sqlx::query_as(&format!("SELECT {SUMS} FROM organisation_counters"))
        .fetch_one(&mut *tx)
        .await?;
    if stored != truth {
        sqlx::query("DELETE FROM organisation_counters")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO organisation_counters (shard, raised_cents, donors, donations, updated_at) \
             VALUES (0, $1, $2, $3, $4)",
        )
        .bind(truth.raised_cents)
        .bind(truth.donors)
        .bind(truth.donations)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        report.organisation_repaired = true;
    }
    report.summaries_repaired = summaries::repair(&mut tx, db.backend()).await?;
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::OTHER_PAID;
    use crate::domain::donation::DonationStatus;

    #[test]
    fn the_first_donor_query_spells_the_paid_status() {
        let condition = format!("status = '{}'", DonationStatus::Paid.as_str());
        assert!(OTHER_PAID.contains(&condition));
    }
}
