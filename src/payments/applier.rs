//! Applying verified Stripe events to the ledger, exactly once, and on SQLite together
//! (group commit). What each event does is in [`super::rules`].
//!
//! The event id is recorded in the same transaction as its effect, so a redelivery changes
//! nothing.

use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::events::StripeEvent;
use super::rules;
use crate::db::{Backend, Db};
use crate::domain::dates;
use crate::store::{WriteError, stripe_events};

#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Already applied: acknowledged, nothing changed.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
    /// Something this event needs has not arrived yet (Stripe will deliver it again).
    #[error("pas encore applicable : {0}")]
    NotYet(&'static str),
    /// A row changed between its reading and its update ([`WriteError::Stale`]): nothing of
    /// the event is kept, and Stripe delivers it again, to be applied from a fresh reading.
    #[error("modifié entre sa lecture et son écriture : {0}")]
    Stale(&'static str),
}

impl From<WriteError> for ApplyError {
    fn from(error: WriteError) -> ApplyError {
        match error {
            WriteError::Database(error) => ApplyError::Database(error),
            WriteError::Stale(what) => ApplyError::Stale(what),
        }
    }
}

/// Applies one event in its own transaction.
pub async fn apply(db: &Db, event: &StripeEvent) -> Result<Applied, ApplyError> {
    let mut tx = db.begin_write().await?;
    let applied = apply_in(&mut tx, db.backend(), event).await?;
    match applied {
        Applied::Done => tx.commit().await?,
        Applied::Duplicate => tx.rollback().await?,
    }
    Ok(applied)
}

/// Applies one event inside the caller's write transaction: records its id, then its effect.
#[tracing::instrument(skip_all, fields(event_id = %event.id, event_type = %event.event_type))]
async fn apply_in(
    conn: &mut AnyConnection,
    backend: Backend,
    event: &StripeEvent,
) -> Result<Applied, ApplyError> {
    let now = dates::now();
    let fresh = stripe_events::record(
        conn,
        &event.id,
        event.event_type.as_str(),
        event.api_version.as_deref(),
        event.created,
        now,
    )
    .await?;
    if !fresh {
        return Ok(Applied::Duplicate);
    }
    rules::apply(conn, backend, now, event).await?;
    Ok(Applied::Done)
}

/// Where verified events go to be applied. On PostgreSQL each request applies its own
/// event, in parallel. SQLite has one writer anyway, so one task applies the events that
/// arrived meanwhile together, in one transaction (group commit); if any of them fails, the
/// batch is rolled back and each is applied on its own, so one event never sinks another.
/// Every answer is sent after the commit that holds it: nothing acknowledged is lost.
#[derive(Clone)]
pub struct Applier {
    db: Db,
    batches: Option<mpsc::Sender<Job>>,
}

type Job = (StripeEvent, oneshot::Sender<Result<Applied, ApplyError>>);

/// Large enough to amortise a transaction, small enough to answer quickly.
const MAX_BATCH: usize = 64;

impl Applier {
    /// Needs a tokio runtime on SQLite (it spawns the writer task).
    pub fn new(db: Db) -> Applier {
        if !db.backend().has_one_writer() {
            return Applier { db, batches: None };
        }
        let (sender, mut receiver) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let writer = db.clone();
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < MAX_BATCH {
                    match receiver.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                apply_batch(&writer, jobs).await;
            }
        });
        Applier {
            db,
            batches: Some(sender),
        }
    }

    pub async fn apply(&self, event: StripeEvent) -> Result<Applied, ApplyError> {
        let Some(batches) = &self.batches else {
            return apply(&self.db, &event).await;
        };
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((event, _))) = batches.send((event, reply)).await {
            // The writer task is gone (shutting down): apply here rather than lose the event.
            return apply(&self.db, &event).await;
        }
        answer.await.unwrap_or(Err(ApplyError::NotYet(
            "the writer stopped before answering",
        )))
    }
}

async fn apply_batch(db: &Db, jobs: Vec<Job>) {
    let (events, replies): (Vec<StripeEvent>, Vec<_>) = jobs.into_iter().unzip();
    for (reply, result) in replies.into_iter().zip(apply_together(db, &events).await) {
        let _ = reply.send(result);
    }
}

/// Applies the events in one transaction; if any fails, rolls back and applies each in its
/// own transaction instead. One result per event, in order.
pub async fn apply_together(db: &Db, events: &[StripeEvent]) -> Vec<Result<Applied, ApplyError>> {
    let together = async {
        let mut tx = db.begin_write().await?;
        let mut results = Vec::with_capacity(events.len());
        for event in events {
            results.push(apply_in(&mut tx, db.backend(), event).await?);
        }
        tx.commit().await?;
        Ok::<_, ApplyError>(results)
    };
    match together.await {
        Ok(results) => results.into_iter().map(Ok).collect(),
        Err(error) if events.len() == 1 => vec![Err(error)],
        Err(_) => {
            let mut results = Vec::with_capacity(events.len());
            for event in events {
                results.push(apply(db, event).await);
            }
            results
        }
    }
}
