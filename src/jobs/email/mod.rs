//! The emails Obole owes people: which one ([`Message`], queued as a job with ids only), what
//! it says ([`compose`]: askama templates, French, HTML and plain text), and how it leaves
//! ([`Mailer`]: SMTP, or `.eml` files in `DATA_DIR/outbox/` when no server is configured).

mod compose;
mod mailer;

pub use compose::Composed;
pub use mailer::{Mailer, MailerError};
use serde::{Deserialize, Serialize};

use super::{JobContext, JobError};
use crate::store::jobs::ClaimedJob;

/// Ten attempts, about 4 hours of retries ([`super::retry_delay`]).
pub const MAX_ATTEMPTS: i64 = 10;

/// An email to write, named by what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "email", rename_all = "snake_case")]
pub enum Message {
    /// A one-off gift confirmed: thanks, what it makes possible, its cost after the tax
    /// reduction.
    ThankYou { donation_id: i64 },
    /// The first instalment of a recurring gift received; later ones get no email (the annual
    /// receipt covers them).
    Welcome { recurring_gift_id: i64 },
}

impl Message {
    /// Each message is owed once: its cause may be applied again, it is not written again.
    pub fn dedupe_key(&self) -> String {
        match self {
            Message::ThankYou { donation_id } => format!("email:thank-you:{donation_id}"),
            Message::Welcome { recurring_gift_id } => format!("email:welcome:{recurring_gift_id}"),
        }
    }
}

/// Writes the message from the data as it is now and sends it. A message about something
/// that no longer calls for it (a gift refunded in full before its thank-you left) is
/// dropped, and the job done.
pub async fn send(ctx: &JobContext, message: &Message, job: &ClaimedJob) -> Result<(), JobError> {
    match compose::compose(ctx, message).await? {
        Some(composed) => ctx.mailer.send(&composed, job).await,
        None => {
            tracing::info!("email no longer called for: not sent");
            Ok(())
        }
    }
}
