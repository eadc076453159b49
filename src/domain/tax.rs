//! French tax reduction for gifts to charities (article 200 du CGI): what a gift really costs.

use super::money::{Currency, format_money};

/// The rule an organisation falls under: usually 66 %; 75 % up to a yearly ceiling for
/// organisations helping people in difficulty, the base rate beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxReduction {
    /// Percent of the gift deducted from income tax.
    pub rate_percent: i64,
    /// Yearly amount (cents) the rate applies to; `None` means no ceiling.
    pub ceiling_cents: Option<i64>,
    /// Percent applied above the ceiling.
    pub base_rate_percent: i64,
}

impl Default for TaxReduction {
    fn default() -> Self {
        TaxReduction {
            rate_percent: 66,
            ceiling_cents: None,
            base_rate_percent: 66,
        }
    }
}

impl TaxReduction {
    /// Reduction on a yearly total of gifts, floored to the cent.
    pub fn reduction(&self, yearly_cents: i64) -> i64 {
        let total = yearly_cents.max(0);
        let (favoured, rest) = match self.ceiling_cents {
            Some(ceiling) if total > ceiling => (ceiling, total - ceiling),
            _ => (total, 0),
        };
        (favoured * self.rate_percent + rest * self.base_rate_percent) / 100
    }

    /// What one instalment costs after the reduction, given how many there are in a year.
    pub fn cost_after_reduction(&self, amount_cents: i64, instalments_per_year: i64) -> i64 {
        let per_year = instalments_per_year.max(1);
        let yearly = amount_cents * per_year;
        (yearly - self.reduction(yearly)) / per_year
    }
}

impl TaxReduction {
    /// The rule in a sentence, as donors read it (article 200: a *réduction* d'impôt, not a
    /// deduction): « 66 % de votre don ouvre droit à une réduction d’impôt sur le revenu ».
    pub fn describe(&self) -> String {
        let rate = format!("{}\u{a0}%", self.rate_percent);
        match self.ceiling_cents {
            Some(ceiling) => format!(
                "{rate} de votre don, jusqu’à {} de dons par an ({}\u{a0}% au-delà), ouvre droit \
                 à une réduction d’impôt sur le revenu",
                format_money(ceiling, Currency::EUR),
                self.base_rate_percent
            ),
            None => {
                format!("{rate} de votre don ouvre droit à une réduction d’impôt sur le revenu")
            }
        }
    }

    /// How the cost after reduction is introduced: the rate is named only when it is one.
    pub fn cost_intro(&self) -> String {
        match self.ceiling_cents {
            Some(_) => "Après la réduction d’impôt, ce don ne vous coûtera que".to_owned(),
            None => format!(
                "Après la réduction d’impôt de {}\u{a0}%, ce don ne vous coûtera que",
                self.rate_percent
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_reduction_not_deduction() {
        let usual = TaxReduction::default();
        assert_eq!(
            usual.describe(),
            "66\u{a0}% de votre don ouvre droit à une réduction d’impôt sur le revenu"
        );
        let capped = TaxReduction {
            rate_percent: 75,
            ceiling_cents: Some(100_000),
            base_rate_percent: 66,
        };
        assert!(
            capped
                .describe()
                .starts_with("75\u{a0}% de votre don, jusqu’à 1")
        );
        assert!(capped.describe().contains("(66\u{a0}% au-delà)"));
        assert!(!capped.cost_intro().contains('%'));
    }

    #[test]
    fn sixty_six_percent_by_default() {
        let rule = TaxReduction::default();
        assert_eq!(rule.cost_after_reduction(5_000, 1), 1_700);
        assert_eq!(rule.cost_after_reduction(3_000, 1), 1_020);
        assert_eq!(rule.cost_after_reduction(1_000, 12), 340);
        assert_eq!(rule.reduction(333), 219, "floored to the cent");
    }

    #[test]
    fn seventy_five_percent_up_to_a_ceiling() {
        let rule = TaxReduction {
            rate_percent: 75,
            ceiling_cents: Some(100_000),
            base_rate_percent: 66,
        };
        assert_eq!(rule.cost_after_reduction(10_000, 1), 2_500);
        // 1 500 € a year: 75 % of 1 000 € + 66 % of 500 € = 750 + 330.
        assert_eq!(rule.reduction(150_000), 108_000);
        assert_eq!(
            rule.cost_after_reduction(12_500, 12),
            (150_000 - 108_000) / 12
        );
    }
}
