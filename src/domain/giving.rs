//! What a supporter gave, in the figures « Mon espace » shows: this year, since the first
//! gift, and what it cost after the tax reduction (computed per calendar year, as the tax
//! office does: the ceiling applies to each year's total).

use std::collections::BTreeMap;

use super::dates::year_of;
use super::tax::TaxReduction;

/// Money received from one gift: its date and what was kept (refunds deducted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub donated_at: i64,
    pub kept_cents: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub this_year_cents: i64,
    pub this_year_cost_cents: i64,
    pub total_cents: i64,
    pub total_cost_cents: i64,
    /// Gifts that brought money (a gift refunded in full does not count).
    pub gifts: i64,
    pub first_at: Option<i64>,
}

impl Summary {
    pub fn of(received: &[Received], now: i64, tax: TaxReduction) -> Summary {
        let mut by_year: BTreeMap<i32, i64> = BTreeMap::new();
        let mut summary = Summary::default();
        for gift in received.iter().filter(|g| g.kept_cents > 0) {
            *by_year.entry(year_of(gift.donated_at)).or_default() += gift.kept_cents;
            summary.gifts += 1;
            summary.first_at = Some(
                summary
                    .first_at
                    .map_or(gift.donated_at, |first| first.min(gift.donated_at)),
            );
        }
        let this_year = year_of(now);
        for (year, cents) in by_year {
            let cost = cents - tax.reduction(cents);
            summary.total_cents += cents;
            summary.total_cost_cents += cost;
            if year == this_year {
                summary.this_year_cents = cents;
                summary.this_year_cost_cents = cost;
            }
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2025: i64 = 1_735_689_600;
    const JAN_2026: i64 = 1_767_225_600;

    #[test]
    fn years_are_counted_apart_and_refunds_deducted() {
        let gifts = [
            Received {
                donated_at: JAN_2025,
                kept_cents: 10_000,
            },
            Received {
                donated_at: JAN_2026,
                kept_cents: 3_000,
            },
            Received {
                donated_at: JAN_2026 + 86_400,
                kept_cents: 2_000,
            },
            Received {
                donated_at: JAN_2026 + 2 * 86_400,
                kept_cents: 0,
            },
        ];
        let summary = Summary::of(&gifts, JAN_2026 + 100 * 86_400, TaxReduction::default());
        assert_eq!(summary.this_year_cents, 5_000);
        assert_eq!(summary.this_year_cost_cents, 1_700);
        assert_eq!(summary.total_cents, 15_000);
        assert_eq!(summary.total_cost_cents, 3_400 + 1_700);
        assert_eq!(summary.gifts, 3, "a gift refunded in full is no gift");
        assert_eq!(summary.first_at, Some(JAN_2025));
    }

    #[test]
    fn a_ceiling_applies_to_each_year() {
        let tax = TaxReduction {
            rate_percent: 75,
            ceiling_cents: Some(100_000),
            base_rate_percent: 66,
        };
        let gifts = [
            Received {
                donated_at: JAN_2025,
                kept_cents: 100_000,
            },
            Received {
                donated_at: JAN_2026,
                kept_cents: 100_000,
            },
        ];
        let summary = Summary::of(&gifts, JAN_2026, tax);
        // 75 % of each year's 1,000 €, not 75 % of 1,000 € and 66 % of the rest.
        assert_eq!(summary.total_cost_cents, 2 * 25_000);
        assert_eq!(Summary::of(&[], JAN_2026, tax), Summary::default());
    }
}
