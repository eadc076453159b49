//! Where a campaign stands: being written, taking gifts, or over.

use super::text_enum::text_enum;

text_enum! {
    #[derive(serde::Deserialize, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum CampaignStatus ("statut de campagne") {
        /// Not public yet.
        Draft => "draft",
        Published => "published",
        /// Public, no longer taking gifts.
        Closed => "closed",
    }
}

/// Projects are drafted, published and closed the same way: a draft project is not public; a
/// closed one keeps its page, off the home page.
pub type ProjectStatus = CampaignStatus;

/// Whether a campaign of that status may belong to a project of that one: a public page
/// (a campaign, even closed) never links to a hidden one (a draft project).
pub fn may_belong(campaign: CampaignStatus, project: ProjectStatus) -> bool {
    campaign == CampaignStatus::Draft || project != CampaignStatus::Draft
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::*;
    use super::*;

    #[test]
    fn a_public_campaign_needs_a_public_project() {
        for project in [Draft, Published, Closed] {
            assert!(may_belong(Draft, project));
        }
        for campaign in [Published, Closed] {
            assert!(!may_belong(campaign, Draft));
            assert!(may_belong(campaign, Published));
            assert!(may_belong(campaign, Closed));
        }
    }
}
