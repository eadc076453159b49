//! Who gives, year on year, for the back-office: new and returning donors this year, how many
//! of last year's gave again (retention), the average gift, and those who stopped: LYBUNT
//! (gave Last Year But Unfortunately Not This year) and SYBUNT (Some Year, neither last year
//! nor this one), the people a fundraising team writes to first.

use sqlx::AnyPool;

use super::summaries::day_of;

/// Each donor's money kept this year (and any later: a clock set ahead), last year and in
/// all, and the first year they gave, from `supporter_years` ([`super::summaries`]): one row
/// per donor and year, not one per donation. $1 this year, $2 last year.
const PER_DONOR: &str = "WITH per AS ( \
     SELECT supporter_id, \
         SUM(CASE WHEN year >= $1 THEN kept_cents ELSE 0 END) AS this_year, \
         SUM(CASE WHEN year = $2 THEN kept_cents ELSE 0 END) AS last_year, \
         SUM(kept_cents) AS total, \
         MIN(CASE WHEN gifts > 0 THEN year END) AS first_year \
     FROM supporter_years GROUP BY supporter_id)";

/// The date of the supporter's latest paid gift, for the few donors a list shows.
const LAST_GIFT: &str = "(SELECT MAX(d.donated_at) FROM donations d \
     WHERE d.supporter_id = s.id AND d.status = 'paid')";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub new_donors: i64,
    pub returning_donors: i64,
    pub last_year_donors: i64,
    pub retained: i64,
    pub lybunt: i64,
    pub sybunt: i64,
}

/// `year`: this calendar year (UTC).
pub async fn counts(pool: &AnyPool, year: i32) -> sqlx::Result<Counts> {
    sqlx::query_as(&format!(
        "{PER_DONOR} SELECT \
             CAST(COALESCE(SUM(CASE WHEN this_year > 0 AND first_year >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS new_donors, \
             CAST(COALESCE(SUM(CASE WHEN this_year > 0 AND first_year < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS returning_donors, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS last_year_donors, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 AND this_year > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS retained, \
             CAST(COALESCE(SUM(CASE WHEN last_year > 0 AND this_year = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS lybunt, \
             CAST(COALESCE(SUM(CASE WHEN last_year = 0 AND this_year = 0 AND first_year < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS sybunt \
         FROM per"
    ))
    .bind(i64::from(year))
    .bind(i64::from(year) - 1)
    .fetch_one(pool)
    .await
}

/// (count, money kept) of paid gifts since `since` (a midnight, UTC): the average gift's terms.
pub async fn gifts_since(pool: &AnyPool, since: i64) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(gifts), 0) AS BIGINT), CAST(COALESCE(SUM(kept_cents), 0) AS BIGINT) \
         FROM donation_days WHERE day >= $1",
    )
    .bind(day_of(since))
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

/// The donors who stopped, those who gave most first, `limit` at most. `year`: this one.
pub async fn lapsed(
    pool: &AnyPool,
    which: Lapsed,
    year: i32,
    limit: i64,
) -> sqlx::Result<Vec<LapsedDonor>> {
    let sql = match which {
        // Last year's donors, biggest first, through `supporter_years_year`: the walk stops
        // at the `limit`-th who has not given since.
        Lapsed::Lybunt => format!(
            "SELECT s.id AS supporter_id, s.email, s.first_name, s.last_name, {LAST_GIFT} AS last_at, \
                 ly.kept_cents AS last_year, \
                 (SELECT CAST(SUM(a.kept_cents) AS BIGINT) FROM supporter_years a \
                     WHERE a.supporter_id = s.id) AS total \
             FROM supporter_years ly JOIN supporters s ON s.id = ly.supporter_id \
             WHERE ly.year = $2 AND ly.kept_cents > 0 AND s.erased_at IS NULL \
               AND NOT EXISTS (SELECT 1 FROM supporter_years ty \
                   WHERE ty.supporter_id = ly.supporter_id AND ty.year >= $1 AND ty.kept_cents > 0) \
             ORDER BY ly.kept_cents DESC, ly.supporter_id LIMIT $3"
        ),
        Lapsed::Sybunt => format!(
            "{PER_DONOR} SELECT s.id AS supporter_id, s.email, s.first_name, s.last_name, \
                 {LAST_GIFT} AS last_at, CAST(per.last_year AS BIGINT) AS last_year, \
                 CAST(per.total AS BIGINT) AS total \
             FROM per JOIN supporters s ON s.id = per.supporter_id \
             WHERE per.last_year = 0 AND per.this_year = 0 AND per.first_year < $2 \
               AND s.erased_at IS NULL \
             ORDER BY per.total DESC, s.id LIMIT $3"
        ),
    };
    sqlx::query_as(&sql)
        .bind(i64::from(year))
        .bind(i64::from(year) - 1)
        .bind(limit)
        .fetch_all(pool)
        .await
}
