//! A news post told by email to the supporters who asked for news and gave to its project:
//! a batch of recipients at a time, each batch one transaction that queues their emails and
//! the next batch, so that a project with fifty thousand supporters is never one huge write,
//! and a crash resumes where it stopped (each email and each batch is queued once: their
//! dedupe keys).

use serde::Deserialize;

use super::email::Message;
use super::{Job, JobContext, JobError, enqueue};
use crate::domain::dates;
use crate::store::news;

/// Recipients queued per batch.
const BATCH: i64 = 500;

#[derive(Debug, Deserialize)]
pub struct FanOut {
    pub post_id: i64,
    pub after: i64,
}

pub async fn fan_out(ctx: &JobContext, post_id: i64, after: i64) -> Result<(), JobError> {
    let now = dates::now();
    let mut tx = ctx.db.begin_write().await?;
    let Some(project_id) = news::project_of(&mut tx, post_id).await? else {
        return Ok(()); // The post is gone: nothing to tell.
    };
    let recipients = news::recipients(&mut tx, project_id, after, BATCH).await?;
    for supporter_id in &recipients {
        let message = Message::News {
            post_id,
            supporter_id: *supporter_id,
        };
        enqueue(&mut tx, &Job::Email(message), now).await?;
    }
    if let (Some(last), true) = (recipients.last(), recipients.len() as i64 == BATCH) {
        let next = Job::NewsFanOut {
            post_id,
            after: *last,
        };
        enqueue(&mut tx, &next, now).await?;
    }
    tx.commit_unseen().await?;
    tracing::info!(post_id, queued = recipients.len(), "news emails queued");
    Ok(())
}
