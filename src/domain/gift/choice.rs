//! The gift's frequency and amount: the suggestion ticked, or the free amount typed.

use crate::domain::amount::{AmountLimits, parse_amount};
use crate::domain::frequency::Frequency;
use crate::domain::money::{Currency, format_money};

/// The frequency sent; a form without one (a plain link) gives once.
pub fn frequency(field: Option<&str>) -> Result<Frequency, String> {
    match field.map(str::trim) {
        None | Some("") => Ok(Frequency::Once),
        Some(raw) => {
            Frequency::parse(raw).ok_or_else(|| "Choisissez la fréquence de votre don.".to_owned())
        }
    }
}

/// The ticked choice decides (`ticked`: a suggestion's cents, `other`, or empty): a suggested
/// amount, or « Autre montant » and the free amount `other` (trimmed). The free amount alone
/// (nothing ticked) counts too. A suggested amount ticked beside a different free amount (a
/// browser without JavaScript, which cannot clear one when the other is chosen) is asked
/// about, never guessed: the donor is charged what they meant.
pub fn amount(ticked: &str, other: &str, limits: AmountLimits) -> Result<i64, String> {
    let free = || {
        if other.is_empty() {
            Err("Indiquez le montant de votre don.".to_owned())
        } else {
            parse_amount(other, limits).map_err(|e| e.to_string())
        }
    };
    if ticked.is_empty() || ticked == "other" {
        return free();
    }
    let Some(suggested) = ticked.parse::<i64>().ok().filter(|c| *c > 0) else {
        return Err("Choisissez l’un des montants proposés ou « Autre montant ».".to_owned());
    };
    let suggested = parse_amount(
        &format!("{},{:02}", suggested / 100, suggested % 100),
        limits,
    )
    .map_err(|e| e.to_string())?;
    match free() {
        _ if other.is_empty() => Ok(suggested),
        Ok(same) if same == suggested => Ok(suggested),
        _ => Err(format!(
            "Vous avez coché {} et saisi « {other} » : cochez « Autre montant » pour donner le \
             montant saisi, ou effacez-le pour donner {}.",
            format_money(suggested, Currency::EUR),
            format_money(suggested, Currency::EUR),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_frequency_is_a_one_off_gift() {
        assert_eq!(frequency(None), Ok(Frequency::Once));
        assert_eq!(frequency(Some(" ")), Ok(Frequency::Once));
        assert_eq!(frequency(Some(" monthly ")), Ok(Frequency::Monthly));
        assert_eq!(
            frequency(Some("weekly")),
            Err("Choisissez la fréquence de votre don.".to_owned())
        );
    }

    #[test]
    fn a_suggestion_or_the_free_amount_and_never_a_guess() {
        let limits = AmountLimits::default();
        assert_eq!(amount("3000", "", limits), Ok(3_000));
        assert_eq!(amount("3000", "30", limits), Ok(3_000));
        assert_eq!(amount("other", "12,5", limits), Ok(1_250));
        assert_eq!(amount("", "1 000", limits), Ok(100_000));
        assert_eq!(
            amount("other", "", limits),
            Err("Indiquez le montant de votre don.".to_owned())
        );
        assert!(
            amount("3000", "50", limits)
                .unwrap_err()
                .contains("Autre montant")
        );
        assert!(
            amount("-3000", "", limits)
                .unwrap_err()
                .contains("montants proposés")
        );
        assert!(amount("100", "", limits).unwrap_err().contains("minimum"));
    }
}
