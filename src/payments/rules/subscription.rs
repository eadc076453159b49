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
    use crate::domain::money::ReportedCurrency;
    use RecurringGiftStatus::*;

    fn facts(status: SubscriptionStatus, paused: bool, deleted: bool) -> SubscriptionFacts {
        SubscriptionFacts {
            subscription_id: "sub_1".to_owned(),
            status,
            deleted,
            cancel_at_period_end: false,
            paused,
            amount_cents: None,
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

    #[test]
    fn a_deleted_subscription_ends_the_gift_whatever_its_status() {
        assert_eq!(
            gift_status(&facts(SubscriptionStatus::Active, false, true)),
            Canceled
        );
    }
}
