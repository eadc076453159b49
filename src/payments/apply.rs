//! Applying a verified Stripe event to the ledger, exactly once.
//!
//! The event id is recorded in the same transaction as its effect, so a redelivery changes
//! nothing. Events arrive late, twice and out of order: every handler upserts by Stripe ids
//! and only moves states forward, so any order converges to the same ledger.

use std::collections::HashMap;

use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::events::{
    ChargeFacts, CheckoutFacts, Fact, InvoiceFacts, StripeEvent, SubscriptionFacts,
};
use crate::db::{Backend, Db};
use crate::domain::dates;
use crate::store::donations::{self, NewDonation, Status, StripeRef};
use crate::store::pledges::{self, Pledge};
use crate::store::recurring_gifts::{self, NewRecurringGift, RecurringGift, SubscriptionState};
use crate::store::stripe_events;
use crate::store::supporters;

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
}

/// How long an event that refers to something unknown is worth retrying; after that it is
/// not ours (another integration on the same Stripe account) and is acknowledged.
const RETRY_WINDOW: i64 = 3 * 24 * 3600;

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
async fn apply_in(
    conn: &mut AnyConnection,
    backend: Backend,
    event: &StripeEvent,
) -> Result<Applied, ApplyError> {
    let now = dates::now();
    let fresh = stripe_events::record(
        conn,
        &event.id,
        &event.event_type,
        event.api_version.as_deref(),
        event.created,
        now,
    )
    .await?;
    if !fresh {
        return Ok(Applied::Duplicate);
    }
    let ctx = Context {
        backend,
        now,
        event,
    };
    match &event.fact {
        Fact::Checkout(facts) => ctx.checkout(conn, facts).await?,
        Fact::Invoice(facts) => ctx.invoice(conn, facts).await?,
        Fact::Subscription(facts) => ctx.subscription(conn, facts).await?,
        Fact::Refund(facts) => ctx.refund(conn, facts).await?,
        Fact::Ignored => {}
    }
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

struct Context<'a> {
    backend: Backend,
    now: i64,
    event: &'a StripeEvent,
}

