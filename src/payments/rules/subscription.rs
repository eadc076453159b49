//! `customer.subscription.*`: the state of a recurring gift.

use sqlx::AnyConnection;
use stripe_billing::SubscriptionStatus;
use stripe_webhook::EventType;

use super::Context;
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::payments::applier::ApplyError;
use crate::payments::events::SubscriptionFacts;
use crate::store::recurring_gifts::{self, SubscriptionState};

impl Context<'_> {
    pub(super) async fn subscription(
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
        let state = SubscriptionState {
            status: gift_status(facts),
            // An amount in another currency is none of ours: the gift keeps its own.
            amount_cents: facts
                .amount_cents
                .filter(|_| facts.currency == Some(gift.currency)),
            cancel_at_period_end: facts.cancel_at_period_end,
            current_period_end: facts.current_period_end,
            event_at: self.event.created,
            creation: self.event.event_type == EventType::CustomerSubscriptionCreated,
        };
        recurring_gifts::apply_state(conn, &gift, &state, self.now).await?;
        Ok(())
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
    use RecurringGiftStatus::*;

    fn facts(status: SubscriptionStatus, paused: bool, deleted: bool) -> SubscriptionFacts {
        SubscriptionFacts {
            subscription_id: "sub_1".to_owned(),
            status,
            deleted,
            cancel_at_period_end: false,
            paused,
            amount_cents: None,
            currency: None,
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

    #[test]
    fn a_deleted_subscription_ends_the_gift_whatever_its_status() {
        assert_eq!(
            gift_status(&facts(SubscriptionStatus::Active, false, true)),
            Canceled
        );
    }
}
