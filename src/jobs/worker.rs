//! The worker: claims the jobs that are due, runs them, records how each went. One runs
//! inside `obole serve` (unless `JOBS_WORKER=0`), more as `obole worker` processes. On
//! PostgreSQL any number may run side by side: a claim skips the jobs others hold, and a
//! worker that dies loses its claims when their lease runs out. On SQLite run one.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::email::Sent;
use super::{Job, JobContext, JobError, retry_delay};
use super::{housekeeping, reconcile};
use crate::domain::dates;
use crate::store::jobs::{self, AfterFailure, ClaimedJob, SentEmail};
use crate::telemetry::measures;

/// How a job went: done (with the email it sent, if any), or failed.
type Outcome = Result<Option<Sent>, JobError>;

/// How long a claim holds: longer than any job may take (an SMTP exchange times out after
/// 60 s), so that a live worker never sees its job taken, and short enough that the job of a
/// dead worker is soon taken up again.
pub const LEASE_SECONDS: i64 = 120;
/// Jobs claimed and run together.
const BATCH: i64 = 16;
/// At most a batch this often (400 jobs a second): a backlog of ten thousand emails drains
/// in half a minute without taking the CPU the pages and webhooks need (composing an email
/// costs about a millisecond of it), and within what mail providers accept.
const BATCH_PACE: Duration = Duration::from_millis(40);
/// How often an idle worker looks for due jobs.
const IDLE_POLL: Duration = Duration::from_millis(500);

pub struct Worker {
    ctx: JobContext,
    /// Names this worker's claims.
    id: String,
}

impl Worker {
    pub fn new(ctx: JobContext) -> Worker {
        Worker {
            ctx,
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Runs jobs until `stop` turns true; the jobs in hand are finished first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "job worker started");
        let mut schedules = [
            reconcile::schedule(self.ctx.config.reconcile_every_hours),
            housekeeping::schedule(self.ctx.config.housekeeping),
        ];
        while !*stop.borrow() {
            let batch = tokio::time::Instant::now();
            for schedule in &mut schedules {
                if let Err(error) = schedule.enqueue_next(&self.ctx.db, dates::now()).await {
                    tracing::warn!(%error, "job worker: cannot schedule a periodic job");
                }
            }
            let ran = match self.run_due().await {
                Ok(ran) => ran,
                Err(error) => {
                    tracing::warn!(%error, "job worker: cannot claim jobs");
                    0
                }
            };
            let next = if ran == 0 {
                batch + IDLE_POLL
            } else {
                batch + BATCH_PACE
            };
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(worker = %self.id, "job worker stopped");
    }

    /// Claims a batch of due jobs and runs them side by side; how many there were.
    pub async fn run_due(&self) -> sqlx::Result<usize> {
        let claimed =
            jobs::claim(&self.ctx.db, &self.id, dates::now(), LEASE_SECONDS, BATCH).await?;
        let count = claimed.len();
        let mut running = JoinSet::new();
        let mut by_task = HashMap::new();
        for job in claimed {
            let ctx = self.ctx.clone();
            let task = job.clone();
            let handle = running.spawn(async move { execute(&ctx, &task).await });
            by_task.insert(handle.id(), job);
        }
        // Outcomes are recorded as soon as jobs end, those that ended together in one write
        // (on SQLite every write transaction is a sync of the disk, and the webhooks wait
        // for the same writer).
        while let Some(first) = running.join_next_with_id().await {
            let mut ended = vec![first];
            while let Some(next) = running.try_join_next_with_id() {
                ended.push(next);
            }
            let outcomes = ended
                .into_iter()
                .filter_map(|ended| {
                    let (id, outcome) = match ended {
                        Ok((id, outcome)) => (id, outcome),
                        // A bug, not the job's data: the job is not run again.
                        Err(error) => (
                            error.id(),
                            Err(JobError::Permanent(format!(
                                "la tâche s'est interrompue : {error}"
                            ))),
                        ),
                    };
                    by_task.remove(&id).map(|job| (job, outcome))
                })
                .collect();
            record(&self.ctx, &self.id, outcomes).await;
        }
        Ok(count)
    }
}

/// Runs one claimed job. Logs name the job by id, never the person it is for.
#[tracing::instrument(skip_all, fields(job_id = job.id, kind = %job.kind, attempt = job.attempts))]
async fn execute(ctx: &JobContext, job: &ClaimedJob) -> Result<Option<Sent>, JobError> {
    Job::decode(&job.kind, &job.payload)?.run(ctx, job).await
}

/// Records how jobs went: done (together, in one write), to be retried later, or dead.
async fn record(ctx: &JobContext, worker: &str, outcomes: Vec<(ClaimedJob, Outcome)>) {
    let now = dates::now();
    let mut done = Vec::new();
    let mut sent = Vec::new();
    let mut secrets = Vec::new();
    for (job, outcome) in outcomes {
        match outcome {
            Ok(email) => {
                done.push(job.id);
                if let Some(email) = email {
                    sent.push(SentEmail {
                        job_id: job.id,
                        supporter_id: email.supporter_id,
                        subject: email.subject,
                    });
                }
                if let Some(payload) = redacted(&job) {
                    secrets.push((job.id, payload));
                }
            }
            Err(error) => record_failure(ctx, worker, &job, error, now).await,
        }
    }
    if done.is_empty() {
        return;
    }
    measures::emails_sent(sent.len());
    // The secret a job carried (a sign-in link's token) is in the email sent; the database
    // keeps it no longer. Done before the job is marked done: a worker that dies in between
    // runs the job again without its token, and it then sends nothing.
    if let Err(error) = jobs::redact(&ctx.db, &secrets).await {
        tracing::error!(%error, "secrets of done jobs not removed");
    }
    match jobs::finish(&ctx.db, &done, &sent, worker, now).await {
        Ok(held) if held < done.len() => {
            tracing::warn!(jobs = ?done, "jobs done after their lease ran out");
        }
        Ok(_) => {}
        // The claims run out and the jobs run again: nothing is lost.
        Err(error) => tracing::error!(%error, jobs = ?done, "jobs' outcome not recorded"),
    }
}

#[tracing::instrument(skip_all, fields(job_id = job.id, kind = %job.kind, attempt = job.attempts))]
async fn record_failure(
    ctx: &JobContext,
    worker: &str,
    job: &ClaimedJob,
    error: JobError,
    now: i64,
) {
    measures::job_failed(&job.kind);
    let after = match &error {
        JobError::Transient(_) if job.attempts < job.max_attempts => {
            AfterFailure::RetryAt(now + retry_delay(job.attempts))
        }
        _ => AfterFailure::Dead,
    };
    match after {
        AfterFailure::Dead => tracing::error!("job dead: {}", error_class(&error)),
        AfterFailure::RetryAt(_) => {
            tracing::warn!("job failed, to be retried: {}", error_class(&error))
        }
    }
    if let Err(error) = jobs::fail(&ctx.db, job.id, worker, &error.to_string(), after, now).await {
        tracing::error!(%error, "job outcome not recorded");
    }
}

/// The payload of a done job, minus the secret it carried, if any.
fn redacted(job: &ClaimedJob) -> Option<String> {
    Job::decode(&job.kind, &job.payload).ok()?.redacted()
}

/// What kind of failure, for logs: the full message (which may name an address) stays in the
/// jobs table.
fn error_class(error: &JobError) -> &'static str {
    match error {
        JobError::Transient(_) => "temporary failure",
        JobError::Permanent(_) => "permanent failure",
    }
}
