//! The emails Obole owes people: which one ([`Message`], queued as a job with ids only), what
//! it says ([`compose`]: askama templates, French, HTML and plain text), and how it leaves
//! ([`Mailer`]: SMTP, or `.eml` files in `DATA_DIR/outbox/` when no server is configured).

mod compose;
mod mailer;

pub use compose::Composed;
pub use mailer::{Mailer, MailerError, OutboxEntry, read_outbox, read_outbox_entry};
use serde::{Deserialize, Serialize};

use crate::domain::frequency::Frequency;
use crate::domain::sign_in;

use super::{JobContext, JobError};
use crate::store::jobs::ClaimedJob;

/// Ten attempts, about 4 hours of retries ([`super::retry_delay`]).
pub const MAX_ATTEMPTS: i64 = 10;

/// An email to write, named by what it is about. Each is written from the data as it is when
/// it leaves, and dropped if that no longer calls for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "email", rename_all = "snake_case")]
pub enum Message {
    /// A one-off gift confirmed: thanks, what it makes possible, its cost after the tax
    /// reduction.
    ThankYou { donation_id: i64 },
    /// The first instalment of a recurring gift received; later ones get no email (the annual
    /// receipt covers them) unless the supporter asked for [`Message::Instalment`].
    Welcome { recurring_gift_id: i64 },
    /// A later instalment received, for a supporter who asked for an email at each one. Not
    /// transactional: it carries a one-click unsubscribe.
    Instalment { donation_id: i64 },
    /// A renewal failed and Stripe will try again: a link to fix the card or IBAN.
    PaymentFailed {
        recurring_gift_id: i64,
        invoice_id: String,
    },
    /// A direct debit the bank rejected: a one-off gift's, or a recurring gift's first (the
    /// gift then never starts). Named by the pledge both kinds come from.
    DebitRejected { pledge_id: i64 },
    /// A recurring gift changed at Stripe (by the supporter, the team, or Stripe's retries
    /// running out), as the event `event_id` told.
    GiftChanged {
        recurring_gift_id: i64,
        change: GiftChange,
        event_id: String,
    },
    /// Money given back: `refunded_cents` in all so far.
    Refunded {
        donation_id: i64,
        refunded_cents: i64,
    },
    /// A sign-in link to « Mon espace ». The token is the secret the link carries; it is
    /// stored hashed where it is checked, and works once, for minutes.
    SignIn { supporter_id: i64, token: String },
    /// The link that confirms a new email address, sent to that address (which the link's
    /// row holds). A secret, like [`Message::SignIn`]'s.
    ConfirmEmail { supporter_id: i64, token: String },
    /// News of a project the supporter gave to, for those who asked (`news` consent, checked
    /// again when it leaves). Carries a one-click unsubscribe.
    News { post_id: i64, supporter_id: i64 },
    /// A receipt corrected after a refund: the new one, attached.
    ReceiptCorrected { receipt_id: i64 },
    /// A year's annual receipt, attached.
    AnnualReceipt { receipt_id: i64 },
    /// The receipt of the supporter's gifts of `year` waits for their postal address.
    ReceiptAddressNeeded { supporter_id: i64, year: i32 },
}

/// What happened to a recurring gift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftChange {
    /// A new amount or frequency (the gift's current ones), from `before_cents` every
    /// `before_frequency`.
    Amount {
        before_cents: i64,
        #[serde(default)]
        before_frequency: Option<Frequency>,
    },
    Paused,
    Resumed,
    /// Cancelled, to end with the period already paid.
    CancelScheduled,
    /// Cancelled at once.
    Cancelled,
    /// Ended by Stripe after the last retry of a failed payment.
    Lapsed,
}

impl Message {
    /// Each message is owed once: its cause may be applied again, it is not written again.
    pub fn dedupe_key(&self) -> String {
        match self {
            Message::ThankYou { donation_id } => format!("email:thank-you:{donation_id}"),
            Message::ReceiptCorrected { receipt_id } | Message::AnnualReceipt { receipt_id } => {
                format!("email:receipt:{receipt_id}")
            }
            Message::ReceiptAddressNeeded { supporter_id, year } => {
                format!("email:receipt-address:{supporter_id}:{year}")
            }
            Message::Welcome { recurring_gift_id } => format!("email:welcome:{recurring_gift_id}"),
            Message::Instalment { donation_id } => format!("email:instalment:{donation_id}"),
            Message::PaymentFailed { invoice_id, .. } => {
                format!("email:payment-failed:{invoice_id}")
            }
            Message::DebitRejected { pledge_id } => format!("email:debit-rejected:{pledge_id}"),
            Message::GiftChanged {
                recurring_gift_id,
                event_id,
                ..
            } => format!("email:gift:{recurring_gift_id}:{event_id}"),
            Message::Refunded {
                donation_id,
                refunded_cents,
            } => format!("email:refund:{donation_id}:{refunded_cents}"),
            // Not the token itself: the key is stored in clear.
            Message::SignIn { token, .. } => format!("email:sign-in:{}", sign_in::hash(token)),
            Message::ConfirmEmail { token, .. } => {
                format!("email:new-address:{}", sign_in::hash(token))
            }
            Message::News {
                post_id,
                supporter_id,
            } => format!("email:news:{post_id}:{supporter_id}"),
        }
    }
}

/// An email that left, as the supporter's record of emails sent keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub supporter_id: i64,
    pub subject: String,
}

/// Writes the message from the data as it is now and sends it. A message about something
/// that no longer calls for it (a gift refunded in full before its thank-you left) is
/// dropped, and the job done.
pub async fn send(
    ctx: &JobContext,
    message: &Message,
    job: &ClaimedJob,
) -> Result<Option<Sent>, JobError> {
    // Writing an email is the CPU-bound part (queries, templates, MIME encoding, about a
    // millisecond): one at a time in the process, so that a backlog leaves the other core to
    // the pages and webhooks. Sending waits on the network or the disk: many at once.
    let writing = WRITING
        .acquire()
        .await
        .map_err(|_| JobError::Transient("arrêt en cours".to_owned()))?;
    let Some(composed) = compose::compose(ctx, message).await? else {
        tracing::info!("email no longer called for: not sent");
        return Ok(None);
    };
    let mime = ctx.mailer.build(&composed, job)?;
    drop(writing);
    ctx.mailer.send(mime, &composed, job).await?;
    Ok(composed.supporter_id.map(|supporter_id| Sent {
        supporter_id,
        subject: composed.subject,
    }))
}

/// Emails being written at once ([`send`]).
static WRITING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
