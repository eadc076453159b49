//! View models: store rows turned into what templates show, already formatted in French.

use crate::domain::campaign::CampaignStatus;
use crate::domain::dates;
use crate::domain::impact::{self, Reach};
use crate::domain::money::{Currency, format_count, format_money};
use crate::domain::progress::{Progress, TimeLeft};
use crate::markdown::{self, SafeHtml};
use crate::store::campaigns::{Campaign, ImpactTier, PublicSupporter};
use crate::store::news::NewsPost;
use crate::store::projects::Project;

/// A campaign as a card or a page header: progress, donors, time left.
#[derive(Debug, Clone)]
pub struct CampaignView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub story: SafeHtml,
    pub cover_image: String,
    pub project_slug: String,
    pub project_name: String,
    pub raised: String,
    pub goal: String,
    pub percent: i64,
    pub bar_width: i64,
    pub donors: i64,
    pub donors_label: String,
    pub time_left: String,
    pub ends_on: Option<String>,
    pub closed: bool,
}

impl CampaignView {
    pub fn new(c: &Campaign, now: i64) -> CampaignView {
        let progress = Progress {
            raised_cents: c.raised_cents,
            goal_cents: c.goal_cents,
        };
        let time_left = TimeLeft::at(now, c.ends_at);
        CampaignView {
            slug: c.slug.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            story: markdown::to_html(&c.story),
            cover_image: c.cover_image.clone(),
            project_slug: c.project_slug.clone(),
            project_name: c.project_name.clone(),
            raised: format_money(c.raised_cents, c.currency),
            goal: format_money(c.goal_cents, c.currency),
            percent: progress.percent(),
            bar_width: progress.bar_width(),
            donors: c.donors,
            donors_label: donors_label(c.donors),
            time_left: time_left.label(),
            ends_on: c.ends_at.map(dates::french_date),
            closed: c.status == CampaignStatus::Closed || time_left == TimeLeft::Ended,
        }
    }
}

/// `1 donateur`, `1 234 donateurs`.
pub fn donors_label(n: i64) -> String {
    if n <= 1 {
        format!("{n} donateur")
    } else {
        format!("{} donateurs", format_count(n))
    }
}

#[derive(Debug, Clone)]
pub struct ImpactTierView {
    pub amount: String,
    pub label: String,
}

impl ImpactTierView {
    pub fn new(tier: &ImpactTier, currency: Currency) -> ImpactTierView {
        ImpactTierView {
            amount: format_money(tier.amount_cents, currency),
            label: tier.label.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SupporterView {
    pub name: String,
    pub date: String,
    pub dedication: Option<String>,
}

impl SupporterView {
    pub fn new(s: &PublicSupporter) -> SupporterView {
        let dedication = match (s.dedication_kind, s.dedication_name.as_deref()) {
            (Some(kind), Some(name)) => Some(format!("{} {name}", kind.words())),
            _ => None,
        };
        SupporterView {
            name: s.public_name.clone(),
            // Never after today: the demo's sandbox clock, moved ahead to show a monthly
            // gift's renewals, dates those gifts in the future.
            date: dates::french_date(s.donated_at.min(dates::now())),
            dedication,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewsView {
    pub title: String,
    pub date: String,
    pub body: SafeHtml,
}

impl NewsView {
    pub fn new(post: &NewsPost) -> NewsView {
        NewsView {
            title: post.title.clone(),
            date: dates::french_date(post.published_at),
            body: markdown::to_html(&post.body),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProjectView {
    pub slug: String,
    pub name: String,
    pub full_name: String,
    pub tagline: String,
    pub description: SafeHtml,
    pub location: String,
    pub cover_image: String,
    pub raised: String,
    pub reach: Option<ReachView>,
    /// Its page stays; it is off the home page.
    pub closed: bool,
}

#[derive(Debug, Clone)]
pub struct ReachView {
    pub count: String,
    pub label: String,
}

impl From<Reach> for ReachView {
    fn from(r: Reach) -> Self {
        ReachView {
            count: format_count(r.count),
            label: r.label,
        }
    }
}

impl ProjectView {
    pub fn new(p: &Project) -> ProjectView {
        ProjectView {
            slug: p.slug.clone(),
            name: p.name.clone(),
            full_name: p.full_name.clone(),
            tagline: p.tagline.clone(),
            description: markdown::to_html(&p.description),
            location: p.location.clone(),
            cover_image: p.cover_image.clone(),
            raised: format_money(p.raised_cents, Currency::EUR),
            reach: impact::reach(
                p.raised_cents,
                p.impact_unit_cents,
                p.impact_unit_label.as_deref(),
            )
            .map(Into::into),
            closed: p.status == CampaignStatus::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn donors_label_agrees() {
        assert_eq!(donors_label(0), "0 donateur");
        assert_eq!(donors_label(1), "1 donateur");
        assert_eq!(donors_label(2), "2 donateurs");
    }
}
