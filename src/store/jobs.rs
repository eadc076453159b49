//! The jobs table: enqueue in the caller's transaction, claim with a lease, finish, retry or
//! bury. What a job does is in `crate::jobs`.

use sqlx::{AnyConnection, AnyPool};

use crate::db::Db;

/// A job to write, beside the change that causes it.
pub struct NewJob<'a> {
    pub kind: &'a str,
    /// JSON.
    pub payload: &'a str,
    /// Enqueueing twice with one key makes one job (a webhook applied again, say).
    pub dedupe_key: Option<&'a str>,
    pub run_at: i64,
    pub max_attempts: i64,
}

/// Writes the job; `false` when one with its dedupe key exists already.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob<'_>, now: i64) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.dedupe_key)
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// A job a worker holds until `locked_until`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Counting this one.
    pub attempts: i64,
    pub max_attempts: i64,
    pub created_at: i64,
}

/// Which jobs are due: pending, their run time come, and held by no live worker (a claim whose
/// lease ran out is free again: its worker died).
const DUE: &str = "done_at IS NULL AND dead_at IS NULL AND run_at <= $1 \
     AND (locked_until IS NULL OR locked_until < $1)";

/// Claims up to `limit` due jobs for `worker` until `now + lease`. Counts the attempt now, so
/// a job that kills its worker still runs out of attempts. On PostgreSQL, workers skip the rows
/// others are claiming (`SKIP LOCKED`); on SQLite the write transaction serialises claims.
///
/// An idle worker only reads: no write transaction (which would wait for the writer, sync the
/// disk) unless a job is due. Its writes are bookkeeping no page shows
/// ([`crate::db::WriteTx::commit_unseen`]).
pub async fn claim(
    db: &Db,
    worker: &str,
    now: i64,
    lease: i64,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedJob>> {
    let due: Option<i64> = sqlx::query_scalar(&format!("SELECT id FROM jobs WHERE {DUE} LIMIT 1"))
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin_write().await?;
    let claimed: Vec<ClaimedJob> = sqlx::query_as(&format!(
        "UPDATE jobs SET locked_by = $2, locked_until = $3, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at, id LIMIT $4{}) \
         RETURNING id, kind, payload, attempts, max_attempts, created_at",
        db.backend().skip_locked()
    ))
    .bind(now)
    .bind(worker)
    .bind(now + lease)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        // Another worker was quicker: nothing written.
        tx.rollback().await?;
    } else {
        tx.commit_unseen().await?;
    }
    Ok(claimed)
}

/// An email a job sent, for its supporter's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub job_id: i64,
    pub supporter_id: i64,
    pub subject: String,
}

/// The jobs ran: done, with the emails they sent recorded, in one write. Returns how many
/// `worker` still held (a job whose lease ran out may have been claimed by another worker,
/// and then runs twice, which the lease's length makes unlikely; its email is recorded once).
pub async fn finish(
    db: &Db,
    ids: &[i64],
    sent: &[SentEmail],
    worker: &str,
    now: i64,
) -> sqlx::Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "UPDATE jobs SET done_at = $1, locked_by = NULL, locked_until = NULL, last_error = NULL \
         WHERE locked_by = $2 AND done_at IS NULL AND id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(now).bind(worker);
    for id in ids {
        query = query.bind(id);
    }
    let mut tx = db.begin_write().await?;
    let done = query.execute(&mut *tx).await?;
    for email in sent {
        sqlx::query(
            "INSERT INTO emails_sent (supporter_id, job_id, subject, sent_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(email.supporter_id)
        .bind(email.job_id)
        .bind(&email.subject)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit_unseen().await?;
    Ok(done.rows_affected() as usize)
}

/// Deletes the jobs done before `done_before` (housekeeping), a batch per transaction so
/// that a large backlog never holds the write lock for long. How many.
pub async fn forget_done(db: &Db, done_before: i64) -> sqlx::Result<u64> {
    const BATCH: i64 = 1_000;
    let mut deleted = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let batch = sqlx::query(
            "DELETE FROM jobs WHERE id IN \
             (SELECT id FROM jobs WHERE done_at < $1 ORDER BY done_at LIMIT $2)",
        )
        .bind(done_before)
        .bind(BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit_unseen().await?;
        deleted += batch;
        if batch < BATCH as u64 {
            return Ok(deleted);
        }
    }
}

/// Replaces the payloads of jobs that carried a secret, in one write (none: no write).
pub async fn redact(db: &Db, payloads: &[(i64, String)]) -> sqlx::Result<()> {
    if payloads.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    for (id, payload) in payloads {
        sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2")
            .bind(payload)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit_unseen().await
}

/// What becomes of a job that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Runs again at this time.
    RetryAt(i64),
    /// Never runs again; kept with its error.
    Dead,
}

/// Records the failure and what follows it.
pub async fn fail(
    db: &Db,
    id: i64,
    worker: &str,
    error: &str,
    after: AfterFailure,
    now: i64,
) -> sqlx::Result<()> {
    let (run_at, dead_at) = match after {
        AfterFailure::RetryAt(at) => (Some(at), None),
        AfterFailure::Dead => (None, Some(now)),
    };
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE jobs SET last_error = $1, run_at = COALESCE($2, run_at), dead_at = $3, \
             locked_by = NULL, locked_until = NULL \
         WHERE id = $4 AND locked_by = $5 AND done_at IS NULL",
    )
    .bind(truncated(error))
    .bind(run_at)
    .bind(dead_at)
    .bind(id)
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    tx.commit_unseen().await?;
    Ok(())
}

/// Errors are kept for people to read, not whole server transcripts.
fn truncated(error: &str) -> &str {
    const MAX: usize = 2_000;
    match error.char_indices().nth(MAX) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

/// A job as `obole jobs` and the back-office list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobSummary {
    pub id: i64,
    pub kind: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub dead_at: Option<i64>,
    pub created_at: i64,
}

/// The dead jobs, latest first.
pub async fn dead(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<JobSummary>> {
    sqlx::query_as(
        "SELECT id, kind, attempts, max_attempts, run_at, last_error, dead_at, created_at \
         FROM jobs WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The pending jobs that failed at least once (waiting for a retry), soonest first.
pub async fn retrying(pool: &AnyPool, limit: i64) -> sqlx::Result<Vec<JobSummary>> {
    sqlx::query_as(
        "SELECT id, kind, attempts, max_attempts, run_at, last_error, dead_at, created_at \
         FROM jobs WHERE done_at IS NULL AND dead_at IS NULL AND last_error IS NOT NULL \
         ORDER BY run_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many jobs are due and wait to run (not those scheduled later), how many pending ones
/// failed at least once, and how many are dead: read through the partial indexes of pending
/// and dead jobs, whatever the number done.
pub async fn backlog(pool: &AnyPool, now: i64) -> sqlx::Result<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT \
             CAST((SELECT COUNT(*) FROM jobs \
                   WHERE done_at IS NULL AND dead_at IS NULL AND run_at <= $1) AS BIGINT), \
             CAST((SELECT COUNT(*) FROM jobs \
                   WHERE done_at IS NULL AND dead_at IS NULL AND attempts > 0) AS BIGINT), \
             CAST((SELECT COUNT(*) FROM jobs WHERE dead_at IS NOT NULL) AS BIGINT)",
    )
    .bind(now)
    .fetch_one(pool)
    .await
}

/// How many jobs are pending, done and dead.
pub async fn counts(pool: &AnyPool) -> sqlx::Result<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT \
             CAST(COALESCE(SUM(CASE WHEN done_at IS NULL AND dead_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM jobs",
    )
    .fetch_one(pool)
    .await
}
