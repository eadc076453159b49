//! A campaign's progress towards its goal and the time it has left.

use super::dates::DAY;

/// Raised against goal, as shown by a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub raised_cents: i64,
    pub goal_cents: i64,
}

impl Progress {
    /// Whole percent reached, floored; may pass 100 when a campaign is over-funded.
    pub fn percent(&self) -> i64 {
        if self.goal_cents <= 0 {
            return 0;
        }
        let raised = i128::from(self.raised_cents.max(0));
        let percent = raised * 100 / i128::from(self.goal_cents);
        i64::try_from(percent).unwrap_or(i64::MAX)
    }

    /// Width of the bar, 0 to 100.
    pub fn bar_width(&self) -> i64 {
        self.percent().clamp(0, 100)
    }
}

impl Progress {
    /// What must come in each day to reach the goal by the deadline; `None` when it is
    /// reached, or there is no deadline (or it has passed).
    pub fn pace_per_day(&self, time_left: TimeLeft) -> Option<i64> {
        let missing = self.goal_cents - self.raised_cents;
        match time_left.days() {
            Some(days) if missing > 0 && days > 0 => Some((missing + days - 1) / days),
            _ => None,
        }
    }
}

/// What the campaign page says about the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLeft {
    NoDeadline,
    /// Whole days left, counting a started day as one.
    Days(i64),
    Ended,
}

impl TimeLeft {
    pub fn at(now: i64, ends_at: Option<i64>) -> Self {
        match ends_at {
            None => TimeLeft::NoDeadline,
            Some(end) if end <= now => TimeLeft::Ended,
            Some(end) => TimeLeft::Days((end - now + DAY - 1) / DAY),
        }
    }

    /// French label: `Plus que 12 jours`, `Dernier jour`, `Campagne terminée`.
    pub fn label(&self) -> String {
        match self {
            TimeLeft::NoDeadline => "Sans date de fin".to_owned(),
            TimeLeft::Days(1) => "Dernier jour".to_owned(),
            TimeLeft::Days(n) => format!("Plus que {n} jours"),
            TimeLeft::Ended => "Campagne terminée".to_owned(),
        }
    }

    pub fn days(&self) -> Option<i64> {
        match self {
            TimeLeft::Days(n) => Some(*n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_spreads_what_is_missing_over_the_days_left_rounded_up() {
        let p = Progress {
            raised_cents: 1_000,
            goal_cents: 10_000,
        };
        assert_eq!(p.pace_per_day(TimeLeft::Days(4)), Some(2_250));
        assert_eq!(p.pace_per_day(TimeLeft::Days(7)), Some(1_286));
        assert_eq!(p.pace_per_day(TimeLeft::NoDeadline), None);
        assert_eq!(p.pace_per_day(TimeLeft::Ended), None);
        let reached = Progress {
            raised_cents: 10_000,
            goal_cents: 10_000,
        };
        assert_eq!(reached.pace_per_day(TimeLeft::Days(3)), None);
    }

    #[test]
    fn percent_is_floored_and_bar_is_capped() {
        let p = Progress {
            raised_cents: 1_999,
            goal_cents: 10_000,
        };
        assert_eq!(p.percent(), 19);
        let over = Progress {
            raised_cents: 25_000,
            goal_cents: 10_000,
        };
        assert_eq!(over.percent(), 250);
        assert_eq!(over.bar_width(), 100);
        let zero_goal = Progress {
            raised_cents: 5,
            goal_cents: 0,
        };
        assert_eq!(zero_goal.percent(), 0);
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        let p = Progress {
            raised_cents: i64::MAX,
            goal_cents: 1,
        };
        assert_eq!(p.percent(), i64::MAX);
    }

    #[test]
    fn a_started_day_counts_as_one() {
        assert_eq!(TimeLeft::at(0, Some(1)), TimeLeft::Days(1));
        assert_eq!(TimeLeft::at(0, Some(DAY)), TimeLeft::Days(1));
        assert_eq!(TimeLeft::at(0, Some(DAY + 1)), TimeLeft::Days(2));
        assert_eq!(TimeLeft::at(10, Some(10)), TimeLeft::Ended);
        assert_eq!(TimeLeft::at(10, None), TimeLeft::NoDeadline);
        assert_eq!(TimeLeft::Days(12).label(), "Plus que 12 jours");
        assert_eq!(TimeLeft::Days(1).label(), "Dernier jour");
    }
}
