//! Calendar arithmetic for billing periods: Stripe bills monthly and yearly plans on the
//! anchor's day of month, clamped to the month's last day (31 Jan → 28 Feb → 31 Mar).

use time::{Date, Month, OffsetDateTime};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Real time, in unix seconds (the sandbox clock adds its offset to it).
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Billing interval of a recurring price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Interval> {
        match s {
            "month" => Some(Interval::Month),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// "par mois" / "par an".
    pub fn french(self) -> &'static str {
        match self {
            Interval::Month => "par mois",
            Interval::Year => "par an",
        }
    }

    fn months(self) -> i64 {
        match self {
            Interval::Month => 1,
            Interval::Year => 12,
        }
    }
}

/// The end of period number `n` (1 = the first) of a subscription anchored at `anchor`.
/// Counting from the anchor, not from the previous end, keeps the day of month stable.
pub fn period_end(anchor: i64, interval: Interval, n: i64) -> i64 {
    add_months(anchor, interval.months() * n)
}

fn add_months(unix: i64, months: i64) -> i64 {
    let Ok(start) = OffsetDateTime::from_unix_timestamp(unix) else {
        return unix;
    };
    let index = i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1 + months;
    let (Ok(year), Ok(month_number)) = (
        i32::try_from(index.div_euclid(12)),
        u8::try_from(index.rem_euclid(12) + 1),
    ) else {
        return unix;
    };
    let Ok(month) = Month::try_from(month_number) else {
        return unix;
    };
    let day = start.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => date.with_time(start.time()).assume_utc().unix_timestamp(),
        Err(_) => unix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-31T10:00:00Z
    const JAN_31: i64 = 1_769_853_600;

    fn ymd(unix: i64) -> (i32, u8, u8) {
        let t = OffsetDateTime::from_unix_timestamp(unix).unwrap();
        (t.year(), u8::from(t.month()), t.day())
    }

    #[test]
    fn months_clamp_to_the_last_day_and_come_back() {
        assert_eq!(ymd(JAN_31), (2026, 1, 31));
        assert_eq!(ymd(period_end(JAN_31, Interval::Month, 1)), (2026, 2, 28));
        assert_eq!(ymd(period_end(JAN_31, Interval::Month, 2)), (2026, 3, 31));
        assert_eq!(ymd(period_end(JAN_31, Interval::Month, 12)), (2027, 1, 31));
        assert_eq!(period_end(JAN_31, Interval::Month, 0), JAN_31);
    }

    #[test]
    fn years_are_calendar_years() {
        assert_eq!(ymd(period_end(JAN_31, Interval::Year, 1)), (2027, 1, 31));
        // Time of day is kept.
        assert_eq!((period_end(JAN_31, Interval::Year, 1) - JAN_31) % 86_400, 0);
    }
}
