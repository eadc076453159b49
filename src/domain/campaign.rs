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
