//! CSV files made for French spreadsheets: UTF-8 with a byte-order mark (else Excel reads
//! Latin-1), `;` between cells (the comma is the decimal separator), amounts with a decimal
//! comma, and cells that a spreadsheet would run as a formula neutralised.

/// What a file starts with, so that Excel reads it as UTF-8.
pub const BOM: &str = "\u{feff}";

/// A CSV writer into memory, the byte-order mark already written.
pub fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(BOM.as_bytes().to_vec())
}

/// A cell as typed by someone (a name, a comment): a leading `=`, `+`, `-`, `@`, tab or
/// carriage return would make a spreadsheet run it as a formula, so it gets a `'` first.
pub fn text(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Cents as a number a French spreadsheet reads: `12,50`, `-3,00`.
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02}", cents / 100, cents % 100)
}

/// A date a French spreadsheet reads as one: `01/12/2026` (UTC).
pub fn date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{:02}/{:02}/{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_kept() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("+33 1"), "'+33 1");
        assert_eq!(text("-1"), "'-1");
        assert_eq!(text("@SUM"), "'@SUM");
        assert_eq!(text("Marie"), "Marie");
        assert_eq!(text(""), "");
    }

    #[test]
    fn amounts_and_dates_read_the_french_way() {
        assert_eq!(amount(1250), "12,50");
        assert_eq!(amount(5), "0,05");
        assert_eq!(amount(-300), "-3,00");
        assert_eq!(date(1_764_547_200), "01/12/2025");
    }

    #[test]
    fn the_file_starts_with_a_byte_order_mark_and_uses_semicolons() {
        let mut csv = writer();
        csv.write_record(["a;b", "c"]).unwrap();
        let bytes = csv.into_inner().unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "\u{feff}\"a;b\";c\n");
    }
}
