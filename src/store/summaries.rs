//! Summaries of the ledger for the back-office: money kept per day, and per supporter and
//! year. They move with the counters ([`super::counters::apply`], same transaction, same
//! rules: a paid donation counts for its amount less refunds and what disputes hold) and are
//! rebuilt from the ledger by `obole recount` ([`repair`]).
//!
//! Why: at 1,000,000 donations the dashboard's « Depuis le 1er janvier » read this year's
//! every gift, and the donors' page grouped the whole ledger by supporter (8.7 s on SQLite,
//! BENCHMARKS.md). A day is at most a few rows here, a supporter one row a year.

use sqlx::AnyConnection;

use super::counters::{CounterChange, SHARDS};
use crate::db::Backend;
use crate::domain::dates;

pub const DAY: i64 = 86_400;

/// The day (UTC, days since the epoch) a timestamp falls in.
pub fn day_of(unix: i64) -> i64 {
    unix.div_euclid(DAY)
}

/// `donation_days`' row (day, kind, shard) += ($4 cents, $5 gifts).
const ADD_TO_DAY: &str = "INSERT INTO donation_days (day, recurring, shard, kept_cents, gifts) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (day, recurring, shard) DO UPDATE SET \
       kept_cents = donation_days.kept_cents + excluded.kept_cents, \
       gifts = donation_days.gifts + excluded.gifts";

/// `supporter_years`' row (supporter, year) += ($3 cents, $4 gifts).
const ADD_TO_YEAR: &str = "INSERT INTO supporter_years (supporter_id, year, kept_cents, gifts) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (supporter_id, year) DO UPDATE SET \
       kept_cents = supporter_years.kept_cents + excluded.kept_cents, \
       gifts = supporter_years.gifts + excluded.gifts";

/// Moves the summaries by `change`, inside the caller's transaction.
pub async fn apply(conn: &mut AnyConnection, change: CounterChange) -> sqlx::Result<()> {
    if change.raised_delta == 0 && change.paid_delta == 0 {
        return Ok(());
    }
    sqlx::query(ADD_TO_DAY)
        .bind(day_of(change.donated_at))
        .bind(i64::from(change.recurring))
        .bind(change.donation_id.rem_euclid(SHARDS))
        .bind(change.raised_delta)
        .bind(change.paid_delta)
        .execute(&mut *conn)
        .await?;
    sqlx::query(ADD_TO_YEAR)
        .bind(change.supporter_id)
        .bind(i64::from(dates::year_of(change.donated_at)))
        .bind(change.raised_delta)
        .bind(change.paid_delta)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The calendar year (UTC) of a column of timestamps, in each backend's SQL.
fn year_sql(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("CAST(strftime('%Y', {column}, 'unixepoch') AS INTEGER)"),
        Backend::Postgres => {
            format!("CAST(EXTRACT(YEAR FROM to_timestamp({column}) AT TIME ZONE 'UTC') AS BIGINT)")
        }
    }
}

/// What counts in the summaries, one expression per paid donation.
const KEPT: &str = "CAST(SUM(amount_cents - refunded_cents - disputed_cents) AS BIGINT)";

/// Each summary as the ledger says it should be, and as it is stored (its shards added up,
/// rows that came back to zero left out): `(key…, cents, gifts)` rows in the same shape.
fn days_from_ledger() -> String {
    format!(
        "SELECT donated_at / 86400 AS day, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END AS recurring, \
             {KEPT} AS kept_cents, CAST(COUNT(*) AS BIGINT) AS gifts \
         FROM donations WHERE status = 'paid' \
         GROUP BY donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END"
    )
}

const DAYS_STORED: &str = "SELECT day, recurring, CAST(SUM(kept_cents) AS BIGINT) AS kept_cents, \
         CAST(SUM(gifts) AS BIGINT) AS gifts \
     FROM donation_days GROUP BY day, recurring \
     HAVING SUM(gifts) <> 0 OR SUM(kept_cents) <> 0";

fn years_from_ledger(backend: Backend) -> String {
    let year = year_sql(backend, "donated_at");
    format!(
        "SELECT supporter_id, {year} AS year, {KEPT} AS kept_cents, CAST(COUNT(*) AS BIGINT) AS gifts \
         FROM donations WHERE status = 'paid' GROUP BY supporter_id, {year}"
    )
}

const YEARS_STORED: &str = "SELECT supporter_id, year, kept_cents, gifts FROM supporter_years \
     WHERE gifts <> 0 OR kept_cents <> 0";

/// Whether two queries of the same shape give different rows (either way).
async fn differ(conn: &mut AnyConnection, left: &str, right: &str) -> sqlx::Result<bool> {
    // Two counts: EXCEPT and UNION have the same precedence, left to right.
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM \
                 (SELECT * FROM ({left}) AS a EXCEPT SELECT * FROM ({right}) AS b) AS only_left) \
              + (SELECT CAST(COUNT(*) AS BIGINT) FROM \
                 (SELECT * FROM ({right}) AS c EXCEPT SELECT * FROM ({left}) AS e) AS only_right)"
    ))
    .fetch_one(conn)
    .await?;
    Ok(count > 0)
}

/// What [`repair`] found wrong and rebuilt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    pub days: bool,
    pub supporter_years: bool,
}

/// Compares each summary with the ledger and rebuilds the one that drifted, inside the
/// caller's write transaction (the recount's, which holds the writers off).
pub async fn repair(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<Repaired> {
    let mut repaired = Repaired::default();
    let days = days_from_ledger();
    if differ(conn, &days, DAYS_STORED).await? {
        sqlx::query("DELETE FROM donation_days")
            .execute(&mut *conn)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO donation_days (day, recurring, shard, kept_cents, gifts) \
             SELECT day, recurring, 0, kept_cents, gifts FROM ({days}) AS ledger"
        ))
        .execute(&mut *conn)
        .await?;
        repaired.days = true;
    }
    let years = years_from_ledger(backend);
    if differ(conn, &years, YEARS_STORED).await? {
        sqlx::query("DELETE FROM supporter_years")
            .execute(&mut *conn)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO supporter_years (supporter_id, year, kept_cents, gifts) \
             SELECT supporter_id, year, kept_cents, gifts FROM ({years}) AS ledger"
        ))
        .execute(&mut *conn)
        .await?;
        repaired.supporter_years = true;
    }
    Ok(repaired)
}
