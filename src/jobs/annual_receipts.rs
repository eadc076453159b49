//! A year's annual receipts issued from the back-office: a page of supporters at a time, each
//! page one job that queues the next, so that a hundred thousand supporters never hold a
//! request open, and a crash resumes where it stopped (each page is queued once: its dedupe
//! key names the run and the page).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError, enqueue};
use crate::domain::dates;
use crate::receipts::{self, RunSummary};

/// A page of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPage {
    pub year: i32,
    /// When the run was asked for: two runs of a year are two runs.
    pub started_at: i64,
    /// The last supporter of the previous page (0 for the first).
    pub after: i64,
    /// The staff member who asked.
    pub by: Option<i64>,
}

pub async fn run(ctx: &JobContext, page: RunPage) -> Result<(), JobError> {
    let organisation = match receipts::settings_for_run(&ctx.db).await? {
        Ok(organisation) => organisation,
        Err(missing) => {
            return Err(JobError::Permanent(format!(
                "réglages incomplets pour les reçus : {}",
                missing.join(", ")
            )));
        }
    };
    let mut summary = RunSummary::default();
    let next = receipts::run_page(
        &ctx.db,
        &organisation,
        page.year,
        page.after,
        page.by,
        dates::now(),
        &mut summary,
    )
    .await?;
    if let Some(after) = next {
        let mut tx = ctx.db.begin_write().await?;
        enqueue(
            &mut tx,
            &Job::AnnualReceipts(RunPage { after, ..page }),
            dates::now(),
        )
        .await?;
        tx.commit_unseen().await?;
    }
    tracing::info!(
        year = page.year,
        issued = summary.issued,
        waiting = summary.waiting_for_address.len(),
        "annual receipts: a page done"
    );
    Ok(())
}
