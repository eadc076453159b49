//! Background jobs: the work Obole owes someone after a change (an email to send), written in
//! the same transaction as that change and run later by a worker ([`worker`]) with retries,
//! so that a crash or an outage loses nothing.
//!
//! Adding a kind of job: a variant of [`Job`] (with what it needs to find its data: ids, never
//! copies), its arms below, and a call to [`enqueue`] in the transaction of its cause.

pub mod annual_receipts;
pub mod email;
pub mod housekeeping;
pub mod news;
pub mod reconcile;
pub mod schedule;
pub mod worker;

use std::sync::Arc;

use sqlx::AnyConnection;

use crate::config::Config;
use crate::db::Db;
use crate::links::LinkKey;
use crate::payments::Payments;
use crate::store::jobs::{self, NewJob};

/// A job, as its cause writes it and the worker reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Email(email::Message),
    /// A news post told to the consenting supporters of its project, a batch at a time
    /// ([`news`]): those with an id above `after`.
    NewsFanOut {
        post_id: i64,
        after: i64,
    },
    /// Money of a donation given back: the receipt that counts it is corrected, and the
    /// corrected one sent.
    ReceiptCorrection {
        donation_id: i64,
        refunded_cents: i64,
    },
    /// A page of a year's annual receipts ([`annual_receipts`]).
    AnnualReceipts(annual_receipts::RunPage),
    /// The reconciliation with Stripe of one period of the schedule ([`reconcile`]).
    Reconcile {
        period: i64,
    },
    /// The hourly housekeeping ([`housekeeping`]) of one period.
    Housekeeping {
        period: i64,
    },
}

