//! Where a pledge (a checkout that was started) stands, and how its checkout's outcome moves it.

use super::text_enum::text_enum;

text_enum! {
    pub enum PledgeStatus ("statut de promesse de don") {
        /// The donor is on Stripe Checkout (or left it).
        Open => "open",
        /// The checkout went through (the money may still be on its way: a SEPA debit).
        Completed => "completed",
        /// The checkout expired unpaid.
        Expired => "expired",
        /// The payment failed (a SEPA debit rejected after the checkout).
        Failed => "failed",
    }
}

impl PledgeStatus {
    /// What the pledge becomes when its checkout reports `outcome`. Only forward: a failed
    /// pledge stays failed, a completed one stays completed unless its payment failed.
    pub fn settle(self, outcome: PledgeStatus) -> PledgeStatus {
        match (self, outcome) {
            (PledgeStatus::Failed, _) => PledgeStatus::Failed,
            (PledgeStatus::Completed, outcome) if outcome != PledgeStatus::Failed => {
                PledgeStatus::Completed
            }
            (_, outcome) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PledgeStatus::{self, *};

    #[test]
    fn an_open_or_expired_pledge_takes_any_outcome() {
        for outcome in [Completed, Expired, Failed] {
            assert_eq!(Open.settle(outcome), outcome);
        }
        assert_eq!(Expired.settle(Completed), Completed);
        assert_eq!(Expired.settle(Failed), Failed);
    }

    #[test]
    fn a_completed_pledge_only_fails() {
        assert_eq!(Completed.settle(Expired), Completed);
        assert_eq!(Completed.settle(Open), Completed);
        assert_eq!(Completed.settle(Failed), Failed);
    }

    #[test]
    fn a_failed_pledge_stays_failed() {
        for &outcome in PledgeStatus::ALL {
            assert_eq!(Failed.settle(outcome), Failed);
        }
    }
}
