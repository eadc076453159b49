//! Money as integer cents beside its currency, and its French display (`1 234,50 €`). Never
//! floats.

use std::fmt;

/// Narrow no-break space: the French thousands separator.
const THOUSANDS: char = '\u{202F}';
/// No-break space between the amount and the currency sign.
const BEFORE_SIGN: char = '\u{00A0}';

/// An ISO 4217 currency code, upper-case (`EUR`), as stored beside every amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The demonstration's currency, and every campaign's so far.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Three ASCII letters, in either case (Stripe writes `eur`).
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_alphabetic)
            .then(|| Currency(bytes.map(|b| b.to_ascii_uppercase())))
    }

    /// Upper-case, as stored.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters get in (`parse`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Lower-case, as Stripe writes it.
    pub fn to_lowercase(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }

    fn symbol(&self) -> &str {
        match self.as_str() {
            "EUR" => "€",
            "USD" => "$",
            "GBP" => "£",
            code => code,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A currency code that is not three letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("code de devise invalide")]
pub struct InvalidCurrency;

impl std::str::FromStr for Currency {
    type Err = InvalidCurrency;

    fn from_str(code: &str) -> Result<Currency, InvalidCurrency> {
        Currency::parse(code).ok_or(InvalidCurrency)
    }
}

/// What rows decode through (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;

    fn try_from(code: String) -> Result<Currency, InvalidCurrency> {
        code.parse()
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The currency a payment notice (a Stripe event) gives its money in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedCurrency {
    Named(Currency),
    /// The notice does not say (older API shapes, read field by field): the money is in the
    /// currency of what it pays, as Obole recorded it before it read currencies at all.
    Unsaid,
    /// Something that is no currency code: none we can take.
    Unreadable,
}

impl ReportedCurrency {
    /// From the code as the notice writes it (`eur`), if it writes one.
    pub fn of(code: Option<&str>) -> ReportedCurrency {
        match code {
            None => ReportedCurrency::Unsaid,
            Some(code) => {
                Currency::parse(code).map_or(ReportedCurrency::Unreadable, ReportedCurrency::Named)
            }
        }
    }

    /// Whether the money is in `expected`, the currency of the pledge or gift it pays: so
    /// named, or not named at all.
    pub fn is(self, expected: Currency) -> bool {
        match self {
            ReportedCurrency::Named(currency) => currency == expected,
            ReportedCurrency::Unsaid => true,
            ReportedCurrency::Unreadable => false,
        }
    }
}

impl fmt::Display for ReportedCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportedCurrency::Named(currency) => currency.fmt(f),
            ReportedCurrency::Unsaid => f.write_str("unsaid"),
            ReportedCurrency::Unreadable => f.write_str("unreadable"),
        }
    }
}

/// An amount in integer cents (the currency's minor unit) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub cents: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(cents: i64, currency: Currency) -> Money {
        Money { cents, currency }
    }
}

/// The French way; whole amounts drop the decimals (`30 €`, `1 234,50 €`).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        let units = group_thousands(abs / 100);
        let decimals = abs % 100;
        let symbol = self.currency.symbol();
        if decimals == 0 {
            write!(f, "{sign}{units}{BEFORE_SIGN}{symbol}")
        } else {
            write!(f, "{sign}{units},{decimals:02}{BEFORE_SIGN}{symbol}")
        }
    }
}

/// Formats cents of `currency` the French way ([`Money`]'s display).
pub fn format_money(cents: i64, currency: Currency) -> String {
    Money::new(cents, currency).to_string()
}

/// Cents as a donor types euros into a form field: `45`, `12,50` (no grouping, no sign), so
/// that the field reads back as the same amount.
pub fn euros_as_typed(cents: i64) -> String {
    match cents % 100 {
        0 => (cents / 100).to_string(),
        rest => format!("{},{:02}", cents / 100, rest.abs()),
    }
}

/// Formats a whole number with French digit grouping (`12 345`).
pub fn format_count(n: i64) -> String {
    let grouped = group_thousands(n.unsigned_abs());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(THOUSANDS);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: String) -> String {
        s.replace(['\u{202F}', '\u{00A0}'], " ")
    }

    #[test]
    fn whole_euros_have_no_decimals() {
        assert_eq!(plain(format_money(3000, Currency::EUR)), "30 €");
        let eur = Currency::parse("eur").unwrap();
        assert_eq!(plain(format_money(0, eur)), "0 €");
    }

    #[test]
    fn cents_use_a_comma_and_thousands_are_grouped() {
        assert_eq!(plain(format_money(123_450, Currency::EUR)), "1 234,50 €");
        assert_eq!(
            plain(format_money(100_000_005, Currency::EUR)),
            "1 000 000,05 €"
        );
        assert_eq!(plain(format_money(-1_250, Currency::EUR)), "-12,50 €");
    }

    #[test]
    fn currencies_are_three_letters_kept_upper_case() {
        assert_eq!(Currency::parse("eur"), Some(Currency::EUR));
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert_eq!(Currency::EUR.to_lowercase(), "eur");
        for wrong in ["", "eu", "euro", "e1r", "€€"] {
            assert_eq!(Currency::parse(wrong), None, "{wrong}");
        }
        assert_eq!(
            plain(Money::new(500, Currency::parse("CHF").unwrap()).to_string()),
            "5 CHF"
        );
    }

    #[test]
    fn money_is_taken_in_its_pledge_s_currency_unless_named_otherwise() {
        let reported = ReportedCurrency::of;
        assert!(reported(Some("eur")).is(Currency::EUR));
        assert!(reported(None).is(Currency::EUR), "unsaid: the pledge's");
        let usd = Currency::parse("USD").unwrap();
        assert!(reported(None).is(usd));
        assert!(!reported(Some("usd")).is(Currency::EUR));
        assert_eq!(reported(Some("euro")), ReportedCurrency::Unreadable);
        assert!(
            !reported(Some("euro")).is(Currency::EUR),
            "no code: refused"
        );
    }

    #[test]
    fn amounts_as_typed_read_back_the_same() {
        assert_eq!(euros_as_typed(4_500), "45");
        assert_eq!(euros_as_typed(4_550), "45,50");
        assert_eq!(euros_as_typed(5), "0,05");
        assert_eq!(euros_as_typed(100_000), "1000");
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(plain(format_count(999)), "999");
        assert_eq!(plain(format_count(12_345)), "12 345");
        assert_eq!(plain(format_count(1_000_000)), "1 000 000");
    }
}