impl Job {
    /// The `kind` column.
    fn kind(&self) -> &'static str {
        match self {
            Job::Email(_) => "email",
            Job::NewsFanOut { .. } => "news_fan_out",
            Job::ReceiptCorrection { .. } => "receipt_correction",
            Job::AnnualReceipts(_) => "annual_receipts",
            Job::Reconcile { .. } => "reconcile",
            Job::Housekeeping { .. } => "housekeeping",
        }
    }

    /// The `payload` column (JSON).
    fn payload(&self) -> serde_json::Result<String> {
        match self {
            Job::Email(email) => serde_json::to_string(email),
            Job::NewsFanOut { post_id, after } => {
                serde_json::to_string(&serde_json::json!({ "post_id": post_id, "after": after }))
            }
            Job::ReceiptCorrection {
                donation_id,
                refunded_cents,
            } => serde_json::to_string(&serde_json::json!({
                "donation_id": donation_id,
                "refunded_cents": refunded_cents,
            })),
            Job::AnnualReceipts(page) => serde_json::to_string(page),
            Job::Reconcile { period } | Job::Housekeeping { period } => {
                serde_json::to_string(&serde_json::json!({ "period": period }))
            }
        }
    }

    /// Read back from its row.
    fn decode(kind: &str, payload: &str) -> Result<Job, JobError> {
        let unreadable = |error: serde_json::Error| {
            JobError::Permanent(format!("contenu illisible pour « {kind} » : {error}"))
        };
        match kind {
            "email" => serde_json::from_str(payload)
                .map(Job::Email)
                .map_err(unreadable),
            "news_fan_out" => serde_json::from_str::<news::FanOut>(payload)
                .map(|f| Job::NewsFanOut {
                    post_id: f.post_id,
                    after: f.after,
                })
                .map_err(unreadable),
            "receipt_correction" => serde_json::from_str::<Correction>(payload)
                .map(|c| Job::ReceiptCorrection {
                    donation_id: c.donation_id,
                    refunded_cents: c.refunded_cents,
                })
                .map_err(unreadable),
            "annual_receipts" => serde_json::from_str(payload)
                .map(Job::AnnualReceipts)
                .map_err(unreadable),
            "reconcile" => serde_json::from_str::<schedule::Period>(payload)
                .map(|p| Job::Reconcile { period: p.period })
                .map_err(unreadable),
            "housekeeping" => serde_json::from_str::<schedule::Period>(payload)
                .map(|p| Job::Housekeeping { period: p.period })
                .map_err(unreadable),
            other => Err(JobError::Permanent(format!(
                "type de tâche inconnu : « {other} »"
            ))),
        }
    }

    /// One job per cause, however often the cause is applied (a webhook redelivered).
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Job::Email(email) => Some(email.dedupe_key()),
            Job::NewsFanOut { post_id, after } => Some(format!("news:{post_id}:{after}")),
            Job::ReceiptCorrection {
                donation_id,
                refunded_cents,
            } => Some(format!("receipt-correction:{donation_id}:{refunded_cents}")),
            Job::AnnualReceipts(page) => Some(format!(
                "annual-receipts:{}:{}:{}",
                page.year, page.started_at, page.after
            )),
            Job::Reconcile { period } => Some(format!("reconcile:{period}")),
            Job::Housekeeping { period } => Some(format!("housekeeping:{period}")),
        }
    }

    /// The payload to keep once the job is done, when it carried a secret: a sign-in link's
    /// token is in the email sent, and no longer in the database.
    fn redacted(&self) -> Option<String> {
        match self {
            Job::Email(email::Message::SignIn { supporter_id, .. }) => {
                Job::Email(email::Message::SignIn {
                    supporter_id: *supporter_id,
                    token: String::new(),
                })
                .payload()
                .ok()
            }
            Job::Email(email::Message::ConfirmEmail { supporter_id, .. }) => {
                Job::Email(email::Message::ConfirmEmail {
                    supporter_id: *supporter_id,
                    token: String::new(),
                })
                .payload()
                .ok()
            }
            Job::Email(_)
            | Job::NewsFanOut { .. }
            | Job::ReceiptCorrection { .. }
            | Job::AnnualReceipts(_)
            | Job::Reconcile { .. }
            | Job::Housekeeping { .. } => None,
        }
    }

    fn max_attempts(&self) -> i64 {
        match self {
            Job::Email(_)
            | Job::NewsFanOut { .. }
            | Job::ReceiptCorrection { .. }
            | Job::AnnualReceipts(_) => email::MAX_ATTEMPTS,
            // The next period's run does the same work again.
            Job::Reconcile { .. } | Job::Housekeeping { .. } => reconcile::MAX_ATTEMPTS,
        }
    }

    /// Runs the job; what it sent, if anything, for the supporter's record.
    async fn run(
        &self,
        ctx: &JobContext,
        job: &jobs::ClaimedJob,
    ) -> Result<Option<email::Sent>, JobError> {
        match self {
            Job::Email(email) => email::send(ctx, email, job).await,
            Job::NewsFanOut { post_id, after } => {
                news::fan_out(ctx, *post_id, *after).await.map(|()| None)
            }
            Job::ReceiptCorrection { donation_id, .. } => {
                correct_receipt(ctx, *donation_id).await.map(|()| None)
            }
            Job::AnnualReceipts(page) => annual_receipts::run(ctx, *page).await.map(|()| None),
            Job::Reconcile { .. } => reconcile::run(ctx).await.map(|()| None),
            Job::Housekeeping { .. } => housekeeping::run(ctx).await.map(|()| None),
        }
    }
}

#[derive(serde::Deserialize)]
struct Correction {
    donation_id: i64,
    refunded_cents: i64,
}

/// Corrects the receipt of a refunded gift, and sends the corrected one.
async fn correct_receipt(ctx: &JobContext, donation_id: i64) -> Result<(), JobError> {
    let now = crate::domain::dates::now();
    let outcome = crate::receipts::correct_after_refund(&ctx.db, donation_id, now).await?;
    if let Some(crate::receipts::Outcome::Issued { id, .. }) = outcome {
        let mut tx = ctx.db.begin_write().await?;
        let message = email::Message::ReceiptCorrected { receipt_id: id };
        enqueue(&mut tx, &Job::Email(message), now).await?;
        tx.commit_unseen().await?;
    }
    Ok(())
}