impl Context<'_> {
    async fn checkout(
        &self,
        conn: &mut AnyConnection,
        facts: &CheckoutFacts,
    ) -> Result<(), ApplyError> {
        let Some(pledge) = pledge_from(conn, self.backend, &facts.metadata).await? else {
            tracing::warn!(event_id = %self.event.id, "checkout session without a known pledge: ignored");
            return Ok(());
        };
        if self.event.event_type == "checkout.session.expired" {
            pledges::settle(conn, &pledge, "expired", None, self.now).await?;
            return Ok(());
        }
        let outcome = match self.event.event_type.as_str() {
            "checkout.session.async_payment_failed" => Status::Failed,
            "checkout.session.async_payment_succeeded" => Status::Paid,
            _ if facts.payment_status == "unpaid" => Status::Pending,
            _ => Status::Paid,
        };
        let supporter_id =
            supporter_for(conn, &pledge, facts.customer_id.as_deref(), self.now).await?;
        let pledge_status = if outcome == Status::Failed {
            "failed"
        } else {
            "completed"
        };
        pledges::settle(conn, &pledge, pledge_status, Some(supporter_id), self.now).await?;

        if facts.mode == "subscription" {
            // The instalments themselves come with `invoice.paid`.
            if let Some(subscription_id) = &facts.subscription_id {
                let gift = self
                    .gift_for(
                        conn,
                        &pledge,
                        supporter_id,
                        subscription_id,
                        facts.customer_id.as_deref(),
                    )
                    .await?;
                if outcome == Status::Paid {
                    recurring_gifts::payment_outcome(
                        conn,
                        &gift,
                        true,
                        self.event.created,
                        self.now,
                    )
                    .await?;
                }
            }
            return Ok(());
        }

        let method =
            if self.event.event_type == "checkout.session.completed" && outcome == Status::Paid {
                "card"
            } else {
                "sepa_debit"
            };
        let mut donation = donation_from(
            &pledge,
            supporter_id,
            facts.amount_total.unwrap_or(pledge.amount_cents),
            self.event.created,
        );
        donation.payment_method = method.to_owned();
        donation.stripe_checkout_session_id = Some(facts.session_id.clone());
        donation.stripe_payment_intent_id = facts.payment_intent_id.clone();
        if outcome == Status::Paid {
            consent_if_asked(conn, &pledge, supporter_id, self.now).await?;
        }
        self.upsert_donation(
            conn,
            &donation,
            StripeRef::CheckoutSession(&facts.session_id),
            outcome,
        )
        .await
    }

    async fn invoice(
        &self,
        conn: &mut AnyConnection,
        facts: &InvoiceFacts,
    ) -> Result<(), ApplyError> {
        let Some(subscription_id) = &facts.subscription_id else {
            return Ok(()); // Not a subscription's invoice: nothing of ours.
        };
        let Some((gift, pledge)) = self
            .gift_of_subscription(
                conn,
                subscription_id,
                &facts.subscription_metadata,
                facts.customer_id.as_deref(),
            )
            .await?
        else {
            return Ok(());
        };
        let at = self.event.created;
        if !facts.paid {
            recurring_gifts::payment_outcome(conn, &gift, false, at, self.now).await?;
            return Ok(());
        }
        if facts.amount_paid <= 0 {
            // Paid by the customer's credit balance or a coupon: no money, no donation.
            recurring_gifts::payment_outcome(conn, &gift, true, at, self.now).await?;
            return Ok(());
        }
        let mut donation = donation_from(
            &pledge,
            gift.supporter_id,
            facts.amount_paid,
            facts.paid_at.unwrap_or(self.event.created),
        );
        donation.frequency = gift.frequency.clone();
        donation.recurring_gift_id = Some(gift.id);
        donation.stripe_invoice_id = Some(facts.invoice_id.clone());
        donation.stripe_payment_intent_id = facts.payment_intent_id.clone();
        consent_if_asked(conn, &pledge, gift.supporter_id, self.now).await?;
        self.upsert_donation(
            conn,
            &donation,
            StripeRef::Invoice(&facts.invoice_id),
            Status::Paid,
        )
        .await?;
        recurring_gifts::payment_outcome(conn, &gift, true, at, self.now).await?;
        Ok(())
    }

    async fn subscription(
        &self,
        conn: &mut AnyConnection,
        facts: &SubscriptionFacts,
    ) -> Result<(), ApplyError> {
        let Some((gift, _)) = self
            .gift_of_subscription(
                conn,
                &facts.subscription_id,
                &facts.metadata,
                facts.customer_id.as_deref(),
            )
            .await?
        else {
            return Ok(());
        };
        let status = if facts.deleted {
            "canceled"
        } else {
            match facts.status.as_str() {
                "active" | "trialing" if facts.paused => "paused",
                "active" | "trialing" => "active",
                "past_due" | "unpaid" => "past_due",
                "paused" => "paused",
                "incomplete" => "incomplete",
                _ => "canceled",
            }
        };
        let state = SubscriptionState {
            status,
            amount_cents: facts.amount_cents,
            cancel_at_period_end: facts.cancel_at_period_end,
            current_period_end: facts.current_period_end,
            event_at: self.event.created,
            creation: self.event.event_type == "customer.subscription.created",
        };
        recurring_gifts::apply_state(conn, gift.id, &state, self.now).await?;
        Ok(())
    }

    async fn refund(
        &self,
        conn: &mut AnyConnection,
        facts: &ChargeFacts,
    ) -> Result<(), ApplyError> {
        let Some(payment_intent) = &facts.payment_intent_id else {
            return Ok(());
        };
        let mut donation =
            donations::find_locked(conn, self.backend, StripeRef::PaymentIntent(payment_intent))
                .await?;
        if let (None, Some(invoice)) = (&donation, &facts.invoice_id) {
            // An instalment, recorded before its PaymentIntent was known.
            donation =
                donations::find_locked(conn, self.backend, StripeRef::Invoice(invoice)).await?;
            if let Some(found) = &mut donation {
                donations::set_payment_intent(conn, found.id, payment_intent).await?;
                found.stripe_payment_intent_id = Some(payment_intent.clone());
            }
        }
        match donation {
            Some(donation) => {
                donations::record_refund(
                    conn,
                    self.backend,
                    &donation,
                    facts.amount_refunded,
                    self.now,
                )
                .await?;
                Ok(())
            }
            None if self.now - self.event.created < RETRY_WINDOW => {
                Err(ApplyError::NotYet("refund of a payment not recorded yet"))
            }
            None => {
                tracing::warn!(event_id = %self.event.id, "refund of an unknown payment: ignored");
                Ok(())
            }
        }
    }

    /// Inserts the donation, or moves the existing one forward (pending → paid or failed).
    async fn upsert_donation(
        &self,
        conn: &mut AnyConnection,
        donation: &NewDonation,
        by: StripeRef<'_>,
        outcome: Status,
    ) -> Result<(), ApplyError> {
        if donations::insert(conn, self.backend, donation, outcome, self.now)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let existing = donations::find_locked(conn, self.backend, by)
            .await?
            .ok_or(ApplyError::NotYet(
                "donation conflicts with another Stripe id",
            ))?;
        if existing.status == Status::Pending.as_str()
            && matches!(outcome, Status::Paid | Status::Failed)
        {
            donations::transition(
                conn,
                self.backend,
                &existing,
                Status::Pending,
                outcome,
                self.now,
            )
            .await?;
        }
        if let (None, Some(payment_intent)) = (
            &existing.stripe_payment_intent_id,
            &donation.stripe_payment_intent_id,
        ) {
            donations::set_payment_intent(conn, existing.id, payment_intent).await?;
        }
        Ok(())
    }

    /// The gift of a subscription, created from its pledge when this event is the first to
    /// speak of it. `None` when the subscription is not one of ours.
    async fn gift_of_subscription(
        &self,
        conn: &mut AnyConnection,
        subscription_id: &str,
        metadata: &HashMap<String, String>,
        customer_id: Option<&str>,
    ) -> Result<Option<(RecurringGift, Pledge)>, ApplyError> {
        if let Some(gift) =
            recurring_gifts::find_by_subscription(conn, self.backend, subscription_id).await?
        {
            let pledge = match gift.pledge_id {
                Some(id) => pledges::find(conn, id).await?,
                None => None,
            };
            return Ok(pledge.map(|p| (gift, p)));
        }
        let Some(pledge) = pledge_from(conn, self.backend, metadata).await? else {
            tracing::warn!(event_id = %self.event.id, "subscription without a known pledge: ignored");
            return Ok(None);
        };
        let supporter_id = supporter_for(conn, &pledge, customer_id, self.now).await?;
        pledges::settle(conn, &pledge, "completed", Some(supporter_id), self.now).await?;
        let gift = self
            .gift_for(conn, &pledge, supporter_id, subscription_id, customer_id)
            .await?;
        Ok(Some((gift, pledge)))
    }

    async fn gift_for(
        &self,
        conn: &mut AnyConnection,
        pledge: &Pledge,
        supporter_id: i64,
        subscription_id: &str,
        customer_id: Option<&str>,
    ) -> Result<RecurringGift, ApplyError> {
        let new = NewRecurringGift {
            supporter_id,
            campaign_id: pledge.campaign_id,
            pledge_id: pledge.id,
            amount_cents: pledge.amount_cents,
            currency: &pledge.currency,
            frequency: if pledge.frequency == "yearly" {
                "yearly"
            } else {
                "monthly"
            },
            // Whatever the event creating it: the subscription's own events decide the
            // status (Stripe may still retry a failed first debit).
            status: "incomplete",
            stripe_subscription_id: subscription_id,
            stripe_customer_id: customer_id,
        };
        Ok(recurring_gifts::ensure(conn, self.backend, &new, self.now).await?)
    }
}

