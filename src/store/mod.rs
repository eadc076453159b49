//! SQL, grouped by aggregate. Every query text here runs unchanged on SQLite and PostgreSQL
//! (portable subset: `$n` parameters, integers, text, 0/1 flags, `CAST(SUM(..) AS BIGINT)`).

pub mod audit;
pub mod campaign_admin;
pub mod campaigns;
pub mod counters;
pub mod disputes;
pub mod donation_list;
pub mod donations;
pub mod donor_stats;
pub mod figures;
pub mod form_submissions;
pub mod giving;
pub mod jobs;
pub mod ledger;
pub mod news;
pub mod notices;
pub mod personal_data;
pub mod pledges;
pub mod project_admin;
pub mod projects;
pub mod receipts;
pub mod reconcile_runs;
pub mod recurring_gifts;
pub mod search;
pub mod server_keys;
pub mod settings;
pub mod sign_in_tokens;
pub mod staff;
pub mod standing;
pub mod stripe_events;
pub mod summaries;
pub mod supporters;

/// A 0/1 flag column as stored.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Why a write guarded by what the caller read did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The row is no longer as the caller read it: the `UPDATE`, whose `WHERE` repeats what
    /// was read, matched no row. Nothing may be acknowledged on a stale reading; the whole
    /// change is to be made again from a fresh one.
    #[error("{0} changed since it was read")]
    Stale(&'static str),
}

/// `Ok` when the guarded update wrote its one row, [`WriteError::Stale`] when it matched none.
fn guarded(rows_affected: u64, what: &'static str) -> Result<(), WriteError> {
    if rows_affected == 0 {
        return Err(WriteError::Stale(what));
    }
    Ok(())
}
