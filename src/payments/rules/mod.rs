//! The event rules: what each Stripe event does to the ledger. Events arrive late, twice and
//! out of order: every rule upserts by Stripe ids and only moves states forward, so any order
//! converges to the same ledger. One module per event family; what they share is here.

mod checkout;
mod dispute;
mod invoice;
mod refund;
mod subscription;

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::applier::ApplyError;
use super::events::{Fact, StripeEvent};
use crate::db::Backend;
use crate::domain::consent::Topic;
use crate::domain::donation::{DonationStatus, PaymentMethod};
use crate::domain::frequency::Frequency;
use crate::domain::money::{Currency, Money, ReportedCurrency};
use crate::domain::pledge::PledgeStatus;
use crate::jobs::email::Message;
use crate::jobs::{self, Job};
use crate::store::donations::{self, DonationRow, NewDonation, StripeRef};
use crate::store::pledges::{self, Pledge};
use crate::store::recurring_gifts::{self, NewRecurringGift, RecurringGift};
use crate::store::supporters;

/// How long an event that refers to something unknown is worth retrying; after that it is
/// not ours (another integration on the same Stripe account) and is acknowledged.
const RETRY_WINDOW: i64 = 3 * 24 * 3600;

/// Applies what the event says, inside the caller's transaction (its id is recorded already).
pub(super) async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    now: i64,
    event: &StripeEvent,
) -> Result<(), ApplyError> {
    let ctx = Context {
        backend,
        now,
        event,
    };
    match &event.fact {
        Fact::Checkout(facts) => ctx.checkout(conn, facts).await,
        Fact::Invoice(facts) => ctx.invoice(conn, facts).await,
        Fact::Subscription(facts) => ctx.subscription(conn, facts).await,
        Fact::Refund(facts) => ctx.refund(conn, facts).await,
        Fact::Dispute(facts) => ctx.dispute(conn, facts).await,
        Fact::Ignored => Ok(()),
    }
}

/// What every rule needs besides the connection: the backend (for row locks), the time the
/// event is applied, and the event.
struct Context<'a> {
    backend: Backend,
    now: i64,
    event: &'a StripeEvent,
}

