//! Who gives, year on year, for the back-office: new and returning donors this year, how many
//! of last year's gave again (retention), the average gift, and those who stopped: LYBUNT
//! (gave Last Year But Unfortunately Not This year) and SYBUNT (Some Year, neither last year
//! nor this one), the people a fundraising team writes to first.

use sqlx::AnyPool;

/// Each donor's money kept (refunds deducted), this year, last year, before, by paid gifts.
const PER_DONOR: &str = "WITH per AS ( \
     SELECT supporter_id, MIN(donated_at) AS first_at, MAX(donated_at) AS last_at, \
         SUM(CASE WHEN donated_at >= $1 THEN amount_cents - refunded_cents - disputed_cents ELSE 0 END) AS this_year, \
         SUM(CASE WHEN donated_at >= $2 AND donated_at < $1 THEN amount_cents - refunded_cents - disputed_cents ELSE 0 END) AS last_year, \
         SUM(amount_cents - refunded_cents - disputed_cents) AS total \
     FROM donations WHERE status = 'paid' GROUP BY supporter_id)";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub new_donors: i64,
    pub returning_donors: i64,
    pub last_year_donors: i64,
    pub retained: i64,
    pub lybunt: i64,
    pub sybunt: i64,
}

/// `year` and `last_year`: the first second of this year and of the last one.
pub async fn counts(pool: &AnyPool, year: i64, last_year: i64) -> sqlx::Result<Counts> {
    sqlx::query_as(&format!(
        "{PER_DONOR} SELECT \
             CAST(COALESCE(SUM(CASE WHEN this_year > 0 AND first_at >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS new_donors, \
             CAST(COALESCE(SUM(CASE WHEN this_year > 0 AND first_at < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS returning_donors, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS last_year_donors, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 AND this_year > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS retained, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 AND this_year = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS lybunt, \
             CAST(COALESCE(SUM(CASE WHEN last_year = 0 AND this_year = 0 AND first_at < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS sybunt \
         FROM per"
    ))
    .bind(year)
    .bind(last_year)
    .fetch_one(pool)
    .await
}

/// (count, money kept) of paid gifts since `since`: the average gift's terms.
pub async fn gifts_since(pool: &AnyPool, since: i64) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(amount_cents - refunded_cents - disputed_cents), 0) AS BIGINT) \
         FROM donations WHERE status = 'paid' AND donated_at >= $1",
    )
    .bind(since)
    .fetch_one(pool)
    .await
}

/// Which donors who stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapsed {
    /// Gave last year, not this year.
    Lybunt,
    /// Gave some year before last, neither last year nor this year.
    Sybunt,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LapsedDonor {
    pub supporter_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub last_at: i64,
    pub last_year: i64,
    pub total: i64,
}

/// The donors who stopped, those who gave most first, `limit` at most.
pub async fn lapsed(
    pool: &AnyPool,
    which: Lapsed,
    year: i64,
    last_year: i64,
    limit: i64,
) -> sqlx::Result<Vec<LapsedDonor>> {
    let condition = match which {
        Lapsed::Lybunt => "per.last_year > 0 AND per.this_year = 0",
        Lapsed::Sybunt => "per.last_year = 0 AND per.this_year = 0 AND per.first_at < $2",
    };
    let order = match which {
        Lapsed::Lybunt => "per.last_year DESC",
        Lapsed::Sybunt => "per.total DESC",
    };
    sqlx::query_as(&format!(
        "{PER_DONOR} SELECT per.supporter_id, s.email, s.first_name, s.last_name, per.last_at, \
             CAST(per.last_year AS BIGINT) AS last_year, CAST(per.total AS BIGINT) AS total \
         FROM per JOIN supporters s ON s.id = per.supporter_id \
         WHERE {condition} AND s.erased_at IS NULL ORDER BY {order}, per.supporter_id LIMIT $3"
    ))
    .bind(year)
    .bind(last_year)
    .bind(limit)
    .fetch_all(pool)
    .await
}
