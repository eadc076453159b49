//! Money as integer cents and its French display (`1 234,50 €`). Never floats.

/// Narrow no-break space: the French thousands separator.
const THOUSANDS: char = '\u{202F}';
/// No-break space between the amount and the currency sign.
const BEFORE_SIGN: char = '\u{00A0}';

/// Formats cents the French way; whole amounts drop the decimals (`30 €`, `1 234,50 €`).
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = group_thousands(abs / 100);
    let decimals = abs % 100;
    let symbol = currency_symbol(currency);
    if decimals == 0 {
        format!("{sign}{units}{BEFORE_SIGN}{symbol}")
    } else {
        format!("{sign}{units},{decimals:02}{BEFORE_SIGN}{symbol}")
    }
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

fn currency_symbol(currency: &str) -> &str {
    match currency.to_ascii_uppercase().as_str() {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "CHF" => "CHF",
        _ => currency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: String) -> String {
        s.replace(['\u{202F}', '\u{00A0}'], " ")
    }

    #[test]
    fn whole_euros_have_no_decimals() {
        assert_eq!(plain(format_money(3000, "EUR")), "30 €");
        assert_eq!(plain(format_money(0, "eur")), "0 €");
    }

    #[test]
    fn cents_use_a_comma_and_thousands_are_grouped() {
        assert_eq!(plain(format_money(123_450, "EUR")), "1 234,50 €");
        assert_eq!(plain(format_money(100_000_005, "EUR")), "1 000 000,05 €");
        assert_eq!(plain(format_money(-1_250, "EUR")), "-12,50 €");
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
