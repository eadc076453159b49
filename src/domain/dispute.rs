//! Disputes: a donor's bank questioning a payment. Where one stands, whether it holds the
//! donation's money, and which of two readings of it is the newer.

use super::text_enum::text_enum;

text_enum! {
    /// How a dispute ended, for the team: still to follow up, or decided.
    pub enum DisputeOutcome ("issue de litige") {
        Open => "open",
        /// Decided for us (or closed without the money leaving: an inquiry closed, a
        /// dispute prevented).
        Won => "won",
        Lost => "lost",
    }
}

/// A dispute's status as Stripe spells it, read for what Obole needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisputeStage {
    pub outcome: DisputeOutcome,
    /// Whether its money is out of the totals: withdrawn by the bank (a chargeback under
    /// way) or lost. An inquiry (`warning_…`) withdraws nothing until it becomes one.
    pub holds_money: bool,
    /// How far along it is: a status only ever gives way to one further on.
    rank: u8,
}

impl DisputeStage {
    /// Stripe's `status`. One it does not document yet is read as a chargeback under way:
    /// its money stays out of the totals until Stripe says how it ended.
    pub fn of(status: &str) -> DisputeStage {
        let (outcome, holds_money, rank) = match status {
            "warning_needs_response" => (DisputeOutcome::Open, false, 0),
            "warning_under_review" => (DisputeOutcome::Open, false, 1),
            "needs_response" => (DisputeOutcome::Open, true, 2),
            "under_review" => (DisputeOutcome::Open, true, 3),
            "won" | "warning_closed" | "prevented" => (DisputeOutcome::Won, false, 4),
            "lost" => (DisputeOutcome::Lost, true, 4),
            _ => (DisputeOutcome::Open, true, 2),
        };
        DisputeStage {
            outcome,
            holds_money,
            rank,
        }
    }

    /// Whether a reading of the dispute by an event created at `at` replaces the one kept,
    /// read from an event created at `kept_at`: a status further on always does, one as far
    /// only when its event is newer (a new amount or due date), one behind never. Events
    /// then converge in any order: a `closed` before its `created` stays closed.
    pub fn replaces(self, at: i64, kept: DisputeStage, kept_at: i64) -> bool {
        self.rank > kept.rank || (self.rank == kept.rank && at > kept_at)
    }
}

/// What a donation's disputes hold of its money: the amounts of those that hold some.
pub fn held_cents<'a>(disputes: impl IntoIterator<Item = (i64, &'a str)>) -> i64 {
    disputes
        .into_iter()
        .filter(|(_, status)| DisputeStage::of(status).holds_money)
        .map(|(amount, _)| amount.max(0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chargeback_holds_the_money_while_open_and_once_lost() {
        for status in ["needs_response", "under_review", "lost"] {
            assert!(DisputeStage::of(status).holds_money, "{status}");
        }
        for status in [
            "warning_needs_response",
            "warning_under_review",
            "warning_closed",
            "won",
            "prevented",
        ] {
            assert!(!DisputeStage::of(status).holds_money, "{status}");
        }
        assert_eq!(DisputeStage::of("lost").outcome, DisputeOutcome::Lost);
        assert_eq!(DisputeStage::of("won").outcome, DisputeOutcome::Won);
        assert_eq!(
            DisputeStage::of("under_review").outcome,
            DisputeOutcome::Open
        );
        let unknown = DisputeStage::of("a_new_status");
        assert!(unknown.holds_money && unknown.outcome == DisputeOutcome::Open);
    }

    #[test]
    fn only_a_status_further_on_or_a_newer_event_of_the_same_replaces_the_kept_one() {
        let stage = DisputeStage::of;
        assert!(stage("under_review").replaces(1, stage("needs_response"), 5));
        assert!(stage("won").replaces(1, stage("under_review"), 5));
        assert!(
            !stage("needs_response").replaces(9, stage("lost"), 5),
            "a late created after closed"
        );
        assert!(!stage("needs_response").replaces(9, stage("under_review"), 5));
        assert!(stage("needs_response").replaces(6, stage("needs_response"), 5));
        assert!(
            !stage("needs_response").replaces(5, stage("needs_response"), 5),
            "the same event again"
        );
        assert!(
            stage("needs_response").replaces(1, stage("warning_under_review"), 5),
            "an inquiry become a chargeback"
        );
    }

    #[test]
    fn held_money_adds_the_disputes_that_hold_some() {
        assert_eq!(held_cents([]), 0);
        assert_eq!(
            held_cents([(1000, "needs_response"), (500, "won"), (200, "lost")]),
            1200
        );
        assert_eq!(held_cents([(3000, "warning_needs_response")]), 0);
    }
}
