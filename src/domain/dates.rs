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

/// The last Sunday of `month` of `year`, at 01:00 UTC: when France changes its clocks.
fn clock_change(year: i32, month: time::Month) -> i64 {
    let last_day = time::util::days_in_month(month, year);
    let Ok(last) = time::Date::from_calendar_date(year, month, last_day) else {
        return 0;
    };
    let back = i64::from(last.weekday().number_days_from_sunday());
    last.midnight().assume_utc().unix_timestamp() - back * DAY + HOUR
}

/// France's offset from UTC at a time: one hour, two in summer (from the last Sunday of
/// March to the last Sunday of October, 01:00 UTC both), as the EU rule has it since 1996.
pub fn paris_offset(unix: i64) -> i64 {
    let year = year_of(unix);
    let summer = clock_change(year, time::Month::March)..clock_change(year, time::Month::October);
    if summer.contains(&unix) {
        2 * HOUR
    } else {
        HOUR
    }
}

/// The calendar year in France: what a tax receipt counts a gift in (a gift made on
/// 31 December at 23:30 in Paris is of that year, though it is already January in UTC… and the
/// other way round).
pub fn paris_year(unix: i64) -> i32 {
    year_of(unix + paris_offset(unix))
}

/// `1er décembre 2026`, as the day is in France.
pub fn paris_date(unix: i64) -> String {
    french_date(unix + paris_offset(unix))
}

/// The first second of a year in France.
pub fn paris_year_start(year: i32) -> i64 {
    let midnight = time::Date::from_calendar_date(year, time::Month::January, 1)
        .map_or(0, |d| d.midnight().assume_utc().unix_timestamp());
    // New Year is always in winter time.
    midnight - HOUR
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
    fn france_is_an_hour_ahead_in_winter_and_two_in_summer() {
        // 2026: clocks go forward on 29 March and back on 25 October, at 01:00 UTC.
        let march_29 = 1_774_742_400; // 2026-03-29T00:00:00Z
        assert_eq!(paris_offset(march_29 + HOUR - 1), HOUR);
        assert_eq!(paris_offset(march_29 + HOUR), 2 * HOUR);
        let october_25 = 1_792_886_400; // 2026-10-25T00:00:00Z
        assert_eq!(paris_offset(october_25 + HOUR - 1), 2 * HOUR);
        assert_eq!(paris_offset(october_25 + HOUR), HOUR);
        // 31 December 2026, 23:30 in Paris is 22:30 UTC; 1 January 2027, 00:30 in Paris is
        // 23:30 UTC the day before.
        let new_year_utc = 1_798_761_600; // 2027-01-01T00:00:00Z
        assert_eq!(paris_year(new_year_utc - 90 * MINUTE), 2026);
        assert_eq!(paris_year(new_year_utc - 30 * MINUTE), 2027);
        assert_eq!(paris_year_start(2027), new_year_utc - HOUR);
        assert_eq!(paris_date(new_year_utc - 30 * MINUTE), "1er janvier 2027");
        assert_eq!(
            paris_date(october_25 + 22 * HOUR + 30 * MINUTE),
            "25 octobre 2026"
        );
        assert_eq!(
            paris_date(march_29 + 22 * HOUR + 30 * MINUTE),
            "30 mars 2026"
        );
    }

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
