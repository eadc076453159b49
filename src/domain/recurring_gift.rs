//! Where a recurring gift (a Stripe subscription) stands, and how payments and subscription
//! updates move it.

use super::text_enum::text_enum;

text_enum! {
    pub enum RecurringGiftStatus ("statut de don régulier") {
        /// Created, its first payment not through yet.
        Incomplete => "incomplete",
        Active => "active",
        /// A payment failed; Stripe retries.
        PastDue => "past_due",
        Paused => "paused",
        Canceled => "canceled",
    }
}

/// A recurring gift as the rules see it: its status and the Stripe time of the latest
/// subscription event applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiftState {
    pub status: RecurringGiftStatus,
    pub stripe_event_at: i64,
}

impl GiftState {
    /// The status after a payment outcome of Stripe's time `event_at`, or `None` when it does
    /// not move: paid → active (from incomplete or past due), failed → past due (from
    /// active). A subscription event newer than the payment knows better.
    pub fn after_payment(self, paid: bool, event_at: i64) -> Option<RecurringGiftStatus> {
        use RecurringGiftStatus::*;
        if self.stripe_event_at > event_at {
            return None;
        }
        match (self.status, paid) {
            (Incomplete | PastDue, true) => Some(Active),
            (Active, false) => Some(PastDue),
            _ => None,
        }
    }

    /// Whether a subscription update of Stripe's time `event_at` applies: a canceled gift
    /// stays canceled, and an older update than the one applied is ignored. Stripe's times
    /// are whole seconds: on a tie the later-applied event wins, except the subscription's
    /// creation (`creation`), which Stripe sends before any update of the same second.
    pub fn takes_update(self, event_at: i64, creation: bool) -> bool {
        self.status != RecurringGiftStatus::Canceled
            && (self.stripe_event_at < event_at || (self.stripe_event_at == event_at && !creation))
    }
}

#[cfg(test)]
mod tests {
    use super::RecurringGiftStatus::*;
    use super::*;

    fn gift(status: RecurringGiftStatus, stripe_event_at: i64) -> GiftState {
        GiftState {
            status,
            stripe_event_at,
        }
    }

    #[test]
    fn a_payment_activates_and_a_failure_makes_past_due() {
        assert_eq!(gift(Incomplete, 10).after_payment(true, 10), Some(Active));
        assert_eq!(gift(PastDue, 10).after_payment(true, 20), Some(Active));
        assert_eq!(gift(Active, 10).after_payment(false, 20), Some(PastDue));
    }

    #[test]
    fn a_payment_changes_nothing_else() {
        assert_eq!(
            gift(Active, 10).after_payment(true, 20),
            None,
            "an instalment"
        );
        assert_eq!(gift(Incomplete, 10).after_payment(false, 20), None);
        assert_eq!(gift(Paused, 10).after_payment(true, 20), None);
        assert_eq!(gift(Canceled, 10).after_payment(true, 20), None);
        assert_eq!(
            gift(Incomplete, 30).after_payment(true, 20),
            None,
            "a newer subscription event knows better"
        );
    }

    #[test]
    fn the_newer_subscription_update_wins() {
        assert!(gift(Active, 10).takes_update(11, false));
        assert!(!gift(Active, 10).takes_update(9, false));
        assert!(
            gift(Active, 10).takes_update(10, false),
            "a tie: the later applied"
        );
        assert!(
            !gift(Active, 10).takes_update(10, true),
            "the creation loses ties"
        );
        assert!(gift(Incomplete, 0).takes_update(10, true));
    }

    #[test]
    fn a_canceled_gift_stays_canceled() {
        assert!(!gift(Canceled, 10).takes_update(20, false));
    }
}
