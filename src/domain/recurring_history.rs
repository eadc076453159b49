//! Recurring gifts month by month, for the back-office: how many started and stopped, how
//! many ran at the month's end, their monthly revenue then, and the churn (those that stopped
//! over those running at the month's start). Amounts are the gifts' current ones: Obole does
//! not keep a history of amount changes.

use time::{Date, Month, OffsetDateTime};

/// One recurring gift's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiftSpan {
    pub created_at: i64,
    pub canceled_at: Option<i64>,
    /// What it brings a month (a yearly gift: a twelfth).
    pub monthly_cents: i64,
}

impl GiftSpan {
    fn running_at(&self, at: i64) -> bool {
        self.created_at < at && self.canceled_at.is_none_or(|end| end >= at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthFigures {
    /// The month's first second (UTC).
    pub start: i64,
    pub started: i64,
    pub stopped: i64,
    pub running_at_end: i64,
    pub monthly_revenue_at_end: i64,
    /// Stopped over running at the month's start, in thousandths; `None` when none ran.
    pub churn_permille: Option<i64>,
}

/// The first second of `months` consecutive months (UTC), the last being `now`'s.
pub fn month_starts(now: i64, months: usize) -> Vec<i64> {
    let today = OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    let (mut year, mut month) = (today.year(), today.month());
    let mut starts = Vec::with_capacity(months);
    for _ in 0..months {
        if let Ok(first) = Date::from_calendar_date(year, month, 1) {
            starts.push(first.midnight().assume_utc().unix_timestamp());
        }
        if month == Month::January {
            year -= 1;
        }
        month = month.previous();
    }
    starts.reverse();
    starts
}

/// Each month from `starts` (its end: the next start, or `now` for the last one).
pub fn by_month(gifts: &[GiftSpan], starts: &[i64], now: i64) -> Vec<MonthFigures> {
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(now + 1);
            let within = |at: i64| at >= start && at < end;
            let running_at_start = gifts.iter().filter(|g| g.running_at(start)).count() as i64;
            let stopped = gifts
                .iter()
                .filter(|g| g.canceled_at.is_some_and(within))
                .count() as i64;
            let running: Vec<&GiftSpan> = gifts.iter().filter(|g| g.running_at(end)).collect();
            MonthFigures {
                start,
                started: gifts.iter().filter(|g| within(g.created_at)).count() as i64,
                stopped,
                running_at_end: running.len() as i64,
                monthly_revenue_at_end: running.iter().map(|g| g.monthly_cents).sum(),
                churn_permille: (running_at_start > 0).then(|| stopped * 1000 / running_at_start),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn twelve_months_end_with_the_current_one() {
        // 2026-12-01T21:09:11Z
        let starts = month_starts(1_796_159_351, 12);
        assert_eq!(starts.len(), 12);
        assert_eq!(starts[11], 1_796_083_200, "2026-12-01");
        assert_eq!(starts[0], 1_767_225_600, "2026-01-01");
    }

    #[test]
    fn each_month_counts_starts_stops_and_what_runs_at_its_end() {
        let jan = 1_767_225_600;
        let feb = jan + 31 * DAY;
        let mar = feb + 28 * DAY;
        let now = mar + 10 * DAY;
        let gifts = [
            // Running since before January.
            GiftSpan {
                created_at: jan - DAY,
                canceled_at: None,
                monthly_cents: 1_000,
            },
            // Started in January, stopped in February.
            GiftSpan {
                created_at: jan + DAY,
                canceled_at: Some(feb + DAY),
                monthly_cents: 2_000,
            },
            // Started in March.
            GiftSpan {
                created_at: mar + DAY,
                canceled_at: None,
                monthly_cents: 500,
            },
        ];
        let months = by_month(&gifts, &[jan, feb, mar], now);
        assert_eq!(
            (
                months[0].started,
                months[0].stopped,
                months[0].running_at_end
            ),
            (1, 0, 2)
        );
        assert_eq!(months[0].monthly_revenue_at_end, 3_000);
        assert_eq!(months[0].churn_permille, Some(0));
        assert_eq!(
            (
                months[1].started,
                months[1].stopped,
                months[1].running_at_end
            ),
            (0, 1, 1)
        );
        assert_eq!(
            months[1].churn_permille,
            Some(500),
            "one of the two running at its start"
        );
        assert_eq!((months[2].started, months[2].running_at_end), (1, 2));
        assert_eq!(months[2].monthly_revenue_at_end, 1_500);
    }
}
