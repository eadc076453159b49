//! Where a donation stands, how it was paid, and what it counts for in the totals: the rules
//! of settling a pending payment, of refunds and of the money disputes hold.

use super::text_enum::text_enum;

text_enum! {
    /// Only `Paid` counts in the totals.
    pub enum DonationStatus ("statut de don") {
        /// Confirmed but not settled yet (a SEPA debit).
        Pending => "pending",
        Paid => "paid",
        Failed => "failed",
        /// Given back in full.
        Refunded => "refunded",
    }
}

text_enum! {
    pub enum PaymentMethod ("moyen de paiement") {
        Card => "card",
        SepaDebit => "sepa_debit",
        /// Entered by the team (offline gifts).
        Cheque => "cheque",
        Transfer => "transfer",
        Cash => "cash",
    }
}

impl PaymentMethod {
    /// Money that did not come through Stripe: entered, and refunded, by the team.
    pub fn is_offline(self) -> bool {
        matches!(
            self,
            PaymentMethod::Cheque | PaymentMethod::Transfer | PaymentMethod::Cash
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentMethod::Card => "Carte",
            PaymentMethod::SepaDebit => "Prélèvement SEPA",
            PaymentMethod::Cheque => "Chèque",
            PaymentMethod::Transfer => "Virement",
            PaymentMethod::Cash => "Espèces",
        }
    }
}

impl DonationStatus {
    /// A payment's outcome for a donation already recorded: a pending debit settles (paid or
    /// failed); anything else stays as it is (`None`).
    pub fn settle(self, outcome: DonationStatus) -> Option<DonationStatus> {
        match (self, outcome) {
            (DonationStatus::Pending, DonationStatus::Paid | DonationStatus::Failed) => {
                Some(outcome)
            }
            _ => None,
        }
    }
}

/// What a donation adds to the totals: its amount net of refunds and of what disputes hold,
/// and one paid gift (a disputed gift is still a gift given: only its money is held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counted {
    pub raised_cents: i64,
    pub paid: i64,
}

impl Counted {
    pub fn of(
        status: DonationStatus,
        amount_cents: i64,
        refunded_cents: i64,
        disputed_cents: i64,
    ) -> Counted {
        match status {
            DonationStatus::Paid => Counted {
                raised_cents: (amount_cents - refunded_cents - disputed_cents).max(0),
                paid: 1,
            },
            _ => Counted::default(),
        }
    }

    /// What changed from `before` to `self`.
    pub fn minus(self, before: Counted) -> Counted {
        Counted {
            raised_cents: self.raised_cents - before.raised_cents,
            paid: self.paid - before.paid,
        }
    }
}

/// A donation as refunds and disputes see it. `refunded_cents + disputed_cents` never
/// exceeds `amount_cents`: what disputes hold is capped by what was not refunded, so the
/// ledger's sums (`amount_cents - refunded_cents - disputed_cents`) never count a gift below
/// zero, and need no clamp of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refundable {
    pub status: DonationStatus,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    pub disputed_cents: i64,
}

impl Refundable {
    /// The donation once Stripe says `total_refunded` was given back in all (refund events
    /// carry the running total, so the largest wins whatever the order); `None` when nothing
    /// changes. A refund proves the payment went through: a pending donation becomes paid,
    /// and refunded once given back in full. What disputes hold shrinks to what remains.
    pub fn refund(self, total_refunded: i64) -> Option<Refundable> {
        let total = total_refunded.clamp(0, self.amount_cents);
        let refundable = matches!(self.status, DonationStatus::Paid | DonationStatus::Pending);
        if total <= self.refunded_cents || !refundable {
            return None;
        }
        Some(Refundable {
            status: if total == self.amount_cents {
                DonationStatus::Refunded
            } else {
                DonationStatus::Paid
            },
            refunded_cents: total,
            disputed_cents: self.disputed_cents.min(self.amount_cents - total),
            ..self
        })
    }

