//! `customer.subscription.*`: the state of a recurring gift.

use sqlx::AnyConnection;

use super::Context;
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
}