/// What follows money given back: the supporter told, the receipt corrected.
pub async fn owe_refund_follow_ups(
    conn: &mut AnyConnection,
    donation_id: i64,
    refunded_cents: i64,
    now: i64,
) -> sqlx::Result<()> {
    let told = email::Message::Refunded {
        donation_id,
        refunded_cents,
    };
    enqueue(conn, &Job::Email(told), now).await?;
    let correction = Job::ReceiptCorrection {
        donation_id,
        refunded_cents,
    };
    enqueue(conn, &correction, now).await?;
    Ok(())
}

/// Writes `job` in the caller's transaction, due now; `false` when the same job (same
/// dedupe key) was written before.
pub async fn enqueue(conn: &mut AnyConnection, job: &Job, now: i64) -> sqlx::Result<bool> {
    enqueue_at(conn, job, now, now).await
}

/// Like [`enqueue`], due at `run_at` (a news post scheduled for later).
pub async fn enqueue_at(
    conn: &mut AnyConnection,
    job: &Job,
    run_at: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let payload = job
        .payload()
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let dedupe_key = job.dedupe_key();
    let new = NewJob {
        kind: job.kind(),
        payload: &payload,
        dedupe_key: dedupe_key.as_deref(),
        run_at,
        max_attempts: job.max_attempts(),
    };
    jobs::enqueue(conn, &new, now).await
}

/// What jobs need to run.
#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub config: Arc<Config>,
    /// Public URL without trailing slash, for links in emails.
    pub base_url: Arc<str>,
    pub mailer: email::Mailer,
    /// Signs the links emails carry (fix a payment, unsubscribe).
    pub links: LinkKey,
    /// Stripe, for the reconciliation.
    pub payments: Payments,
}

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later: a server unreachable, a timeout, a busy database.
    #[error("{0}")]
    Transient(String),
    /// Fails the same way every time: an address refused, a template that does not render,
    /// a payload that cannot be read. The job is dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<sqlx::Error> for JobError {
    fn from(error: sqlx::Error) -> JobError {
        JobError::Transient(format!("base de données : {error}"))
    }
}

impl From<askama::Error> for JobError {
    fn from(error: askama::Error) -> JobError {
        JobError::Permanent(format!("gabarit : {error}"))
    }
}

/// How long after its `attempts`-th failure a job runs again: 30 s, doubling each time, at
/// most 6 hours. Ten attempts span about 4 hours: an SMTP outage of an afternoon loses
/// nothing.
pub fn retry_delay(attempts: i64) -> i64 {
    const FIRST: i64 = 30;
    const LONGEST: i64 = 6 * 3600;
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    (FIRST << doublings).min(LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_six_hours() {
        assert_eq!(retry_delay(1), 30);
        assert_eq!(retry_delay(2), 60);
        assert_eq!(retry_delay(3), 120);
        assert_eq!(retry_delay(9), 7_680);
        assert_eq!(retry_delay(10), 15_360);
        assert_eq!(retry_delay(11), 6 * 3600);
        assert_eq!(retry_delay(1_000), 6 * 3600);
        assert_eq!(retry_delay(0), 30);
    }

    #[test]
    fn a_job_reads_back_as_it_was_written() {
        let job = Job::Email(email::Message::ThankYou { donation_id: 42 });
        let payload = job.payload().unwrap();
        assert_eq!(Job::decode(job.kind(), &payload).unwrap(), job);
        assert!(matches!(
            Job::decode("rapport", "{}"),
            Err(JobError::Permanent(_))
        ));
        assert!(matches!(
            Job::decode("email", "{\"email\":\"inconnu\"}"),
            Err(JobError::Permanent(_))
        ));
    }
}
