//! Time as unix seconds, and its French display (`29 novembre 2026`).

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

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

/// Now, in unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The calendar year (UTC) of a timestamp; 1970 for an impossible one.
pub fn year_of(unix: i64) -> i32 {
    OffsetDateTime::from_unix_timestamp(unix).map_or(1970, |t| t.year())
}

/// `29 novembre 2026`, `1er décembre 2026` (UTC), or an empty string for an impossible
/// timestamp.
pub fn french_date(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{}{} {} {}",
            t.day(),
            if t.day() == 1 { "er" } else { "" },
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year()
        ),
        Err(_) => String::new(),
    }
}

/// `29 novembre 2026 à 08:05 UTC`, for operators.
pub fn french_datetime(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{} à {:02}:{:02} UTC",
            french_date(unix),
            t.hour(),
            t.minute()
        ),
        Err(_) => String::new(),
    }
}

/// RFC 3339 (`2026-11-29T08:00:00Z`), for the JSON API.
pub fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_french() {
        assert_eq!(french_date(1_795_910_400), "29 novembre 2026");
        assert_eq!(
            french_date(0),
            "1er janvier 1970",
            "the first of the month is an ordinal"
        );
        assert_eq!(french_date(1_786_233_600), "9 août 2026");
        assert_eq!(
            french_datetime(1_795_910_400 + 8 * 3600 + 5 * 60),
            "29 novembre 2026 à 08:05 UTC"
        );
    }

    #[test]
    fn rfc3339_is_utc() {
        assert_eq!(
            rfc3339(1_795_910_400).as_deref(),
            Some("2026-11-29T00:00:00Z")
        );
    }
}
