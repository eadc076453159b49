//! SQL, grouped by aggregate. Every query text here runs unchanged on SQLite and PostgreSQL
//! (portable subset: `$n` parameters, integers, text, 0/1 flags, `CAST(SUM(..) AS BIGINT)`).

pub mod campaigns;
pub mod counters;
pub mod donations;
pub mod news;
pub mod projects;
pub mod supporters;

/// A 0/1 flag column as stored.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}
