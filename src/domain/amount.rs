//! Gift amounts typed by donors, in French or English habits: "50", "50,00", "1 000", "12.5".

use std::fmt;

/// Why an amount was refused; `Display` is the French message shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    NotANumber,
    TooManyDecimals,
    BelowMinimum { min_cents: i64 },
    AboveMaximum { max_cents: i64 },
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use super::money::{Currency, format_money};
        match self {
            AmountError::Empty => f.write_str("Indiquez le montant de votre don."),
            AmountError::NotANumber => {
                f.write_str("Le montant doit être un nombre, par exemple 50 ou 12,50.")
            }
            AmountError::TooManyDecimals => {
                f.write_str("Le montant ne peut pas avoir plus de deux chiffres après la virgule (pour mille euros, écrivez 1000 ou 1 000).")
            }
            AmountError::BelowMinimum { min_cents } => {
                write!(
                    f,
                    "Le don minimum est de {}.",
                    format_money(*min_cents, Currency::EUR)
                )
            }
            AmountError::AboveMaximum { max_cents } => write!(
                f,
                "Le don en ligne est limité à {}. Pour un don plus important, contactez-nous.",
                format_money(*max_cents, Currency::EUR)
            ),
        }
    }
}

/// The bounds a gift must stay within, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountLimits {
    pub min_cents: i64,
    pub max_cents: i64,
}

impl Default for AmountLimits {
    fn default() -> Self {
        AmountLimits {
            min_cents: 500,
            max_cents: 5_000_000,
        }
    }
}

/// Longest input considered; anything longer is not an amount anyone typed.
const MAX_INPUT_LEN: usize = 20;

/// Parses euros as typed into cents, then checks the limits. A negative amount is below the
/// minimum and a run of digits too long to count is above the maximum: the message then says
/// what would be accepted, not just "not a number".
pub fn parse_amount(raw: &str, limits: AmountLimits) -> Result<i64, AmountError> {
    let below = AmountError::BelowMinimum {
        min_cents: limits.min_cents,
    };
    let above = AmountError::AboveMaximum {
        max_cents: limits.max_cents,
    };
    let cents = match parse_cents(raw) {
        Ok(cents) => cents,
        Err(AmountError::NotANumber) => {
            let trimmed = raw.trim();
            return Err(match trimmed.strip_prefix('-') {
                Some(rest) if parse_cents(rest).is_ok() => below,
                _ if is_long_run_of_digits(trimmed) => above,
                _ => AmountError::NotANumber,
            });
        }
        Err(other) => return Err(other),
    };
    if cents < limits.min_cents {
        return Err(below);
    }
    if cents > limits.max_cents {
        return Err(above);
    }
    Ok(cents)
}

/// Only digits (and spaces), more than any amount: "99999999999999999999".
fn is_long_run_of_digits(text: &str) -> bool {
    let digits = text.chars().filter(|c| !c.is_whitespace()).count();
    digits > 9
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
}