/// Our pledge, named in the metadata we gave Stripe. Locked until the transaction ends: Stripe
/// sends a new gift's first events all at once, and the first to create its supporter must
/// be seen by the others (on SQLite, write transactions already take turns).
async fn pledge_from(
    conn: &mut AnyConnection,
    backend: Backend,
    metadata: &HashMap<String, String>,
) -> sqlx::Result<Option<Pledge>> {
    match metadata
        .get("pledge_id")
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => pledges::find_locked(conn, backend, id).await,
        None => Ok(None),
    }
}

/// The supporter behind a pledge, created or refreshed from the identity it carries. Not the
/// news consent it carries: that waits for the money ([`consent_if_asked`]).
async fn supporter_for(
    conn: &mut AnyConnection,
    pledge: &Pledge,
    customer_id: Option<&str>,
    now: i64,
) -> sqlx::Result<i64> {
    if let Some(id) = pledge.supporter_id {
        // An earlier event of this pledge already created and linked the supporter.
        return Ok(id);
    }

    supporters::upsert(conn, &pledge.donor, customer_id, pledge.created_at, now).await
}

/// The news the donor asked for on the form, granted when the pledge's first money is
/// confirmed: never for a payment that failed, nor while a debit is pending, and not again at
/// each instalment (a donor who unsubscribed stays unsubscribed). Called before the donation
/// is written: the supporter row is then locked before the counters' per-supporter lock,
/// in the order a new gift of the same donor takes them.
async fn consent_if_asked(
    conn: &mut AnyConnection,
    pledge: &Pledge,
    supporter_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    if pledge.news_consent == 1 && donations::count_received_of_pledge(conn, pledge.id).await? == 0
    {
        supporters::grant_news_consent(conn, supporter_id, now).await?;
    }
    Ok(())
}

fn donation_from(
    pledge: &Pledge,
    supporter_id: i64,
    amount_cents: i64,
    donated_at: i64,
) -> NewDonation {
    let show_publicly = pledge.show_publicly == 1;
    NewDonation {
        campaign_id: pledge.campaign_id,
        supporter_id,
        pledge_id: Some(pledge.id),
        recurring_gift_id: None,
        amount_cents,
        currency: pledge.currency.clone(),
        frequency: pledge.frequency.clone(),
        payment_method: "card".to_owned(),
        show_publicly,
        public_name: show_publicly
            .then(|| supporters::public_name(&pledge.donor.first_name, &pledge.donor.last_name)),
        dedication_kind: pledge.dedication_kind.clone(),
        dedication_name: pledge.dedication_name.clone(),
        stripe_checkout_session_id: None,
        stripe_payment_intent_id: None,
        stripe_invoice_id: None,
        donated_at,
    }
}