impl Context<'_> {
    /// Whether the money is in the currency we expect (the pledge's or gift's), or in none
    /// Stripe named ([`ReportedCurrency::is`]). Every rule asks before it writes anything:
    /// nothing is recorded of an event in another currency; it is acknowledged, and the
    /// reason logged (ids only).
    fn in_currency(&self, reported: ReportedCurrency, expected: Currency) -> bool {
        if reported.is(expected) {
            return true;
        }
        tracing::warn!(
            event_id = %self.event.id,
            event_type = %self.event.event_type,
            %expected,
            %reported,
            "event in another currency than its pledge: nothing recorded"
        );
        false
    }

    /// Inserts the donation, or moves the existing one forward (pending → paid or failed).
    /// Returns its id when this event is the one that made it paid (what thanks are sent for).
    async fn upsert_donation(
        &self,
        conn: &mut AnyConnection,
        donation: &NewDonation,
        by: StripeRef<'_>,
        outcome: DonationStatus,
    ) -> Result<Option<i64>, ApplyError> {
        if let Some(id) = donations::insert(conn, self.backend, donation, outcome, self.now).await?
        {
            return Ok((outcome == DonationStatus::Paid).then_some(id));
        }
        let existing = donations::find_locked(conn, self.backend, by)
            .await?
            .ok_or(ApplyError::NotYet(
                "donation conflicts with another Stripe id",
            ))?;
        let settled = donations::settle(conn, self.backend, &existing, outcome, self.now).await?;
        if let (None, Some(payment_intent)) = (
            &existing.stripe_payment_intent_id,
            &donation.stripe_payment_intent_id,
        ) {
            donations::set_payment_intent(conn, existing.id, payment_intent).await?;
        }
        Ok((settled == Some(DonationStatus::Paid)).then_some(existing.id))
    }

    /// The donation a payment made (a refund's, a dispute's), read locked: by its
    /// PaymentIntent, or for an instalment recorded before its PaymentIntent was known, by
    /// the invoice Stripe said it paid ([`crate::payments::refunds`]). The PaymentIntent is
    /// then filled in, but only for an event in the donation's currency: one in another
    /// currency teaches the ledger nothing.
    async fn payment_of(
        &self,
        conn: &mut AnyConnection,
        payment_intent: &str,
        invoice: Option<&str>,
        currency: ReportedCurrency,
    ) -> Result<PaymentOf, ApplyError> {
        let by = StripeRef::PaymentIntent(payment_intent);
        let (mut donation, by_invoice) =
            match donations::find_locked(conn, self.backend, by).await? {
                Some(donation) => (donation, false),
                None => {
                    let found = match invoice {
                        Some(invoice) => {
                            let by = StripeRef::Invoice(invoice);
                            donations::find_locked(conn, self.backend, by).await?
                        }
                        None => None,
                    };
                    match found {
                        Some(donation) => (donation, true),
                        None => return Ok(PaymentOf::Unknown),
                    }
                }
            };
        if !self.in_currency(currency, donation.currency) {
            return Ok(PaymentOf::OtherCurrency);
        }
        if by_invoice {
            donations::set_payment_intent(conn, donation.id, payment_intent).await?;
            donation.stripe_payment_intent_id = Some(payment_intent.to_owned());
        }
        Ok(PaymentOf::Donation(donation))
    }

    /// Queues an email in this event's transaction: it is owed exactly when the event's
    /// effect is kept.
    async fn owe_email(
        &self,
        conn: &mut AnyConnection,
        message: Message,
    ) -> Result<(), ApplyError> {
        jobs::enqueue(conn, &Job::Email(message), self.now).await?;
        Ok(())
    }

    /// What a subscription is to us, read (locked) before anything is written. `None` when
    /// the subscription is not one of ours. Locks the pledge before the gift, as a checkout
    /// does (it holds its pledge when it creates the gift): taken the other way round, a
    /// new gift's invoice and checkout, delivered together, would wait on each other.
    async fn subscription_of(
        &self,
        conn: &mut AnyConnection,
        subscription_id: &str,
        metadata: &HashMap<String, String>,
    ) -> Result<Option<OfSubscription>, ApplyError> {
        match recurring_gifts::pledge_of_subscription(conn, subscription_id).await? {
            Some(Some(pledge_id)) => {
                let Some(pledge) = pledges::find_locked(conn, self.backend, pledge_id).await?
                else {
                    return Ok(None);
                };
                let gift =
                    recurring_gifts::find_by_subscription(conn, self.backend, subscription_id)
                        .await?
                        .ok_or(ApplyError::Stale("recurring gift"))?;
                Ok(Some(OfSubscription::Known(gift, pledge)))
            }
            Some(None) => Ok(None), // Not a gift given through our form: nothing to apply.
            None => match pledge_from(conn, self.backend, metadata).await? {
                Some(pledge) => Ok(Some(OfSubscription::New(pledge))),
                None => {
                    tracing::warn!(event_id = %self.event.id, "subscription without a known pledge: ignored");
                    Ok(None)
                }
            },
        }
    }

    /// The gift of a subscription and its pledge; created from the pledge when this event is
    /// the first to speak of it (the pledge is then completed, and its supporter made).
    async fn gift_of(
        &self,
        conn: &mut AnyConnection,
        found: OfSubscription,
        subscription_id: &str,
        customer_id: Option<&str>,
    ) -> Result<(RecurringGift, Pledge), ApplyError> {
        let pledge = match found {
            OfSubscription::Known(gift, pledge) => return Ok((gift, pledge)),
            OfSubscription::New(pledge) => pledge,
        };
        let supporter_id = supporter_for(conn, &pledge, customer_id, self.now).await?;
        pledges::settle(
            conn,
            &pledge,
            PledgeStatus::Completed,
            Some(supporter_id),
            self.now,
        )
        .await?;
        let gift = self
            .gift_for(conn, &pledge, supporter_id, subscription_id, customer_id)
            .await?;
        Ok((gift, pledge))
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
            amount: pledge.amount(),
            frequency: match pledge.frequency {
                Frequency::Yearly => Frequency::Yearly,
                Frequency::Once | Frequency::Monthly => Frequency::Monthly,
            },
            stripe_subscription_id: subscription_id,
            stripe_customer_id: customer_id,
        };
        Ok(recurring_gifts::ensure(conn, self.backend, &new, self.now).await?)
    }
}

/// The donation a refund or a dispute is about, as its event finds it.
enum PaymentOf {
    /// Ours and in the event's currency, read locked.
    Donation(DonationRow),
    /// Ours, but the event's money is in another currency: nothing to record (logged).
    OtherCurrency,
    /// Not (yet) in the ledger.
    Unknown,
}

/// A subscription of ours, as its event finds it: both rows locked, nothing written yet.
enum OfSubscription {
    /// Its gift exists.
    Known(RecurringGift, Pledge),
    /// The first event to speak of it: the pledge named in its metadata.
    New(Pledge),
}

impl OfSubscription {
    /// The currency its money must come in: the gift's, or the pledge's it will be made from.
    fn currency(&self) -> Currency {
        match self {
            OfSubscription::Known(gift, _) => gift.currency,
            OfSubscription::New(pledge) => pledge.currency,
        }
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
        supporters::set_consent(conn, supporter_id, Topic::News, true, "form", now).await?;
    }
    Ok(())
}

/// A card payment of `amount` for the pledge; the caller fills in the rest it knows.
fn donation_from(
    pledge: &Pledge,
    supporter_id: i64,
    amount: Money,
    donated_at: i64,
) -> NewDonation {
    let show_publicly = pledge.show_publicly == 1;
    NewDonation {
        campaign_id: pledge.campaign_id,
        supporter_id,
        pledge_id: Some(pledge.id),
        recurring_gift_id: None,
        amount,
        frequency: pledge.frequency,
        payment_method: PaymentMethod::Card,
        show_publicly,
        public_name: show_publicly
            .then(|| supporters::public_name(&pledge.donor.first_name, &pledge.donor.last_name)),
        dedication_kind: pledge.dedication_kind,
        dedication_name: pledge.dedication_name.clone(),
        stripe_checkout_session_id: None,
        stripe_payment_intent_id: None,
        stripe_invoice_id: None,
        donated_at,
    }
}
