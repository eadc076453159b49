//! `customer.subscription.*`: the state of a recurring gift.

use sqlx::AnyConnection;
use stripe_billing::SubscriptionStatus;
use stripe_webhook::EventType;

use super::Context;
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::jobs::email::{GiftChange, Message};
use crate::payments::applier::ApplyError;
use crate::payments::events::SubscriptionFacts;
use crate::store::recurring_gifts::{self, RecurringGift, SubscriptionState};

impl Context<'_> {
    pub(super) async fn subscription(
        &self,
        conn: &mut AnyConnection,
        facts: &SubscriptionFacts,
    ) -> Result<(), ApplyError> {
        let subscription_id = &facts.subscription_id;
        let Some(found) = self
            .subscription_of(conn, subscription_id, &facts.metadata)
            .await?
        else {
            return Ok(());
        };
        // A subscription in another currency is none of ours to follow, its status included.
        if !self.in_currency(facts.currency, found.currency()) {
            return Ok(());
        }
        let (gift, _) = self
            .gift_of(conn, found, subscription_id, facts.customer_id.as_deref())
            .await?;
        let state = SubscriptionState {
            status: gift_status(facts),
            amount_cents: facts.amount_cents,
            frequency: facts.frequency,
            cancel_at_period_end: facts.cancel_at_period_end,
            current_period_end: facts.current_period_end,
            paused_until: facts.resumes_at.filter(|_| facts.paused),
            event_at: self.event.created,
            creation: self.event.event_type == EventType::CustomerSubscriptionCreated,
        };
        if recurring_gifts::apply_state(conn, &gift, &state, self.now).await?
            && let Some(change) = change_of(&gift, &state)
        {
            self.owe_email(
                conn,
                Message::GiftChanged {
                    recurring_gift_id: gift.id,
                    change,
                    event_id: self.event.id.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// What the supporter is told of a new state of their gift, if anything: not its start (the
/// welcome email), nor a payment failing (the failed-payment email) or recovering.
fn change_of(before: &RecurringGift, after: &SubscriptionState) -> Option<GiftChange> {
    use RecurringGiftStatus::*;
    match (before.status, after.status) {
        (Incomplete, _) | (Canceled, _) => None,
        (PastDue, Canceled) => Some(GiftChange::Lapsed),
        // Told when it was asked for; its end is what was announced.
        (_, Canceled) if before.cancel_at_period_end == 1 => None,
        (_, Canceled) => Some(GiftChange::Cancelled),
        (Active | PastDue, Paused) => Some(GiftChange::Paused),
        (Paused, Active) => Some(GiftChange::Resumed),
        (Active, Active) if after.cancel_at_period_end && before.cancel_at_period_end == 0 => {
            Some(GiftChange::CancelScheduled)
        }
        (Active | PastDue, Active) => {
            let amount = after.amount_cents.is_some_and(|c| c != before.amount_cents);
            let frequency = after.frequency.is_some_and(|f| f != before.frequency);
            (amount || frequency).then_some(GiftChange::Amount {
                before_cents: before.amount_cents,
                before_frequency: Some(before.frequency),
            })
        }
        _ => None,
    }
}

/// The status a recurring gift takes from its subscription: Stripe's statuses mapped to ours,
/// in this one place.
fn gift_status(facts: &SubscriptionFacts) -> RecurringGiftStatus {
    use SubscriptionStatus as Stripe;
    if facts.deleted {
        return RecurringGiftStatus::Canceled;
    }
    match facts.status {
        Stripe::Active | Stripe::Trialing if facts.paused => RecurringGiftStatus::Paused,
        Stripe::Active | Stripe::Trialing => RecurringGiftStatus::Active,
        Stripe::PastDue | Stripe::Unpaid => RecurringGiftStatus::PastDue,
        Stripe::Paused => RecurringGiftStatus::Paused,
        Stripe::Incomplete => RecurringGiftStatus::Incomplete,
        _ => RecurringGiftStatus::Canceled,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::money::ReportedCurrency;
    use RecurringGiftStatus::*;

    fn facts(status: SubscriptionStatus, paused: bool, deleted: bool) -> SubscriptionFacts {
        SubscriptionFacts {
            subscription_id: "sub_1".to_owned(),
            status,
            deleted,
            cancel_at_period_end: false,
            paused,
            resumes_at: None,
            amount_cents: None,
            frequency: None,
            currency: ReportedCurrency::Unsaid,
            current_period_end: None,
            customer_id: None,
            metadata: HashMap::new(),
        }
    }

    #[test]
    fn stripe_s_statuses_map_to_a_gift_s() {
        use SubscriptionStatus as Stripe;
        let cases = [
            (Stripe::Active, false, Active),
            (Stripe::Trialing, false, Active),
            (Stripe::Active, true, Paused),
            (Stripe::Paused, false, Paused),
            (Stripe::PastDue, false, PastDue),
            (Stripe::Unpaid, false, PastDue),
            (Stripe::Incomplete, false, Incomplete),
            (Stripe::IncompleteExpired, false, Canceled),
            (Stripe::Canceled, false, Canceled),
            (Stripe::Unknown("later".to_owned()), false, Canceled),
        ];
        for (stripe, paused, ours) in cases {
            assert_eq!(
                gift_status(&facts(stripe.clone(), paused, false)),
                ours,
                "{stripe}"
            );
        }
    }

    fn gift(status: RecurringGiftStatus, cancel_at_period_end: bool) -> RecurringGift {
        RecurringGift {
            id: 1,
            supporter_id: 1,
            campaign_id: 1,
            pledge_id: None,
            amount_cents: 2_000,
            currency: crate::domain::money::Currency::EUR,
            frequency: crate::domain::frequency::Frequency::Monthly,
            status,
            stripe_subscription_id: None,
            cancel_at_period_end: i64::from(cancel_at_period_end),
            current_period_end: None,
            stripe_event_at: 0,
        }
    }

    fn state(
        status: RecurringGiftStatus,
        amount: i64,
        cancel_at_period_end: bool,
    ) -> SubscriptionState {
        SubscriptionState {
            status,
            amount_cents: Some(amount),
            frequency: None,
            cancel_at_period_end,
            current_period_end: None,
            paused_until: None,
            event_at: 1,
            creation: false,
        }
    }

    #[test]
    fn the_supporter_is_told_of_changes_not_of_starts_or_failures() {
        let cases = [
            (
                gift(Active, false),
                state(Paused, 2_000, false),
                Some(GiftChange::Paused),
            ),
            (
                gift(Paused, false),
                state(Active, 2_000, false),
                Some(GiftChange::Resumed),
            ),
            (
                gift(Active, false),
                state(Active, 2_500, false),
                Some(GiftChange::Amount {
                    before_cents: 2_000,
                    before_frequency: Some(crate::domain::frequency::Frequency::Monthly),
                }),
            ),
            (
                gift(Active, false),
                state(Active, 2_000, true),
                Some(GiftChange::CancelScheduled),
            ),
            (gift(Active, true), state(Active, 2_000, false), None),
            (
                gift(Active, false),
                state(Canceled, 2_000, false),
                Some(GiftChange::Cancelled),
            ),
            (gift(Active, true), state(Canceled, 2_000, true), None),
            (
                gift(PastDue, false),
                state(Canceled, 2_000, false),
                Some(GiftChange::Lapsed),
            ),
            (gift(Incomplete, false), state(Active, 2_000, false), None),
            (gift(Incomplete, false), state(Canceled, 2_000, false), None),
            (gift(Active, false), state(PastDue, 2_000, false), None),
            (gift(PastDue, false), state(Active, 2_000, false), None),
            (gift(Active, false), state(Active, 2_000, false), None),
        ];
        for (before, after, told) in cases {
            assert_eq!(
                change_of(&before, &after),
                told,
                "{:?} → {:?}",
                before.status,
                after.status
            );
        }
    }

    #[test]
    fn a_deleted_subscription_ends_the_gift_whatever_its_status() {
        assert_eq!(
            gift_status(&facts(SubscriptionStatus::Active, false, true)),
            Canceled
        );
    }
}
