//! SQL, grouped by aggregate. Every query text here runs unchanged on SQLite and PostgreSQL
//! (portable subset: `$n` parameters, integers, text, 0/1 flags, `CAST(SUM(..) AS BIGINT)`).

pub mod campaigns;
pub mod counters;
pub mod donations;
pub mod ledger;
pub mod news;
pub mod pledges;
pub mod projects;
pub mod recurring_gifts;
pub mod stripe_events;
pub mod supporters;

/// A 0/1 flag column as stored.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}
