//! French display for the sandbox's own pages: amounts (`1 234,50 €`) and dates
//! (`29 novembre 2026`). A few lines of its own, so the crate needs nothing of Obole's.

use time::OffsetDateTime;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// Cents with French grouping (narrow no-break space), a decimal comma when not whole, and
/// the currency's sign after a no-break space.
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut units = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            units.push('\u{202F}');
        }
        units.push(digit);
    }
    let symbol = match currency.to_ascii_uppercase().as_str() {
        "EUR" => "€".to_owned(),
        other => other.to_owned(),
    };
    match abs % 100 {
        0 => format!("{sign}{units}\u{00A0}{symbol}"),
        decimals => format!("{sign}{units},{decimals:02}\u{00A0}{symbol}"),
    }
}

/// Cents as typed into a form field (`45`, `12,50`), so the field reads back the same amount.
pub fn euros_as_typed(cents: i64) -> String {
    match cents % 100 {
        0 => (cents / 100).to_string(),
        rest => format!("{},{:02}", cents / 100, rest.abs()),
    }
}

/// `29 novembre 2026` (UTC), or an empty string for an impossible timestamp.
pub fn french_date(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{} {} {}",
            t.day(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year()
        ),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: String) -> String {
        s.replace(['\u{202F}', '\u{00A0}'], " ")
    }

    #[test]
    fn amounts_and_dates_read_the_french_way() {
        assert_eq!(plain(format_money(3000, "eur")), "30 €");
        assert_eq!(plain(format_money(123_450, "EUR")), "1 234,50 €");
        assert_eq!(plain(format_money(-5, "usd")), "-0,05 USD");
        assert_eq!(euros_as_typed(1250), "12,50");
        assert_eq!(euros_as_typed(4500), "45");
        assert_eq!(french_date(1_795_960_800), "29 novembre 2026");
    }
}
