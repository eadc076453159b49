//! The worker: claims the jobs that are due, runs them, records how each went. One runs
//! inside `obole serve` (unless `JOBS_WORKER=0`), more as `obole worker` processes. On
//! PostgreSQL any number may run side by side: a claim skips the jobs others hold, and a
//! worker that dies loses its claims when their lease runs out. On SQLite run one.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Job, JobContext, JobError, retry_delay};
use crate::domain::dates;
use crate::store::jobs::{self, AfterFailure, ClaimedJob};

/// How long a claim holds: longer than any job may take (an SMTP exchange times out after
/// 60 s), so that a live worker never sees its job taken, and short enough that the job of a
/// dead worker is soon taken up again.
pub const LEASE_SECONDS: i64 = 120;
/// Jobs claimed and run together.
const BATCH: i64 = 16;
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
        while !*stop.borrow() {
            let ran = match self.run_due().await {
                Ok(ran) => ran,
                Err(error) => {
                    tracing::warn!(%error, "job worker: cannot claim jobs");
                    0
                }
            };
            if ran == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stop.changed() => {}
                }
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
        while let Some(finished) = running.join_next_with_id().await {
            let (id, outcome) = match finished {
                Ok((id, outcome)) => (id, outcome),
                // A bug, not the job's data: the job is not run again.
                Err(error) => (
                    error.id(),
                    Err(JobError::Permanent(format!(
                        "la tâche s'est interrompue : {error}"
                    ))),
                ),
            };
            if let Some(job) = by_task.remove(&id) {
                record(&self.ctx, &self.id, &job, outcome).await;
            }
        }
        Ok(count)
    }
}

/// Runs one claimed job. Logs name the job by id, never the person it is for.
#[tracing::instrument(skip_all, fields(job_id = job.id, kind = %job.kind, attempt = job.attempts))]
async fn execute(ctx: &JobContext, job: &ClaimedJob) -> Result<(), JobError> {
    Job::decode(&job.kind, &job.payload)?.run(ctx, job).await
}

/// Records how the job went: done, to be retried later, or dead.
#[tracing::instrument(skip_all, fields(job_id = job.id, kind = %job.kind, attempt = job.attempts))]
async fn record(ctx: &JobContext, worker: &str, job: &ClaimedJob, outcome: Result<(), JobError>) {
    let now = dates::now();
    let recorded = match outcome {
        Ok(()) => jobs::finish(&ctx.db, job.id, worker, now)
            .await
            .map(|held| {
                if !held {
                    tracing::warn!("job done after its lease ran out");
                }
            }),
        Err(error) => {
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
            jobs::fail(&ctx.db, job.id, worker, &error.to_string(), after, now).await
        }
    };
    if let Err(error) = recorded {
        // The claim runs out and the job runs again: nothing is lost.
        tracing::error!(%error, "job outcome not recorded");
    }
}

/// What kind of failure, for logs: the full message (which may name an address) stays in the
/// jobs table.
fn error_class(error: &JobError) -> &'static str {
    match error {
        JobError::Transient(_) => "temporary failure",
        JobError::Permanent(_) => "permanent failure",
    }
}