    /// The donation once its disputes hold `held_cents` in all (recomputed from every
    /// dispute of the donation, so any order of their events gives the same), capped by
    /// what was not refunded; `None` when nothing changes. The status stays: a dispute
    /// neither proves nor undoes a payment, it holds its money.
    pub fn dispute(self, held_cents: i64) -> Option<Refundable> {
        let disputed = held_cents.clamp(0, self.amount_cents - self.refunded_cents);
        (disputed != self.disputed_cents).then_some(Refundable {
            disputed_cents: disputed,
            ..self
        })
    }

    pub fn counted(&self) -> Counted {
        Counted::of(
            self.status,
            self.amount_cents,
            self.refunded_cents,
            self.disputed_cents,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::DonationStatus::*;
    use super::*;

    #[test]
    fn only_a_pending_debit_settles() {
        assert_eq!(Pending.settle(Paid), Some(Paid));
        assert_eq!(Pending.settle(Failed), Some(Failed));
        assert_eq!(Pending.settle(Pending), None);
        for from in [Paid, Failed, Refunded] {
            for &outcome in DonationStatus::ALL {
                assert_eq!(from.settle(outcome), None, "{from} stays");
            }
        }
    }

    fn donation(status: DonationStatus, refunded_cents: i64) -> Refundable {
        Refundable {
            status,
            amount_cents: 3000,
            refunded_cents,
            disputed_cents: 0,
        }
    }

    #[test]
    fn a_partial_refund_keeps_the_donation_paid_for_the_rest() {
        let after = donation(Paid, 0).refund(1000).unwrap();
        assert_eq!(after, donation(Paid, 1000));
        assert_eq!(
            after.counted().minus(donation(Paid, 0).counted()),
            Counted {
                raised_cents: -1000,
                paid: 0
            }
        );
    }

    #[test]
    fn a_full_refund_takes_the_donation_out_of_the_totals() {
        let before = donation(Paid, 1000);
        let after = before.refund(5000).unwrap();
        assert_eq!(after, donation(Refunded, 3000), "clamped to the amount");
        assert_eq!(
            after.counted().minus(before.counted()),
            Counted {
                raised_cents: -2000,
                paid: -1
            }
        );
    }

    #[test]
    fn a_refund_of_a_pending_debit_proves_it_was_paid() {
        let before = donation(Pending, 0);
        let after = before.refund(500).unwrap();
        assert_eq!(after, donation(Paid, 500));
        assert_eq!(
            after.counted().minus(before.counted()),
            Counted {
                raised_cents: 2500,
                paid: 1
            }
        );
    }

    #[test]
    fn an_older_or_repeated_refund_and_a_failed_payment_change_nothing() {
        assert_eq!(donation(Paid, 1000).refund(1000), None);
        assert_eq!(donation(Paid, 1000).refund(500), None);
        assert_eq!(donation(Failed, 0).refund(1000), None);
        assert_eq!(donation(Refunded, 3000).refund(3000), None);
    }

    #[test]
    fn a_dispute_holds_its_amount_out_of_the_totals_and_gives_it_back_when_won() {
        let paid = donation(Paid, 0);
        let open = paid.dispute(3000).unwrap();
        assert_eq!(open.disputed_cents, 3000);
        assert_eq!(open.status, Paid, "still a gift given");
        assert_eq!(
            open.counted().minus(paid.counted()),
            Counted {
                raised_cents: -3000,
                paid: 0
            }
        );
        assert_eq!(open.dispute(3000), None, "the same again changes nothing");
        let won = open.dispute(0).unwrap();
        assert_eq!(won, paid);
    }

    #[test]
    fn refunds_and_disputes_together_never_count_below_zero() {
        let refunded = donation(Paid, 1000);
        let disputed = refunded.dispute(3000).unwrap();
        assert_eq!(
            disputed.disputed_cents, 2000,
            "capped by what was not refunded"
        );
        assert_eq!(disputed.counted().raised_cents, 0);
        // The other order: the dispute first, the refund's event after.
        let other = donation(Paid, 0)
            .dispute(3000)
            .unwrap()
            .refund(1000)
            .unwrap();
        assert_eq!(other, disputed);
        let all_back = disputed.refund(3000).unwrap();
        assert_eq!((all_back.status, all_back.disputed_cents), (Refunded, 0));
        assert_eq!(Counted::of(Paid, 3000, 1000, 5000).raised_cents, 0);
    }
}