/// "1 000,5" → 100050. Spaces (also no-break ones) group thousands; one `,` or `.` marks
/// decimals; an optional trailing `€`. No signs, no exponents.
fn parse_cents(raw: &str) -> Result<i64, AmountError> {
    let trimmed = raw.trim().trim_end_matches('€').trim();
    if trimmed.is_empty() {
        return Err(AmountError::Empty);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(AmountError::NotANumber);
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{00A0}' | '\u{202F}'))
        .collect();
    let (units, decimals) = match compact.find([',', '.']) {
        Some(i) => (&compact[..i], &compact[i + 1..]),
        None => (compact.as_str(), ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !all_digits(units) || !all_digits(decimals) {
        return Err(AmountError::NotANumber);
    }
    if decimals.len() > 2 {
        return Err(AmountError::TooManyDecimals);
    }
    let units: i64 = units.parse().map_err(|_| AmountError::NotANumber)?;
    let decimals: i64 = match decimals.len() {
        0 => 0,
        1 => {
            decimals
                .parse::<i64>()
                .map_err(|_| AmountError::NotANumber)?
                * 10
        }
        _ => decimals.parse().map_err(|_| AmountError::NotANumber)?,
    };
    units
        .checked_mul(100)
        .and_then(|c| c.checked_add(decimals))
        .ok_or(AmountError::NotANumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<i64, AmountError> {
        parse_amount(raw, AmountLimits::default())
    }

    #[test]
    fn accepts_french_and_english_habits() {
        assert_eq!(parse("50"), Ok(5_000));
        assert_eq!(parse("50,00"), Ok(5_000));
        assert_eq!(parse("1 000"), Ok(100_000));
        assert_eq!(parse("1\u{202F}000,50 €"), Ok(100_050));
        assert_eq!(parse("12.5"), Ok(1_250));
        assert_eq!(parse(" 30 "), Ok(3_000));
        assert_eq!(parse("5"), Ok(500));
        assert_eq!(parse("50000"), Ok(5_000_000));
        assert_eq!(parse("50,"), Ok(5_000), "a dangling comma is harmless");
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        assert_eq!(parse(""), Err(AmountError::Empty));
        assert_eq!(parse("   "), Err(AmountError::Empty));
        for bad in [
            "abc", "1e9", "+5", ",5", "5,,", "1,000.50", "5 euros", "0x10", "½", "--5",
        ] {
            assert_eq!(parse(bad), Err(AmountError::NotANumber), "{bad:?}");
        }
        assert_eq!(parse("10,555"), Err(AmountError::TooManyDecimals));
        // What would be accepted, rather than "not a number".
        let below = AmountError::BelowMinimum { min_cents: 500 };
        let above = AmountError::AboveMaximum {
            max_cents: 5_000_000,
        };
        assert_eq!(parse("-5"), Err(below.clone()));
        assert_eq!(parse("-12,50"), Err(below));
        assert_eq!(parse(&"9".repeat(200)), Err(above.clone()));
        assert_eq!(parse("99999999999999999"), Err(above));
    }

    #[test]
    fn enforces_the_limits() {
        assert_eq!(
            parse("0"),
            Err(AmountError::BelowMinimum { min_cents: 500 })
        );
        assert_eq!(
            parse("4,99"),
            Err(AmountError::BelowMinimum { min_cents: 500 })
        );
        assert_eq!(
            parse("50000,01"),
            Err(AmountError::AboveMaximum {
                max_cents: 5_000_000
            })
        );
        let message = parse("1").unwrap_err().to_string().replace('\u{00A0}', " ");
        assert_eq!(message, "Le don minimum est de 5 €.");
    }
}

/// Properties over every amount, beyond the cases above: what the pages write reads back as
/// the same cents, and no input at all makes the parser panic or accept what is out of range.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::money::{Currency, euros_as_typed, format_money};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn what_a_field_or_a_page_shows_reads_back_as_the_same_amount(
            cents in 500i64..=5_000_000,
        ) {
            let limits = AmountLimits::default();
            prop_assert_eq!(parse_amount(&euros_as_typed(cents), limits), Ok(cents));
            // « 1 234,50 € », with its no-break spaces, as a donor might paste it back.
            let shown = format_money(cents, Currency::EUR);
            prop_assert_eq!(parse_amount(&shown, limits), Ok(cents), "{}", shown);
        }

        #[test]
        fn an_english_decimal_point_reads_as_a_comma(euros in 5i64..=50_000, rest in 0i64..100) {
            let typed = format!("{euros}.{rest:02}");
            prop_assert_eq!(
                parse_amount(&typed, AmountLimits::default()),
                Ok(euros * 100 + rest)
            );
        }

        #[test]
        fn any_text_is_an_amount_within_the_limits_or_a_clear_refusal(raw in ".{0,24}") {
            let limits = AmountLimits::default();
            match parse_amount(&raw, limits) {
                Ok(cents) => prop_assert!((limits.min_cents..=limits.max_cents).contains(&cents)),
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }
}
