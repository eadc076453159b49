//! What every page's frame needs: the organisation, the stylesheet, the demo banner.

use super::AppState;
use super::assets;
use super::identity::Identity;

#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub organisation: String,
    pub stylesheet: String,
    /// "Mode démonstration — aucun paiement réel".
    pub demo: bool,
    pub description: String,
    /// The organisation's logo and status ([`super::identity`]).
    pub identity: Identity,
    /// The preview a shared link shows (Open Graph), on pages worth sharing.
    pub card: Option<SocialCard>,
}

/// What a link preview shows beside the title and description: the page's own address and
/// a picture, both absolute.
#[derive(Debug, Clone)]
pub struct SocialCard {
    pub url: String,
    pub image: String,
}

impl Layout {
    pub fn new(state: &AppState, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            organisation: state.config.organisation_name.clone(),
            stylesheet: assets::versioned_url("app.css"),
            demo: state.config.demo_mode(),
            description: String::new(),
            identity: state.identity.current(&state.db),
            card: None,
        }
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Layout {
        self.description = description.into();
        self
    }

    pub fn with_card(mut self, card: SocialCard) -> Layout {
        self.card = Some(card);
        self
    }
}
